"""The HTTP side that feed readers subscribe to: the published files, the OPML list, health.

    create_app(out_dir, status=..., healthy=..., opml=...) -> aiohttp.web.Application

Routes, GET and HEAD only (aiohttp answers 405 to anything else, 404 to
unknown paths)::

    /                      index.html              text/html, with a no-script CSP
    /feed.atom             feed.atom               application/atom+xml
    /feed.rss              feed.rss                application/rss+xml
    /feed.json             feed.json               application/feed+json
    /sections/<slug>.atom  sections/<slug>.atom    application/atom+xml; slug is [a-z0-9-]+
    /sources.opml          opml()                  text/x-opml
    /healthz               200 "ok" / 503          while healthy() / not
    /status                JSON of status()        never cached

Files are served from memory (see :mod:`aggregator.serve.files`) with a
strong ETag, Last-Modified, gzip when the client accepts it, and 304 answers
to conditional requests.  A file not published yet is a 404.  The app starts
no loop, thread or socket of its own: the daemon runs it with ``AppRunner``
next to its scheduler.  This is the only module that imports ``aiohttp.web``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from pathlib import Path

from aiohttp import web

from aggregator.publish.layout import ATOM_FILE, JSON_FILE, PAGE_FILE, RSS_FILE, SECTIONS_DIR
from aggregator.serve.files import FileCache, Representation, represent
from aggregator.serve.negotiate import gzip_acceptable, not_modified

__all__ = ["create_app"]

ATOM = "application/atom+xml; charset=utf-8"
RSS = "application/rss+xml; charset=utf-8"
JSON_FEED = "application/feed+json; charset=utf-8"
HTML = "text/html; charset=utf-8"
OPML = "text/x-opml; charset=utf-8"
TEXT = "text/plain; charset=utf-8"

# The page is static HTML built from feed content that nh3 already cleaned;
# the policy is the second line of defence should anything slip through: no
# script runs, nothing is fetched but images, and no other site can frame it.
PAGE_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def create_app(
    out_dir: Path,
    *,
    status: Callable[[], Mapping[str, object]],
    healthy: Callable[[], bool],
    opml: Callable[[], bytes],
    cache_max_age: int = 300,
) -> web.Application:
    """The application serving ``out_dir`` (read on each request, so it may not exist yet).

    The callbacks run on the event loop for each request to their route, so
    they must be quick and must not block: ``status()`` returns something
    ``json.dumps`` can write (datetimes become ISO 8601 strings), ``healthy()``
    says whether the daemon is working, ``opml()`` returns the OPML document.
    ``cache_max_age`` is the seconds shared caches and readers may reuse a
    file without asking again.
    """
    if cache_max_age < 0:
        raise ValueError(f"cache_max_age must be >= 0, not {cache_max_age}")
    cacheable = {"Cache-Control": f"public, max-age={cache_max_age}"}
    files = FileCache()
    base = os.fspath(out_dir)

    def serve_file(relative: str, content_type: str, fixed: Mapping[str, str]) -> Handler:
        path = os.path.join(base, relative)

        async def handler(request: web.Request) -> web.StreamResponse:
            representation = await files.get(path)
            if representation is None:
                raise web.HTTPNotFound()
            return _respond(request, representation, content_type, fixed)

        return handler

    async def section(request: web.Request) -> web.StreamResponse:
        # The route's pattern limits the slug, as decoded, to [a-z0-9-]+: no
        # '/' or '.' reaches the file system, so there is nothing to traverse
        # with.  Any other name never matches the route and is a 404.
        path = os.path.join(base, SECTIONS_DIR, request.match_info["slug"] + ".atom")
        representation = await files.get(path)
        if representation is None:
            raise web.HTTPNotFound()
        return _respond(request, representation, ATOM, cacheable)

    last_opml: Representation | None = None

    async def sources_opml(request: web.Request) -> web.StreamResponse:
        nonlocal last_opml
        data = opml()
        # Comparing bytes is far cheaper than hashing and compressing again,
        # and the list changes only when the configuration does.
        if last_opml is None or last_opml.identity.body != data:
            last_opml = represent(data)
        return _respond(request, last_opml, OPML, cacheable)

    async def healthz(request: web.Request) -> web.StreamResponse:
        if healthy():
            return web.Response(body=b"ok\n", headers=_uncached(TEXT))
        return web.Response(status=503, body=b"unhealthy\n", headers=_uncached(TEXT))

    async def status_json(request: web.Request) -> web.StreamResponse:
        body = json.dumps(dict(status()), default=_json_default, indent=2).encode("utf-8")
        return web.Response(body=body + b"\n", headers=_uncached("application/json"))

    app = web.Application()
    app.on_response_prepare.append(_nosniff)
    router = app.router
    page_headers = {**cacheable, "Content-Security-Policy": PAGE_POLICY}
    router.add_get("/", serve_file(PAGE_FILE, HTML, page_headers))
    router.add_get(f"/{ATOM_FILE}", serve_file(ATOM_FILE, ATOM, cacheable))
    router.add_get(f"/{RSS_FILE}", serve_file(RSS_FILE, RSS, cacheable))
    router.add_get(f"/{JSON_FILE}", serve_file(JSON_FILE, JSON_FEED, cacheable))
    router.add_get(f"/{SECTIONS_DIR}/{{slug:[a-z0-9-]+}}.atom", section)
    router.add_get("/sources.opml", sources_opml)
    router.add_get("/healthz", healthz)
    router.add_get("/status", status_json)
    return app


def _respond(
    request: web.Request,
    representation: Representation,
    content_type: str,
    fixed: Mapping[str, str],
) -> web.Response:
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
    # aiohttp sends Content-Length for HEAD too and leaves the body out.
    return web.Response(body=variant.body, headers=headers)


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


class Server:
    """Runs an app on the caller's event loop: ``await start(host, port)``, ``await stop()``.

    Port 0 picks a free port; :attr:`port` says which.
    """

    def __init__(self, app: web.Application):
        self._runner = web.AppRunner(app, access_log=None)
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, reuse_address=True)
        await site.start()
        server = site._server  # aiohttp keeps the bound socket here; no public accessor
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else port

    async def stop(self) -> None:
        # A short grace: feed readers' requests are small and quick.
        await self._runner.cleanup()
