"""Retrieve feeds over HTTP: a URL plus caching state in, bytes plus new caching state out.

aiohttp is imported here only.  The fetcher does not parse: it hands the body
and the response headers to the parser (STYLE.md, "retrieve apart from parse").

Limits, because feeds are written by strangers: a total, a connect and a
between-reads timeout; a cap on the body counted *after* decompression, so a
gzip bomb stops at the cap; a bounded number of redirects; a connection pool
bounded overall and per host.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType

import aiohttp

from ..config import FetchConfig
from ..errors import FetchError, ResponseTooLarge
from ..models import Document, Fetched, FetchState
from ..schedule import cache_lifetime

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
_CHUNK = 64 * 1024
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_PERMANENT = (301, 308)


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class HttpFetcher:
    """One HTTP client session shared by every source of a pass.

    Use as ``async with HttpFetcher(config) as fetcher: await fetcher.fetch(...)``.
    """

    def __init__(self, config: FetchConfig):
        self.config = config
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> HttpFetcher:
        connector = aiohttp.TCPConnector(
            limit=self.config.concurrency,
            limit_per_host=self.config.per_host,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(
                total=self.config.timeout,
                sock_connect=self.config.connect_timeout,
                sock_read=self.config.read_timeout,
            ),
            headers={"User-Agent": self.config.user_agent, "Accept": ACCEPT},
            # Decompression is aiohttp's, but the size cap below counts the
            # decompressed bytes as they stream, so a bomb stops at the cap.
            auto_decompress=True,
        )
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(self, source: str, url: str, state: FetchState) -> Fetched:
        """GET ``url`` conditionally; raise :class:`FetchError` naming ``source``."""
        if self._session is None:
            raise RuntimeError("HttpFetcher used outside 'async with'")
        headers = {}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        try:
            # asyncio.timeout backs up aiohttp's own total timeout, which does
            # not cover every await of a slow body in every aiohttp version.
            async with asyncio.timeout(self.config.timeout):
                return await self._get(source, url, state, headers)
        except TimeoutError:
            raise FetchError(source, f"timed out after {self.config.timeout:g}s") from None
        except aiohttp.TooManyRedirects:
            raise FetchError(source, f"more than {self.config.max_redirects} redirects") from None
        except aiohttp.InvalidURL as exc:
            raise FetchError(source, f"invalid URL or redirect target: {exc}") from None
        except aiohttp.ClientConnectorError as exc:
            raise FetchError(source, f"cannot connect to {exc.host}: {exc.os_error}") from None
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(source, f"broken response body: {exc}") from None
        except aiohttp.ClientError as exc:
            raise FetchError(source, f"{type(exc).__name__}: {exc}") from None

    async def _get(
        self, source: str, url: str, state: FetchState, headers: dict[str, str]
    ) -> Fetched:
        assert self._session is not None
        async with self._session.get(
            url, headers=headers, max_redirects=self.config.max_redirects
        ) as response:
            cache_seconds = _cache_seconds(response.headers)
            redirect = _permanent_redirect(response)
            if response.status == 304:
                return Fetched(
                    source,
                    (),
                    state,
                    not_modified=True,
                    status=304,
                    cache_seconds=cache_seconds,
                    permanent_redirect=redirect,
                )
            if response.status >= 400:
                reason = response.reason or ""
                raise FetchError(
                    source,
                    f"HTTP {response.status} {reason}".strip(),
                    status=response.status,
                    retry_after=_retry_after(response.headers)
                    if response.status in (429, 503)
                    else None,
                )
            if response.status != 200:
                raise FetchError(
                    source, f"unexpected HTTP status {response.status}", status=response.status
                )
            declared = response.content_length
            if (
                declared is not None
                and declared > self.config.max_bytes
                and not (response.headers.get("Content-Encoding"))
            ):
                raise ResponseTooLarge(
                    source,
                    f"response of {declared} bytes is over the {self.config.max_bytes} byte cap",
                    status=200,
                )
            body = await self._read_capped(source, response)
            response_headers = tuple(
                (name.lower(), value) for name, value in response.headers.items()
            )
            new_state = FetchState(
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
                content_hash=body_hash(body),
            )
            # Where the server sends no validators, or ignores them, an
            # unchanged body is "not modified" all the same: nothing is parsed.
            if state.content_hash is not None and new_state.content_hash == state.content_hash:
                return Fetched(
                    source,
                    (),
                    new_state,
                    not_modified=True,
                    status=200,
                    cache_seconds=cache_seconds,
                    permanent_redirect=redirect,
                )
            document = Document(
                location=str(response.url),
                body=body,
                content_type=response.headers.get("Content-Type"),
                headers=response_headers,
            )
            return Fetched(
                source,
                (document,),
                new_state,
                status=200,
                cache_seconds=cache_seconds,
                permanent_redirect=redirect,
            )

    async def _read_capped(self, source: str, response: aiohttp.ClientResponse) -> bytes:
        limit = self.config.max_bytes
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.content.iter_chunked(_CHUNK):
            size += len(chunk)
            if size > limit:
                raise ResponseTooLarge(
                    source,
                    f"response is over the {limit} byte cap (after decompression)",
                    status=response.status,
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _http_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _cache_seconds(headers: Mapping[str, str]) -> float | None:
    match = _MAX_AGE.search(headers.get("Cache-Control", ""))
    max_age = float(match.group(1)) if match else None
    return cache_lifetime(
        max_age, _http_date(headers.get("Expires")), _http_date(headers.get("Date")), None
    )


def _retry_after(headers: Mapping[str, str]) -> datetime | None:
    """Retry-After as a moment: delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    value = headers.get("Retry-After", "").strip()
    if value.isdigit():
        return datetime.now(UTC) + timedelta(seconds=int(value))
    return _http_date(value)


def _permanent_redirect(response: aiohttp.ClientResponse) -> str | None:
    """Where the leading run of 301/308 redirects led, if the request began with one.

    A temporary redirect ends the run: a subscription follows only what the
    server says is permanent.
    """
    target = None
    hops = [*response.history, response]
    for hop, following in itertools.pairwise(hops):
        if hop.status not in _PERMANENT:
            break
        target = str(following.url)
    return target
