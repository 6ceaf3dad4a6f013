"""A real HTTP server on 127.0.0.1 for tests: routes the test can change while it runs.

Each route answers with a body, a status and headers; it honours
``If-None-Match`` against its ETag, can be slow, and counts its requests.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Route:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/xml"
    headers: dict[str, str] = field(default_factory=dict)
    etag: bool = True  # send an ETag and honour If-None-Match
    delay: float = 0.0  # seconds before answering
    # Shared by routes that answer only once each has a request waiting (up
    # to 30 s): requests made at once by several processes overlap for sure.
    together: threading.Barrier | None = None
    trickle: float = 0.0  # seconds between bytes of the body (a slow server)
    gzip: bool = False  # send the body gzip-encoded as is (pre-compressed bodies)
    # A body made on the fly and sent chunked, without Content-Length (huge bodies).
    stream: Callable[[], Iterable[bytes]] | None = None
    # The whole answer, status line and headers too, sent as it is and the
    # connection closed: for responses that are not well-formed HTTP.
    raw: bytes | None = None
    # Headers a request must carry, with these values, else it is answered
    # 401 (a private feed); names in any case, as HTTP compares them.
    require: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    last_headers: dict[str, str] = field(default_factory=dict)

    @property
    def etag_value(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


class FeedServer:
    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self._stopping = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                route = server.routes.get(self.path)
                if route is None:
                    self._send(404, b"not found", {"Content-Type": "text/plain"})
                    return
                route.requests += 1
                route.last_headers = dict(self.headers.items())
                if route.raw is not None:
                    self.close_connection = True
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self.wfile.write(route.raw)
                    return
                if any(self.headers.get(name) != value for name, value in route.require.items()):
                    self._send(401, b"unauthorized", {"Content-Type": "text/plain"})
                    return
                if route.delay:
                    server._stopping.wait(route.delay)
                if route.together is not None:
                    with contextlib.suppress(threading.BrokenBarrierError):
                        route.together.wait(timeout=30)
                headers = {"Content-Type": route.content_type, **route.headers}
                if route.etag and route.status == 200:
                    headers["ETag"] = route.etag_value
                    if self.headers.get("If-None-Match") == route.etag_value:
                        self._send(304, b"", headers)
                        return
                body = route.body
                if route.gzip:
                    headers["Content-Encoding"] = "gzip"
                if route.stream is not None:
                    self._stream(route.status, route.stream(), headers)
                    return
                self._send(route.status, body, headers, trickle=route.trickle)

            def _stream(
                self, status: int, chunks: Iterable[bytes], headers: dict[str, str]
            ) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    for chunk in chunks:
                        if server._stopping.is_set():
                            return
                        if chunk:
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                    self.wfile.write(b"0\r\n\r\n")
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _send(
                self, status: int, body: bytes, headers: dict[str, str], trickle: float = 0.0
            ) -> None:
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    if status != 304:
                        self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    if status == 304:
                        return
                    if not trickle:
                        self.wfile.write(body)
                        return
                    for index in range(len(body)):
                        if server._stopping.wait(trickle):
                            return
                        self.wfile.write(body[index : index + 1])
                        self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # clients that hang up (timeouts, caps) are expected here

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def add(self, path: str, route: Route) -> Route:
        self.routes[path] = route
        return route

    def start(self) -> FeedServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
