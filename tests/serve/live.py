"""The app on a real socket: 127.0.0.1, a free port, its own event loop in a thread.

The app runs under :class:`aggregator.serve.Server`, as the daemon runs it,
so the connection limits and timeouts are the ones readers meet.  Requests go
through ``http.client``, which sends the path exactly as given (no
normalisation of ``..``), decodes nothing and raises on no status code.
"""

from __future__ import annotations

import asyncio
import http.client
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from aiohttp import web

from aggregator.serve import Server
from aggregator.serve.connections import Counts, Limits

T = TypeVar("T")


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lowercased; the tests send no repeated headers
    body: bytes


@dataclass
class Controls:
    """What the test changes while the server runs: the app's callbacks read these."""

    healthy: bool = True
    published: bool = True
    status: dict[str, object] = field(default_factory=dict)
    opml: bytes = b""
    opml_calls: int = 0
    status_calls: int = 0


class LiveServer:
    def __init__(self, app: web.Application, limits: Limits | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.server = Server(app, limits=limits)
        self.port = 0

    def start(self) -> LiveServer:
        self._thread.start()
        self.call(self.server.start("127.0.0.1", 0))
        self.port = self.server.port
        return self

    def stop(self) -> None:
        self.call(self.server.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def call(self, coroutine: object, timeout: float = 5) -> object:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)  # type: ignore[arg-type]

    def on_loop(self, function: Callable[[], T]) -> T:
        """``function()`` run on the server's loop, so it sees a consistent state."""

        async def run() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=5)

    def counts(self) -> Counts:
        guard = self.server.guard
        assert guard is not None
        return self.on_loop(lambda: replace(guard.counts, notices=dict(guard.counts.notices)))

    def open_connections(self) -> int:
        guard = self.server.guard
        assert guard is not None
        return self.on_loop(lambda: guard.open)

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)

    def raw(self, *, receive_buffer: int | None = None) -> socket.socket:
        """A plain TCP connection to the server, sending nothing until told to."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if receive_buffer is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        sock.settimeout(5)
        sock.connect(("127.0.0.1", self.port))
        return sock

    def request(
        self,
        path: str,
        headers: dict[str, str] | None = None,
        *,
        method: str = "GET",
        connection: http.client.HTTPConnection | None = None,
    ) -> Reply:
        own = connection is None
        conn = connection or self.connect()
        try:
            conn.request(method, path, headers=headers or {})
            response = conn.getresponse()
            body = response.read()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
        finally:
            if own:
                conn.close()


def closed_by_peer(sock: socket.socket, timeout: float = 5.0) -> bool:
    """Whether the server closes ``sock`` within ``timeout`` seconds (reading and dropping data)."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except TimeoutError:
        return False
    return False
