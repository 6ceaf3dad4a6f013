"""The app on a real socket: 127.0.0.1, a free port, its own event loop in a thread.

Requests go through ``http.client``, which sends the path exactly as given
(no normalisation of ``..``), decodes nothing and raises on no status code.
"""

from __future__ import annotations

import asyncio
import http.client
import threading
from dataclasses import dataclass, field

from aiohttp import web


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]  # names lowercased; the tests send no repeated headers
    body: bytes


@dataclass
class Controls:
    """What the test changes while the server runs: the app's callbacks read these."""

    healthy: bool = True
    status: dict[str, object] = field(default_factory=dict)
    opml: bytes = b""
    opml_calls: int = 0


class LiveServer:
    def __init__(self, app: web.Application) -> None:
        self._app = app
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._runner = web.AppRunner(app, access_log=None)
        self.port = 0

    def start(self) -> LiveServer:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(timeout=5)
        return self

    async def _start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host="127.0.0.1", port=0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(timeout=5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def connect(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)

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
