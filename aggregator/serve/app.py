"""The HTTP side that feed readers subscribe to: the published files, the OPML list, health.

    create_app(out_dir, status=..., healthy=..., opml=..., published=...) -> aiohttp.web.Application

Routes, GET and HEAD only (aiohttp answers 405 to anything else, 404 to
unknown paths)::

    /                      index.html              text/html, with a no-script CSP
    /feed.atom             feed.atom               application/atom+xml
    /feed.rss              feed.rss                application/rss+xml
    /feed.json             feed.json               application/feed+json
    /sections/<slug>.atom  sections/<slug>.atom    application/atom+xml; slug is [a-z0-9-]+
    /sections/<slug>.rss   sections/<slug>.rss     application/rss+xml
    /sections/<slug>.json  sections/<slug>.json    application/feed+json
    /sources.opml          opml()                  text/x-opml
    /healthz               200 "ok" / 503          while healthy() / not
    /status                JSON of status()        never cached

Files are served from memory (see :mod:`aggregator.serve.files`) with a
strong ETag, Last-Modified, gzip when the client accepts it, and 304 answers
to conditional requests.  A file missing is a 404 once the daemon has
published (``published()``); before, it is a 503 with ``Retry-After``: a
feed reader subscribing to a daemon that just started gets its feed in a
few seconds, and does not take the feed for gone.  Every client of
one version of a file shares its bytes: a body larger than ``PIECES_ABOVE``
is sent a piece at a time, each piece waiting for the reader to take the one
before, so a slow reader costs at most a couple of pieces of buffer, never a
copy of the file, and a reader that takes no piece for ``send_timeout`` is
cut off.

``status()`` and ``opml()`` read the store: each is called at most once per
``refresh`` seconds and its answer reused until then, so a flood of requests
costs one read per interval, not one per request.

The app starts no loop, thread or socket of its own: :class:`Server` runs it
on the caller's loop with the limits of :mod:`aggregator.serve.connections`
(connections, header and send timeouts).  A request aiohttp cannot parse is
answered 400 and logged as one debug line, never with a traceback.  This is
the only module that imports ``aiohttp.web`` (and the server's parse errors).
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
import os
import re
import socket
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Generic, TypeVar

from aiohttp import web
from aiohttp.http import HttpProcessingError

from aggregator.publish.layout import ATOM_FILE, JSON_FILE, PAGE_FILE, RSS_FILE, SECTIONS_DIR
from aggregator.serve.connections import Guard, Limits, descriptor_limit
from aggregator.serve.files import FileCache, Representation, Variant, represent
from aggregator.serve.negotiate import gzip_acceptable, not_modified

__all__ = ["Server", "create_app"]

log = logging.getLogger(__name__)

ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
HTML = "text/html; charset=utf-8"
OPML = "text/x-opml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"
# A section's feed's type by its file's extension (see publish.layout.section_feed_path).
_SECTION_TYPES = {"atom": ATOM, "rss": RSS, "json": JSON_FEED}

# The page is static HTML built from feed content that nh3 already cleaned;
# the policy is the second line of defence should anything slip through: no
# script runs, nothing is fetched but images, and no other site can frame it.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")

# Large bodies are sent in pieces of this size, each after the reader has
# taken most of the one before (the transport's buffer is kept below CHUNK):
# per slow reader, at most about two pieces wait in memory.
CHUNK = 32 * 1024
# A body up to this size is handed to the transport whole, as aiohttp does:
# what the socket does not take then waits in memory, no more than the two
# pieces would, and sending in pieces costs more than it saves.
PIECES_ABOVE = 2 * CHUNK
# The kernel's send buffer for a large response (Linux doubles it for its own
# bookkeeping).  Left to itself, Linux lets a loopback reader's queue grow to
# megabytes: 300 readers asking for a 4 MB feed at once had the loop copy
# 900 MB into the kernel before it could answer anything else.  512 KB still
# takes a 300 KB feed in one go, and fills a path of 40 Mbit/s at 100 ms.
SEND_BUFFER = 256 * 1024
# The send timeout when the app runs without a Server (tests' own runners).
SEND_TIMEOUT = Limits().send_timeout
# How long a Retry-After a 503 for too many large responses asks for.
BUSY_RETRY_AFTER = "60"
# How long a Retry-After a 503 for a file asked for before the daemon first
# published asks for: its first publish is a second or two after it starts.
NOT_PUBLISHED_RETRY_AFTER = "5"


def create_app(
    out_dir: Path,
    *,
    status: Callable[[], Mapping[str, object]],
    healthy: Callable[[], bool],
    opml: Callable[[], bytes],
    cache_max_age: int = 300,
    refresh: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
    feed_link: Callable[[str], str | None] = lambda path: None,
    published: Callable[[], bool] = lambda: True,
) -> web.Application:
    """The application serving ``out_dir`` (read on each request, so it may not exist yet).

    The callbacks run on the event loop, so they must not block for long:
    ``status()`` returns something ``json.dumps`` can write (datetimes become
    ISO 8601 strings), ``healthy()`` says whether the daemon is working (it is
    called for every ``/healthz``, so it must be cheap), ``opml()`` returns the
    OPML document.  ``status()`` and ``opml()`` are called at most once per
    ``refresh`` seconds of ``clock()``; 0 calls them for every request.
    ``cache_max_age`` is the seconds shared caches and readers may reuse a
    file without asking again.  ``feed_link(path)`` is the ``Link`` header
    sent with the file at ``path`` (WebSub's hubs and self link), None for none.
    ``published()`` says whether the daemon has published since it started
    (a cluster's: copied the store's files), so that a file missing is not
    there (404) rather than not there yet (503); it is called for those only.
    """
    if cache_max_age < 0:
        raise ValueError(f"cache_max_age must be >= 0, not {cache_max_age}")
    if refresh < 0:
        raise ValueError(f"refresh must be >= 0, not {refresh}")
    cacheable = {"Cache-Control": f"public, max-age={cache_max_age}"}
    files = FileCache()
    base = os.fspath(out_dir)

    def linked(relative: str, fixed: Mapping[str, str]) -> Mapping[str, str]:
        link = feed_link(relative)
        return fixed if link is None else {**fixed, "Link": link}

    def missing() -> web.Response:
        if published():
            raise web.HTTPNotFound()
        return web.Response(
            status=503,
            body=b"not published yet\n",
            headers={**_uncached(TEXT), "Retry-After": NOT_PUBLISHED_RETRY_AFTER},
        )

    def serve_file(relative: str, content_type: str, fixed: Mapping[str, str]) -> Handler:
        path = os.path.join(base, relative)

        async def handler(request: web.Request) -> web.StreamResponse:
            representation = await files.get(path)
            if representation is None:
                return missing()
            return await _respond(request, representation, content_type, linked(relative, fixed))

        return handler

    async def section(request: web.Request) -> web.StreamResponse:
        # The route's pattern limits the slug, as decoded, to [a-z0-9-]+: no
        # '/' or '.' reaches the file system, so there is nothing to traverse
        # with.  Any other name never matches the route and is a 404.
        extension = request.match_info["extension"]
        path = os.path.join(base, SECTIONS_DIR, request.match_info["slug"] + "." + extension)
        representation = await files.get(path)
        if representation is None:
            return missing()
        relative = f"{SECTIONS_DIR}/{request.match_info['slug']}.{extension}"
        headers = linked(relative, cacheable)
        return await _respond(request, representation, _SECTION_TYPES[extension], headers)

    last_opml: Representation | None = None
    opml_now = _Every(opml, refresh, clock)

    async def sources_opml(request: web.Request) -> web.StreamResponse:
        nonlocal last_opml
        data = opml_now()
        # Comparing bytes is far cheaper than hashing and compressing again,
        # and the list changes only when the configuration does.
        if last_opml is None or last_opml.identity.body != data:
            last_opml = represent(data)
        return await _respond(request, last_opml, OPML, cacheable)

    async def healthz(request: web.Request) -> web.StreamResponse:
        if healthy():
            return web.Response(body=b"ok\n", headers=_uncached(TEXT))
        return web.Response(status=503, body=b"unhealthy\n", headers=_uncached(TEXT))

    def status_body() -> bytes:
        body = json.dumps(dict(status()), default=_json_default, indent=2).encode("utf-8")
        return body + b"\n"

    status_now = _Every(status_body, refresh, clock)

    async def status_json(request: web.Request) -> web.StreamResponse:
        return web.Response(body=status_now(), headers=_uncached("application/json"))

    app = web.Application()
    app.on_response_prepare.append(_nosniff)
    router = app.router
    page_headers = {**cacheable, "Content-Security-Policy": PAGE_POLICY}
    router.add_get("/", serve_file(PAGE_FILE, HTML, page_headers))
    router.add_get(f"/{ATOM_FILE}", serve_file(ATOM_FILE, ATOM, cacheable))
    router.add_get(f"/{RSS_FILE}", serve_file(RSS_FILE, RSS, cacheable))
    router.add_get(f"/{JSON_FILE}", serve_file(JSON_FILE, JSON_FEED, cacheable))
    extensions = "|".join(_SECTION_TYPES)
    router.add_get(f"/{SECTIONS_DIR}/{{slug:[a-z0-9-]+}}.{{extension:{extensions}}}", section)
    router.add_get("/sources.opml", sources_opml)
    router.add_get("/healthz", healthz)
    router.add_get("/status", status_json)
    return app


async def _respond(
    request: web.Request,
    representation: Representation,
    content_type: str,
    fixed: Mapping[str, str],
) -> web.StreamResponse:
    """200 with the variant the client accepts, or 304 when its copy is current.

    Identity and gzip are two representations of one resource, so each has
    its own strong ETag (RFC 9110 section 8.8.3: a strong tag names exact
    bytes; its example in 8.8.3.3 gives a gzip response a tag of its own) and
    every answer, 304s included, carries ``Vary: Accept-Encoding`` so that a
    cache keeps them apart.  One shared tag would let a cache validate its
    gzip copy and then hand it to a client that cannot decode gzip; it would
    also make a range request over one variant's bytes apply to the other's.
    """
    use_gzip = representation.gzip is not None and gzip_acceptable(
        request.headers.get("Accept-Encoding")
    )
    variant = representation.gzip if use_gzip and representation.gzip else representation.identity
    headers = {**fixed, "ETag": variant.etag, "Vary": "Accept-Encoding"}
    if representation.last_modified_header is not None:
        headers["Last-Modified"] = representation.last_modified_header
    if not_modified(
        if_none_match=request.headers.get("If-None-Match"),
        if_modified_since=request.headers.get("If-Modified-Since"),
        etag=variant.etag,
        last_modified=representation.last_modified,
    ):
        # RFC 9110 section 15.4.5: a 304 repeats the validators and caching
        # headers a 200 would carry, but not the body or its Content-Type.
        return web.Response(status=304, headers=headers)
    headers["Content-Type"] = content_type
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    if request.method == "GET" and len(variant.body) > PIECES_ABOVE:
        return await _send_large(request, variant, headers)
    # aiohttp sends Content-Length for HEAD too and leaves the body out.
    return web.Response(body=variant.body, headers=headers)


async def _send_large(
    request: web.Request, variant: Variant, headers: dict[str, str]
) -> web.StreamResponse:
    """Send ``variant`` a piece at a time from the shared bytes, as fast as the reader takes it.

    A plain ``Response`` would hand the whole body to the transport at once,
    and the transport keeps whatever the socket does not take as its own copy:
    a 4 MB feed and 300 slow readers made 600 MB.  Here each piece waits until
    the transport's buffer is nearly empty, and a reader that makes room for
    no piece in ``send_timeout`` seconds is cut off.  Under a :class:`Server`,
    too many large responses at once get a 503 instead, so that the
    connections left over can still answer ``/healthz``.
    """
    connection = request.protocol
    guard = connection.guard if isinstance(connection, _Connection) else None
    send_timeout = guard.limits.send_timeout if guard is not None else SEND_TIMEOUT
    if guard is not None and not guard.stream_started():
        return web.Response(
            status=503,
            body=b"busy\n",
            headers={**_uncached(TEXT), "Retry-After": BUSY_RETRY_AFTER},
        )
    transport = request.transport
    watch = _Progress(transport, send_timeout) if transport is not None else None
    try:
        if transport is not None:
            # The low-water mark follows at a quarter of this.
            transport.set_write_buffer_limits(high=CHUNK)
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        response = web.StreamResponse(headers=headers)
        response.content_length = len(variant.body)
        writer = await response.prepare(request)
        assert writer is not None
        body = memoryview(variant.body)
        for start in range(0, len(body), CHUNK):
            await response.write(body[start : start + CHUNK])
            await writer.drain()  # returns once the transport's buffer is below CHUNK / 4
            if watch is not None:
                watch.made += 1
        await response.write_eof()
    except ConnectionError:
        pass  # the reader hung up, or was cut off; aiohttp closes the connection
    finally:
        if watch is not None:
            watch.cancel()
        if guard is not None:
            guard.stream_finished()
    return response


class _Progress:
    """Cuts a connection off once ``period`` seconds pass without ``made`` going up.

    Looked at four times a period (so noticed up to a quarter period late),
    not timed piece by piece: pieces are many, and most readers take them at
    once.
    """

    def __init__(self, transport: asyncio.Transport, period: float) -> None:
        self.made = 0
        self._seen = 0
        self._transport = transport
        self._period = period
        self._loop = asyncio.get_running_loop()
        self._since = self._loop.time()
        self._timer = self._loop.call_later(period / 4, self._check)

    def _check(self) -> None:
        now = self._loop.time()
        if self.made != self._seen:
            self._seen, self._since = self.made, now
        elif now - self._since >= self._period:
            self._transport.abort()  # what is left unsent goes with it
            return
        self._timer = self._loop.call_later(self._period / 4, self._check)

    def cancel(self) -> None:
        self._timer.cancel()


class _Every(Generic[T]):
    """``produce()``, called again only once ``interval`` seconds of ``clock()`` have passed."""

    def __init__(self, produce: Callable[[], T], interval: float, clock: Callable[[], float]):
        self._produce = produce
        self._interval = interval
        self._clock = clock
        self._last: tuple[float, T] | None = None

    def __call__(self) -> T:
        now = self._clock()
        if self._last is None or not 0 <= now - self._last[0] < self._interval:
            self._last = (now, self._produce())
        return self._last[1]


def _uncached(content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, "Cache-Control": "no-store"}


async def _nosniff(request: web.Request, response: web.StreamResponse) -> None:
    # On every response, aiohttp's own 404 and 405 included: a browser must
    # never second-guess a Content-Type into something it would execute.
    response.headers["X-Content-Type-Options"] = "nosniff"


def _json_default(value: object) -> object:
    """What ``json.dumps`` cannot write by itself; anything else is a bug and raises."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)  # sorted: the same status reads the same
    raise TypeError(f"status value of type {type(value).__name__} is not JSON serializable")


# Connections the kernel may hold for us before we accept them (Linux caps it
# at net.core.somaxconn, 4096 by default).
LISTEN_QUEUE = 1024
# What asyncio's accept loop reports when the process has no descriptor (or
# buffer) left for a new connection; it retries a second later.
_OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})


# What is said of a request aiohttp's parser refused: its message up to the
# first quote, colon or line break, where aiohttp starts quoting the request.
_PROBLEM = re.compile(r"[^'\":\r\n]*")
_MAX_PROBLEM = 80


class _Connection(web.RequestHandler):
    """aiohttp's handler of one connection, reporting its life to the server's guard,
    and saying less than aiohttp of a request it cannot parse."""

    def __init__(self, manager: web.Server, guard: Guard, **kwargs: Any) -> None:
        super().__init__(manager, **kwargs)
        self.guard = guard

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.guard.opened(self)

    def connection_lost(self, exc: BaseException | None) -> None:
        self.guard.closed(self)
        super().connection_lost(exc)

    def drop(self) -> None:
        transport = self.transport
        if transport is not None:
            # abort, not close: close would wait for a reader that takes nothing.
            transport.abort()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        """aiohttp's answer to a request it could not parse, or to a handler's exception.

        A request the parser refused (a header over its limit, a bad
        Content-Length or chunk, a TLS handshake or junk on the plain port,
        bytes that are no URL) is the client's mistake: aiohttp logs each as
        an error with its traceback, so that any client could fill the log.
        Here it is one debug line naming the client and the problem, and the
        same 400 that closes the connection.  Anything else, a handler's bug
        above all, goes to aiohttp as before: a 500 and its traceback.
        """
        if not isinstance(exc, HttpProcessingError):
            return super().handle_error(request, status, exc, message)
        log.debug("bad request from %s: %s", request.remote, _problem(exc))
        if request.writer.output_size > 0:
            # As aiohttp does: an answer has begun, no other can follow.
            raise ConnectionError("bad request after the answer began")
        response = web.Response(status=status, text=message or "", content_type="text/plain")
        response.force_close()
        return response


def _problem(exc: HttpProcessingError) -> str:
    """What is wrong with a refused request: the error's kind and aiohttp's words
    for it, short of the request's bytes it quotes after them."""
    words = _PROBLEM.match(exc.message)
    text = words.group().strip() if words else ""
    # aiohttp's pure-Python parser may give the client's bytes alone.
    text = "".join(c if c.isprintable() else "?" for c in text[:_MAX_PROBLEM])
    kind = type(exc).__name__
    return f"{kind}: {text}" if text else kind


@web.middleware
async def _busy_while_answering(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Marks the connection busy while a handler answers it: no header clock, no eviction."""
    connection = request.protocol
    if not isinstance(connection, _Connection):
        return await handler(request)
    connection.guard.request_started(connection)
    try:
        return await handler(request)
    finally:
        connection.guard.request_finished(connection)


class Server:
    """Runs an app on the caller's event loop: ``await start(host, port)``, ``await stop()``.

    Port 0 picks a free port; :attr:`port` says which.  ``limits`` bound the
    connections, how long an idle one may take to send its request's headers
    and how long a large response may wait on its reader (see
    :mod:`aggregator.serve.connections`); :attr:`guard` keeps the counts once
    started.  The kernel holds up to ``LISTEN_QUEUE`` connections not yet
    accepted, so a burst waits its turn instead of having its SYNs dropped.
    While it runs, a lack of descriptors in the accept loop is logged once per
    ``limits.notice_interval`` instead of once per attempt.  ``stop()`` gives
    requests in progress ``shutdown_timeout`` seconds.
    """

    def __init__(
        self,
        app: web.Application,
        *,
        limits: Limits | None = None,
        shutdown_timeout: float = 3.0,
    ):
        self.limits = limits or Limits()
        app.middlewares.insert(0, _busy_while_answering)
        # A short grace on stop: readers' requests are small and quick, and a
        # slow reader must not hold the daemon's exit for a minute.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=shutdown_timeout)
        self._listener: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._previous_handler: Any = None
        self.guard: Guard | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        loop = self._loop = asyncio.get_running_loop()
        await self._runner.setup()
        manager = self._runner.server
        assert manager is not None
        guard = self.guard = Guard(self.limits, loop, descriptors=descriptor_limit())
        handler_options = {
            "loop": loop,
            "access_log": None,
            # aiohttp's own idle clock, an hour by default, only as a fallback:
            # the guard's closes an idle connection first.
            "keepalive_timeout": 2 * self.limits.header_timeout,
        }

        def connection() -> _Connection:
            return _Connection(manager, guard, **handler_options)

        self._listener = await loop.create_server(
            connection, host, port, backlog=guard.capacity.backlog, reuse_address=True
        )
        # asyncio's backlog is also how many connections it accepts in one go,
        # each taking a descriptor, so it is small when descriptors are few.
        # The kernel's queue of connections not yet accepted takes none: a
        # long one lets a burst wait its turn (and /healthz behind it, for
        # milliseconds) where a full one drops SYNs, which clients send again
        # only a second later.
        for listening in self._listener.sockets:
            with listening.dup() as same:
                same.listen(max(LISTEN_QUEUE, guard.capacity.backlog))
        self._previous_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._loop_exception)
        sockets = self._listener.sockets
        self.port = sockets[0].getsockname()[1] if sockets else port
        capacity = guard.capacity
        log.info(
            "at most %d connections, %d of them sending large files (descriptor limit %s)",
            capacity.connections,
            capacity.streams,
            capacity.descriptor_limit or "none",
        )

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.close()
        loop = self._loop
        if loop is not None and loop.get_exception_handler() == self._loop_exception:
            loop.set_exception_handler(self._previous_handler)
        await self._runner.cleanup()
        if self.guard is not None:
            self.guard.close()

    def _loop_exception(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        sock = context.get("socket")
        if (
            isinstance(error, OSError)
            and error.errno in _OUT_OF_RESOURCES
            and self.guard is not None
            and self._listener is not None
            and sock is not None
            and any(sock.fileno() == s.fileno() for s in self._listener.sockets)
        ):
            # asyncio logs this with a traceback for every failed accept, and
            # on Linux once per queued connection each turn: thousands a second.
            self.guard.accept_failed(error)
        elif self._previous_handler is not None:
            self._previous_handler(loop, context)
        else:
            loop.default_exception_handler(context)
