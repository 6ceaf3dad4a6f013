"""Retrieve feeds over HTTP: a URL plus caching state in, bytes plus new caching state out.

aiohttp is imported here only.  The fetcher does not parse: it hands the body
and the response headers to the parser (STYLE.md, "retrieve apart from parse").

Limits, because feeds are written by strangers: a total, a connect and a
between-reads timeout; a cap on the body counted *after* decompression, so a
gzip bomb stops at the cap; a bounded number of redirects; a connection pool
bounded overall and per host.

Where it connects, because a feed URL or a redirect can point anywhere: by
default only to public addresses (:mod:`aggregator.addresses`).  Names are checked on
the addresses they resolve to, inside the connector's resolver, so the
connector is never handed a private address to connect to, whatever DNS says
on the second look-up; hosts that are IP literals are checked before each
request.  Redirects are followed here, one hop at a time, so every hop's
target is checked the same way, and only http and https targets are followed.
``allow_private`` (per source) turns the address check off: for every host
(a feed with ``allow_private: true``), or for some hosts only (the hosts a
source lists, and an article page: :data:`PrivateScope`).

What it sends of a source's own: its ``headers``, on each request (each hop
of a redirect, an article page) to its feed's origin and to no other
(:class:`~aggregator.request_headers.ScopedHeaders` decides), and never in
an error: their values are masked in its message as the URL's credentials are.

What it decodes: the Content-Encodings aiohttp decodes (gzip, deflate, and br
and zstd where their packages are installed), and ``x-gzip``, gzip's old
name, which RFC 9110 says to read as gzip and aiohttp does not.  A body in
another registered coding (``compress``, several codings in a row, br
without its package) is refused, for good: aiohttp would hand it over as it
came, and the parser or the extractor would read compressed bytes as the
text.  A header that names no coding at all (``utf-8``, ``none``, ``binary``:
a server's mistake) is read through, as browsers and feed readers do.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import re
import socket
import zlib
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import TracebackType

import aiohttp
from aiohttp import http_exceptions
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from ..addresses import IPAddress, is_public_address, literal_address, parse_address
from ..config import FetchConfig
from ..errors import FetchError, ResponseTooLarge
from ..models import Document, Fetched, FetchState
from ..redact import header_secrets, public_text, redact_text, redact_url
from ..request_headers import ScopedHeaders
from ..schedule import MAX_RETRY_AFTER, cache_lifetime

ACCEPT = (
    "application/atom+xml, application/rss+xml, application/feed+json, application/json;q=0.9, "
    "application/rdf+xml;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5"
)
_CHUNK = 64 * 1024
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d+)", re.IGNORECASE)
_PERMANENT = (301, 308)
_REDIRECTS = (301, 302, 303, 307, 308)
# Statuses that say "not now" rather than "not at all": timeout, too early,
# too many requests, and the server's or its gateway's trouble.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_ALLOW_HINT = "set allow_private: true on the source to allow it"
_HOSTS_HINT = (
    "allow_private: true allows a private address only on its feed's host; "
    "list the hosts allowed in allow_private to allow others"
)
# The Content-Encodings aiohttp decodes, as the whole header's value (it
# decodes no list of codings); br and zstd only with their packages, and it
# raises itself when those are missing (see _undecodable).
_DECODED_CODINGS = frozenset({"", "identity", "gzip", "deflate", "br", "zstd"})
# Decoded here: gzip under its old name (RFC 9110, 8.4.1.3).
_OLD_GZIP = "x-gzip"
_GZIP_WBITS = 16 + zlib.MAX_WBITS  # zlib's way of saying "a gzip header and trailer"
# The content codings IANA registers: a body sent in one of them that is not
# decoded is compressed (or encrypted) bytes.  Any other word in the header
# names no coding, and the body is read as it came.
_REGISTERED_CODINGS = frozenset(
    {"aes128gcm", "br", "compress", "dcb", "dcz", "deflate", "exi", "gzip"}
    | {"pack200-gzip", "x-compress", "x-gzip", "zstd"}
)
# A coding is quoted in the message when it looks like one (tokens, a short
# list of them); anything else the server put in the header is not.
_CODING_SHOWN = re.compile(r"[A-Za-z0-9._+-]{1,30}(?:, ?[A-Za-z0-9._+-]{1,30}){0,3}")
_MISSING_PACKAGE = re.compile(r"\((br|zstd)\)")

AddressPolicy = Callable[[IPAddress], bool]
# Where a request may reach a non-public address: anywhere (True), nowhere
# (False), or only on these hosts (as addresses.host_name spells them: lower
# case, IDNA, IP addresses short), checked on every hop of a redirect chain.
# By host, not host and port: the guard is about which machines a stranger's
# link may reach, and a host allowed is allowed on each of its ports.  A
# feed gets its source's allow_private as it is; an article page gets the
# hosts its source lists, or with allow_private: true its feed's own host:
# that says where the feed lives, not where its items may point (a feed made
# on localhost from public sites links to pages their authors control).
PrivateScope = bool | frozenset[str]


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


class PrivateAddressError(OSError):
    """A host resolved only to addresses the policy refuses.

    An ``OSError``, so aiohttp reports it like any failed look-up (as the
    ``os_error`` of a ``ClientConnectorError``) and never tries to connect.
    """

    def __init__(self, host: str, refused: Sequence[str]):
        self.host = host
        self.refused = tuple(refused)
        shown = ", ".join(self.refused[:3]) or "no address"
        super().__init__(f"{host} resolves to {shown}, which is not a public address")


class GuardedResolver(AbstractResolver):
    """A resolver that hands the connector only the addresses ``allowed`` accepts.

    It wraps the default resolver; every answer, including a later one for a
    name that was public before, is filtered, so the connector can only ever
    connect to an allowed address.  It does not see IP-literal hosts (aiohttp
    skips resolving those): :meth:`HttpFetcher.fetch` checks them itself.
    """

    def __init__(self, allowed: AddressPolicy, inner: AbstractResolver | None = None):
        self.allowed = allowed
        self.inner = inner if inner is not None else aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        answers = await self.inner.resolve(host, port, family)
        kept = []
        refused = []
        for answer in answers:
            address = parse_address(answer["host"])
            if address is not None and self.allowed(address):
                kept.append(answer)
            else:
                refused.append(answer["host"])
        if not kept:
            raise PrivateAddressError(host, refused)
        return kept

    async def close(self) -> None:
        await self.inner.close()


class HttpFetcher:
    """One HTTP client session shared by every source of a pass.

    Use as ``async with HttpFetcher(config) as fetcher: await fetcher.fetch(...)``.
    ``address_allowed`` and ``resolver`` are seams for tests: the address
    policy, and the resolver the guard wraps (the system's by default).
    """

    def __init__(
        self,
        config: FetchConfig,
        *,
        address_allowed: AddressPolicy = is_public_address,
        resolver: AbstractResolver | None = None,
    ):
        self.config = config
        self.address_allowed = address_allowed
        self._resolver = resolver
        # Two pools: one whose resolver refuses private addresses, and one,
        # made only if a source asks for it, that connects anywhere.  A pool
        # cannot be both, since aiohttp shares look-ups and connections
        # between the requests of one connector.
        self._sessions: dict[bool, aiohttp.ClientSession] = {}
        self._entered = False

    async def __aenter__(self) -> HttpFetcher:
        self._entered = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        sessions = list(self._sessions.values())
        self._sessions.clear()
        self._entered = False
        for session in sessions:
            await session.close()

    def _session(self, allow_private: bool) -> aiohttp.ClientSession:
        session = self._sessions.get(allow_private)
        if session is not None:
            return session
        resolver: AbstractResolver | None = self._resolver
        if not allow_private:
            resolver = GuardedResolver(self.address_allowed, self._resolver)
        connector = aiohttp.TCPConnector(
            limit=self.config.concurrency,
            limit_per_host=self.config.per_host,
            resolver=resolver,
        )
        session = aiohttp.ClientSession(
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
            # No proxy from the environment: it would connect for us, to
            # addresses the guard never sees.
            trust_env=False,
            # No cookies: a feed needs none, a tracker sets them, and keeping
            # a jar costs every request and response a look-up.
            cookie_jar=aiohttp.DummyCookieJar(),
        )
        self._sessions[allow_private] = session
        return session

    async def fetch(
        self,
        source: str,
        url: str,
        state: FetchState,
        *,
        allow_private: PrivateScope = False,
        accept: str = ACCEPT,
        headers: ScopedHeaders | None = None,
    ) -> Fetched:
        """GET ``url`` conditionally; raise :class:`FetchError` naming ``source``.

        Unless ``allow_private`` covers its host (:data:`PrivateScope`), a
        URL or redirect whose host is (or resolves only to) a loopback,
        private or otherwise non-public address is refused before any
        connection is made.  ``accept`` is the Accept header: a feed's by
        default, a web page's for article pages.  ``headers`` are the
        source's own, sent on each hop to their origin only.
        """
        if not self._entered:
            raise RuntimeError("HttpFetcher used outside 'async with'")
        try:
            return await self._fetch(source, url, state, allow_private, accept, headers)
        except FetchError as error:
            # Messages quote URLs (a redirect target, aiohttp's own words), and
            # they are shown, logged and stored: never with the credentials.
            raise _redacted(error, url, headers) from None

    async def _fetch(
        self,
        source: str,
        url: str,
        state: FetchState,
        allow_private: PrivateScope,
        accept: str,
        own: ScopedHeaders | None,
    ) -> Fetched:
        headers = {} if accept == ACCEPT else {"Accept": accept}
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.last_modified:
            headers["If-Modified-Since"] = state.last_modified
        config = self.config
        try:
            # asyncio.timeout backs up aiohttp's own total timeout, which does
            # not cover every await of a slow body in every aiohttp version,
            # and spans every hop of a redirect chain.
            async with asyncio.timeout(config.timeout):
                return await self._get(source, url, state, headers, allow_private, own)
        # Each limit says its name: a silent server meets the read timeout
        # (15 s) long before the total one (30 s), and the setting to change
        # is that one.  aiohttp's two are TimeoutErrors too, so they come first.
        except aiohttp.ConnectionTimeoutError:
            raise FetchError(
                source,
                f"timed out connecting after {config.connect_timeout:g}s (fetch.connect_timeout)",
                transient=True,
            ) from None
        except aiohttp.SocketTimeoutError:
            raise FetchError(
                source,
                f"timed out: no data for {config.read_timeout:g}s (fetch.read_timeout)",
                transient=True,
            ) from None
        except TimeoutError:
            raise FetchError(
                source, f"timed out after {config.timeout:g}s (fetch.timeout)", transient=True
            ) from None
        except aiohttp.InvalidURL as exc:
            raise FetchError(source, f"invalid URL or redirect target: {exc}") from None
        except aiohttp.ClientConnectorError as exc:
            if isinstance(exc.os_error, PrivateAddressError):
                raise FetchError(
                    source, f"refused: {exc.os_error}; {_hint(allow_private)}"
                ) from None
            raise FetchError(
                source, f"cannot connect to {exc.host}: {exc.os_error}", transient=True
            ) from None
        except aiohttp.ClientError as exc:
            coding = _undecodable(exc)
            if coding is not None:
                # The same server answers the same way next time: for good.
                raise FetchError(source, f"cannot decode its Content-Encoding ({coding})") from None
            # A malformed answer, the server hung up, the connection was
            # reset: worth another try.
            raise FetchError(source, _broken(exc), transient=True) from None

    def _check_target(self, source: str, url: URL, scope: PrivateScope, hop: int) -> bool:
        """Refuse a non-HTTP target, and an IP-literal non-public host that
        ``scope`` does not cover; whether the target may be private."""
        if url.scheme not in ("http", "https") or not url.raw_host:
            what = "redirect to" if hop else "URL"
            raise FetchError(source, f"refused: {what} {url} is not an http(s) URL")
        if _covers(scope, url):
            return True
        address = literal_address(url.raw_host)
        if address is not None and not self.address_allowed(address):
            what = "redirect to" if hop else "URL"
            raise FetchError(
                source,
                f"refused: {what} {url} names {address}, which is not a public address; "
                + _hint(scope),
            )
        return False

    async def _get(
        self,
        source: str,
        url: str,
        state: FetchState,
        headers: dict[str, str],
        allow_private: PrivateScope,
        own: ScopedHeaders | None = None,
    ) -> Fetched:
        target = _url(source, url)
        # The URL of every response that redirected, with its status.
        hops: list[tuple[int, URL]] = []
        while True:
            # Each hop in the pool its host may use: a redirect off a host
            # allowed to be private goes back through the guard.
            session = self._session(self._check_target(source, target, allow_private, len(hops)))
            # The source's own headers, each hop afresh: on its feed's origin
            # only, so a redirect elsewhere goes without them (and a hop back
            # to that origin with them).  Their names are never the fetcher's.
            sent = headers if own is None else {**headers, **own.sent_to(str(target))}
            async with session.get(target, headers=sent, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status not in _REDIRECTS or not location:
                    return await self._result(source, response, state, hops)
                if len(hops) >= self.config.max_redirects:
                    raise FetchError(source, f"more than {self.config.max_redirects} redirects")
                hops.append((response.status, response.url))
                target = response.url.join(_url(source, location))

    async def _result(
        self,
        source: str,
        response: aiohttp.ClientResponse,
        state: FetchState,
        hops: Sequence[tuple[int, URL]],
    ) -> Fetched:
        cache_seconds = _cache_seconds(response.headers)
        redirect = _permanent_redirect(hops, response.url)
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
                transient=response.status in TRANSIENT_STATUSES,
            )
        if response.status != 200:
            raise FetchError(
                source, f"unexpected HTTP status {response.status}", status=response.status
            )
        coding = response.headers.get("Content-Encoding", "").strip()
        gunzip = coding.lower() == _OLD_GZIP
        if not gunzip and coding.lower() not in _DECODED_CODINGS and _names_a_coding(coding):
            # Not worth another try: the server chose the coding, and will again.
            shown = coding if _CODING_SHOWN.fullmatch(coding) else "an unknown one"
            raise FetchError(
                source, f"cannot decode its Content-Encoding ({shown})", status=response.status
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
        body = await self._read_capped(source, response, gunzip=gunzip)
        response_headers = tuple((name.lower(), value) for name, value in response.headers.items())
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
            # The base of the document's relative links, which are published:
            # without the credentials the request carried.
            location=redact_url(str(response.url)),
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

    async def _read_capped(
        self, source: str, response: aiohttp.ClientResponse, *, gunzip: bool = False
    ) -> bytes:
        """The body, decompressed from gzip here if ``gunzip`` (aiohttp
        decompresses the codings it knows), within ``max_bytes`` after
        decompression: a bomb stops at the cap."""
        limit = self.config.max_bytes
        chunks: list[bytes] = []
        size = 0
        inflate = zlib.decompressobj(wbits=_GZIP_WBITS) if gunzip else None
        async for received in response.content.iter_chunked(_CHUNK):
            chunk = received
            if inflate is not None:
                try:
                    # At most one byte past the cap: enough to know it is past.
                    chunk = inflate.decompress(received, limit - size + 1)
                except zlib.error:
                    raise _broken_gzip(source, response.status) from None
            size += len(chunk)
            if size > limit:
                raise ResponseTooLarge(
                    source,
                    f"response is over the {limit} byte cap (after decompression)",
                    status=response.status,
                )
            chunks.append(chunk)
        if inflate is not None and not inflate.eof:
            raise _broken_gzip(source, response.status)  # cut off on the way
        return b"".join(chunks)


def _broken_gzip(source: str, status: int) -> FetchError:
    """An x-gzip body that does not decompress: broken on the way, as aiohttp
    says of a gzip one, and worth another try."""
    return FetchError(
        source,
        "broken response body: cannot decode its Content-Encoding (x-gzip)",
        status=status,
        transient=True,
    )


def _broken(exc: aiohttp.ClientError) -> str:
    """What went wrong on the wire, in a few fixed words and the error's kind.

    Not aiohttp's text: it quotes what the server sent (a bad status line
    the whole body after it, a header its first hundred bytes, a half-read
    response its headers), and the message is shown, logged and stored.
    The kind is the parser's error, which aiohttp's is raised from.
    """
    cause: BaseException = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    kind = type(cause).__name__
    if isinstance(exc, aiohttp.ClientPayloadError):
        if isinstance(cause, http_exceptions.ContentLengthError):
            return f"broken response body: shorter than its Content-Length ({kind})"
        if isinstance(cause, http_exceptions.TransferEncodingError):
            return f"broken response body: bad chunked encoding ({kind})"
        if isinstance(cause, http_exceptions.ContentEncodingError):
            return f"broken response body: cannot decode its Content-Encoding ({kind})"
        return f"broken response body ({kind})"
    if isinstance(exc, aiohttp.ClientResponseError):
        # No status of the server's: we raise on those ourselves (see _result).
        if isinstance(cause, http_exceptions.LineTooLong):
            return f"response headers too large ({kind})"
        return f"malformed HTTP response ({kind})"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return f"the server closed the connection before its answer was complete ({kind})"
    if isinstance(cause, OSError) and cause.errno is not None and cause.errno > 0:
        return f"connection failed: {os.strerror(cause.errno)} ({kind})"
    return f"connection failed ({kind})"


def _names_a_coding(header: str) -> bool:
    """Whether a Content-Encoding header names a content coding (one IANA
    registers), alone or in a list: then the body is in it, not as it is."""
    return any(word.strip().lower() in _REGISTERED_CODINGS for word in header.split(","))


def _undecodable(exc: aiohttp.ClientError) -> str | None:
    """The coding named when aiohttp refused a response's headers for a
    Content-Encoding it cannot decode here (br or zstd without its package);
    None for any other error.

    Not a body that fails to decode (a ``ClientPayloadError``): that is a
    broken response, which may come whole next time.
    """
    if isinstance(exc, aiohttp.ClientPayloadError):
        return None
    cause: BaseException = exc
    while cause.__cause__ is not None:
        cause = cause.__cause__
    if not isinstance(cause, http_exceptions.ContentEncodingError):
        return None
    # aiohttp's own words, not the server's: "... brotli (br). Please install `Brotli`".
    named = _MISSING_PACKAGE.search(str(cause.message))
    coding = named.group(1) if named else "its coding"
    return f"{coding}, which needs a package that is not installed"


def _covers(scope: PrivateScope, url: URL) -> bool:
    """Whether ``scope`` lets ``url``'s host be a non-public address."""
    if isinstance(scope, bool):
        return scope
    # yarl's raw_host is the host as host_name spells it (IDNA, IPv6 short
    # and without brackets); its .host would be the Unicode form.
    return (url.raw_host or "").lower() in scope


def _hint(scope: PrivateScope) -> str:
    """How to allow what was refused: allow_private, or a host added to its list."""
    return _ALLOW_HINT if isinstance(scope, bool) else _HOSTS_HINT


def _redacted(error: FetchError, url: str, own: ScopedHeaders | None) -> FetchError:
    # A server may echo what it was sent (its reason phrase, a Location):
    # the source's header values are masked as its URL's credentials are.
    secrets = header_secrets(own.headers) if own is not None else ()
    return type(error)(
        redact_text(error.source),
        public_text(redact_text(error.message, url), secrets),
        status=error.status,
        retry_after=error.retry_after,
        transient=error.transient,
    )


def _url(source: str, text: str) -> URL:
    try:
        return URL(text)
    except ValueError as exc:  # yarl on a malformed URL or Location header
        raise FetchError(source, f"invalid URL or redirect target: {exc}") from None


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
    expires = _http_date(headers.get("Expires"))
    # Date only matters as the base of Expires.  Most responses (every 304
    # of a warm pass) have no Expires, so Date is parsed only when needed.
    date = _http_date(headers.get("Date")) if expires is not None else None
    return cache_lifetime(max_age, expires, date, None)


def _retry_after(headers: Mapping[str, str]) -> datetime | None:
    """Retry-After as a moment: delay-seconds or an HTTP date (RFC 9110 10.2.3).

    Never further than :data:`MAX_RETRY_AFTER` ahead, however many digits it
    has; anything that is neither (``²`` is a digit to ``str.isdigit``) is no
    Retry-After at all.
    """
    value = headers.get("Retry-After", "").strip()
    now = datetime.now(UTC)
    latest = now + MAX_RETRY_AFTER
    if value.isascii() and value.isdigit():
        digits = value.lstrip("0") or "0"
        if len(digits) > 9:  # over thirty years: far over the cap, and int() may refuse it
            return latest
        return min(now + timedelta(seconds=int(digits)), latest)
    moment = _http_date(value)
    return min(moment, latest) if moment is not None else None


def _permanent_redirect(hops: Sequence[tuple[int, URL]], final: URL) -> str | None:
    """Where the leading run of 301/308 redirects led, if the request began with one.

    A temporary redirect ends the run: a subscription follows only what the
    server says is permanent.
    """
    if not hops:
        return None
    urls = [url for _status, url in hops[1:]] + [final]
    target = None
    for (status, _url), following in zip(hops, urls, strict=True):
        if status not in _PERMANENT:
            break
        target = str(following)
    return target


async def post_form(
    url: str, fields: Sequence[tuple[str, str]], *, user_agent: str, timeout: float
) -> str | None:
    """POST ``fields`` form-encoded to ``url``; None when it answered 2xx, else why not
    (one line: the status, or the connection's error).

    For the WebSub pings (:mod:`aggregator.websub`): a URL from the
    configuration, not from a feed, so no address guard and no redirects
    (a hub that moved says so with its status, which is logged).
    """
    try:
        async with (
            aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=timeout),
                headers={"User-Agent": user_agent},
                trust_env=False,
                cookie_jar=aiohttp.DummyCookieJar(),
            ) as session,
            session.post(url, data=list(fields), allow_redirects=False) as response,
        ):
            if 200 <= response.status < 300:
                return None
            return f"HTTP {response.status}"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        return redact_text(str(exc) or type(exc).__name__)
