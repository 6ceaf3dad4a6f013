"""The HTTP fetcher against a real server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import socket
from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.compression_utils import HAS_BROTLI, HAS_ZSTD

from aggregator.config import FetchConfig
from aggregator.errors import FetchError, ResponseTooLarge
from aggregator.fetch.http import HttpFetcher, _cache_seconds
from aggregator.models import Fetched, FetchState
from aggregator.request_headers import ScopedHeaders, SourceHeaders
from aggregator.schedule import MAX_RETRY_AFTER
from tests.feedserver import FeedServer, Route

FEED = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


NO_STATE = FetchState()


def fetch(server: FeedServer, path: str, state: FetchState = NO_STATE, **limits: object) -> Fetched:
    config = FetchConfig(**limits)  # type: ignore[arg-type]

    async def run() -> Fetched:
        async with HttpFetcher(config) as fetcher:
            return await fetcher.fetch("test source", server.url(path), state, allow_private=True)

    return asyncio.run(run())


def test_conditional_get_with_etag(feed_server: FeedServer) -> None:
    route = feed_server.add("/feed", Route(FEED))
    first = fetch(feed_server, "/feed")
    assert first.documents[0].body == FEED
    assert first.state.etag == route.etag_value
    assert first.state.content_hash
    second = fetch(feed_server, "/feed", first.state)
    assert second.not_modified and second.status == 304
    assert second.documents == ()
    assert route.requests == 2


def test_unchanged_body_without_validators_counts_as_not_modified(
    feed_server: FeedServer,
) -> None:
    feed_server.add("/plain", Route(FEED, etag=False))
    first = fetch(feed_server, "/plain")
    again = fetch(feed_server, "/plain", first.state)
    assert again.not_modified and again.status == 200
    feed_server.routes["/plain"].body = FEED + b" "
    changed = fetch(feed_server, "/plain", first.state)
    assert not changed.not_modified


def test_sends_user_agent_naming_the_project(feed_server: FeedServer) -> None:
    route = feed_server.add("/ua", Route(FEED))
    fetch(feed_server, "/ua")
    assert route.last_headers["User-Agent"].startswith("aggregator/")
    assert "https://" in route.last_headers["User-Agent"]


@pytest.mark.parametrize(
    ("status", "text", "transient"),
    [
        (500, "HTTP 500", True),
        (503, "HTTP 503", True),
        (429, "HTTP 429", True),
        (404, "HTTP 404", False),
        (410, "HTTP 410", False),
        (403, "HTTP 403", False),
    ],
)
def test_http_errors(feed_server: FeedServer, status: int, text: str, transient: bool) -> None:
    feed_server.add("/bad", Route(b"oops", status=status))
    with pytest.raises(FetchError) as caught:
        fetch(feed_server, "/bad")
    assert caught.value.status == status
    assert str(caught.value).startswith("test source: ")
    assert text in str(caught.value)
    assert caught.value.transient is transient  # whether asking again later may help


def test_slow_server_hits_total_timeout(feed_server: FeedServer) -> None:
    feed_server.add("/slow", Route(FEED * 50, trickle=0.05))
    with pytest.raises(FetchError) as caught:
        fetch(feed_server, "/slow", timeout=0.5, read_timeout=5.0)
    assert caught.value.message == "timed out after 0.5s (fetch.timeout)"
    assert caught.value.transient


@pytest.mark.parametrize(
    "route",
    [Route(FEED, delay=5.0), Route(FEED * 50, trickle=1.0)],
    ids=["no-answer", "body-stalls"],
)
def test_a_silent_server_hits_the_read_timeout_and_says_so(
    feed_server: FeedServer, route: Route
) -> None:
    # The total timeout is far off: the error must name the limit that fired.
    feed_server.add("/silent", route)
    with pytest.raises(FetchError) as caught:
        fetch(feed_server, "/silent", timeout=30.0, read_timeout=0.3)
    assert caught.value.message == "timed out: no data for 0.3s (fetch.read_timeout)"
    assert caught.value.transient


def test_a_connection_never_accepted_hits_the_connect_timeout_and_says_so() -> None:
    # A listening socket whose queue is full: Linux drops further SYNs, so a
    # connection is never made (nor refused).
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        queued = [socket.socket() for _ in range(4)]
        try:
            for sock in queued:
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", port))

            async def run() -> Fetched:
                async with HttpFetcher(FetchConfig(timeout=30, connect_timeout=0.3)) as fetcher:
                    return await fetcher.fetch(
                        "unanswered", f"http://127.0.0.1:{port}/", NO_STATE, allow_private=True
                    )

            with pytest.raises(FetchError) as caught:
                asyncio.run(run())
        finally:
            for sock in queued:
                sock.close()
    assert caught.value.message == "timed out connecting after 0.3s (fetch.connect_timeout)"
    assert caught.value.transient


# Answers that are not well-formed HTTP, each quoting bytes the server chose.
OK_RSS = b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
SERVED = b"<rss version='2.0'><channel><title>served bytes</title></channel></rss>"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        # Content-Length 10, then the whole feed: the rest reads as a next status line.
        (
            OK_RSS + b"Content-Length: 10\r\n\r\n" + SERVED * 20,
            "malformed HTTP response (BadStatusLine)",
        ),
        (b"XTTP/1.1 200 OK\r\n\r\n" + SERVED, "malformed HTTP response (BadStatusLine)"),
        (
            OK_RSS + b"X-Served: " + b"a" * 100_000 + b"\r\n\r\n" + SERVED,
            "response headers too large (LineTooLong)",
        ),
        # Content-Length 100000, then less and the connection closed.
        (
            OK_RSS + b"Content-Length: 100000\r\n\r\n" + SERVED,
            "broken response body: shorter than its Content-Length (ContentLengthError)",
        ),
        (
            OK_RSS + b"Transfer-Encoding: chunked\r\n\r\n50\r\n" + SERVED[:20],
            "broken response body: bad chunked encoding (TransferEncodingError)",
        ),
        (
            OK_RSS + b"Content-Encoding: gzip\r\nContent-Length: 70\r\n\r\n" + SERVED,
            "broken response body: cannot decode its Content-Encoding (ContentEncodingError)",
        ),
        (
            b"",
            "the server closed the connection before its answer was complete "
            "(ServerDisconnectedError)",
        ),
    ],
    ids=[
        "content-length-short-of-the-body",
        "bad-status-line",
        "huge-header",
        "body-short-of-the-content-length",
        "bad-chunk",
        "not-gzip",
        "no-answer",
    ],
)
def test_a_malformed_response_is_a_short_fixed_message_without_the_servers_bytes(
    feed_server: FeedServer, raw: bytes, message: str
) -> None:
    feed_server.add("/raw", Route(raw=raw))
    with pytest.raises(FetchError) as caught:
        fetch(feed_server, "/raw")
    assert caught.value.message == message
    assert caught.value.transient  # as any broken connection: it may do better next time


@pytest.mark.parametrize(
    ("coding", "shown"),
    [
        pytest.param(b"compress", "compress", id="compress"),
        pytest.param(b"gzip, gzip", "gzip, gzip", id="twice"),
        pytest.param(b"x-foo, gzip", "x-foo, gzip", id="a-list-with-one"),
        pytest.param(b"aes128gcm", "aes128gcm", id="encrypted"),
        pytest.param(b"gzip, \x01<b>" + b"z" * 200, "an unknown one", id="not-quoted"),
        pytest.param(
            b"br",
            "br, which needs a package that is not installed",
            id="br-without-brotli",
            marks=pytest.mark.skipif(HAS_BROTLI, reason="brotli is installed: br is decoded"),
        ),
        pytest.param(
            b"zstd",
            "zstd, which needs a package that is not installed",
            id="zstd-without-zstandard",
            marks=pytest.mark.skipif(HAS_ZSTD, reason="zstandard is installed: zstd is decoded"),
        ),
    ],
)
def test_a_content_encoding_that_cannot_be_decoded_is_refused_for_good(
    feed_server: FeedServer, coding: bytes, shown: str
) -> None:
    """The same server answers in the same coding next time: not worth another
    try, unlike a body that broke on the way.  Feeds and pages alike."""
    raw = OK_RSS + b"Content-Encoding: " + coding + b"\r\nContent-Length: 71\r\n\r\n" + SERVED
    feed_server.add("/coded", Route(raw=raw))
    with pytest.raises(FetchError) as caught:
        fetch(feed_server, "/coded")
    assert caught.value.message == f"cannot decode its Content-Encoding ({shown})"
    assert not caught.value.transient


@pytest.mark.parametrize(
    "coding", [b"identity", b"GZIP", b"gzip", b"x-gzip", b"X-Gzip", b"utf-8", b"none", b"binary"]
)
def test_the_codings_decoded_are_read(feed_server: FeedServer, coding: bytes) -> None:
    """gzip under its old name too (RFC 9110: "x-gzip" is "gzip"); and a
    header that names no coding at all (a server's mistake) is read through,
    as browsers and feed readers do."""
    body = gzip.compress(SERVED, mtime=0) if b"gzip" in coding.lower() else SERVED
    head = OK_RSS + b"Content-Encoding: " + coding + b"\r\nContent-Length: %d\r\n\r\n" % len(body)
    feed_server.add("/coded", Route(raw=head + body))
    assert fetch(feed_server, "/coded").documents[0].body == SERVED


def test_an_x_gzip_bomb_stops_at_the_cap_and_a_cut_one_is_broken(feed_server: FeedServer) -> None:
    head = OK_RSS + b"Content-Encoding: x-gzip\r\nContent-Length: %d\r\n\r\n"
    bomb = gzip.compress(b" " * 50_000_000, mtime=0)  # 50 MB of spaces in 49 kB
    feed_server.add("/bomb", Route(raw=head % len(bomb) + bomb))
    with pytest.raises(ResponseTooLarge, match="after decompression"):
        fetch(feed_server, "/bomb", max_bytes=1_000_000)
    cut = gzip.compress(SERVED * 100, mtime=0)[:-12]
    feed_server.add("/cut", Route(raw=head % len(cut) + cut))
    with pytest.raises(FetchError) as caught:
        fetch(feed_server, "/cut")
    assert caught.value.message == (
        "broken response body: cannot decode its Content-Encoding (x-gzip)"
    )
    assert caught.value.transient  # it may come whole next time


def test_body_cap(feed_server: FeedServer) -> None:
    feed_server.add("/big", Route(b"x" * 200_000))
    with pytest.raises(ResponseTooLarge, match="cap") as caught:
        fetch(feed_server, "/big", max_bytes=100_000)
    assert not caught.value.transient


def test_gzip_bomb_stops_at_decompressed_cap(feed_server: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * 20_000_000, mtime=0)  # ~20 kB that inflates to 20 MB
    assert len(bomb) < 100_000
    feed_server.add("/bomb", Route(bomb, gzip=True))
    with pytest.raises(ResponseTooLarge, match="after decompression"):
        fetch(feed_server, "/bomb", max_bytes=1_000_000)


def test_gzip_body_is_decompressed(feed_server: FeedServer) -> None:
    feed_server.add("/gz", Route(gzip.compress(FEED, mtime=0), gzip=True))
    assert fetch(feed_server, "/gz").documents[0].body == FEED


def test_redirect_loop(feed_server: FeedServer) -> None:
    feed_server.add("/a", Route(status=302, headers={"Location": "/b"}, etag=False))
    feed_server.add("/b", Route(status=302, headers={"Location": "/a"}, etag=False))
    with pytest.raises(FetchError, match="redirects") as caught:
        fetch(feed_server, "/a", max_redirects=3)
    assert not caught.value.transient


OWN = SourceHeaders(
    (
        ("Authorization", "Bearer abc123secret"),
        ("Cookie", "session=c00kievalue"),
        ("X-Api-Key", "k3yvalue99"),
        ("User-Agent", "MyReader/1.0"),
    )
)


def fetch_as_source(server: FeedServer, path: str, state: FetchState = NO_STATE) -> Fetched:
    """``path`` fetched with :data:`OWN`, bound to the origin of the server's ``/feed``."""

    async def run() -> Fetched:
        async with HttpFetcher(FetchConfig()) as fetcher:
            return await fetcher.fetch(
                "test source",
                server.url(path),
                state,
                allow_private=True,
                headers=ScopedHeaders.of(OWN, server.url("/feed")),
            )

    return asyncio.run(run())


def test_a_sources_headers_go_with_every_hop_on_its_feeds_origin_only(
    feed_server: FeedServer,
) -> None:
    """Configured on 127.0.0.1's origin: sent to it, conditional requests and
    same-origin redirects included; a redirect to localhost (the same server
    under another name: another origin) gets none of them, and the fetcher's
    own User-Agent; a hop back to the feed's origin gets them again."""
    elsewhere = feed_server.base.replace("127.0.0.1", "localhost")
    start = feed_server.add("/start", Route(status=302, etag=False, headers={"Location": "/same"}))
    same = feed_server.add(
        "/same", Route(status=302, etag=False, headers={"Location": f"{elsewhere}/away"})
    )
    away = feed_server.add(
        "/away", Route(status=302, etag=False, headers={"Location": feed_server.url("/back")})
    )
    back = feed_server.add("/back", Route(FEED))

    fetched = fetch_as_source(feed_server, "/start")

    assert fetched.documents[0].body == FEED
    for route in (start, same, back):
        assert route.last_headers["Authorization"] == "Bearer abc123secret"
        assert route.last_headers["Cookie"] == "session=c00kievalue"
        assert route.last_headers["X-Api-Key"] == "k3yvalue99"
        assert route.last_headers["User-Agent"] == "MyReader/1.0"
    assert away.requests == 1
    assert not {"Authorization", "Cookie", "X-Api-Key"} & set(away.last_headers)
    assert away.last_headers["User-Agent"].startswith("aggregator/")

    # A conditional request carries them beside the validators.
    again = fetch_as_source(feed_server, "/back", fetched.state)
    assert again.not_modified and again.status == 304
    assert back.last_headers["If-None-Match"] == back.etag_value
    assert back.last_headers["Authorization"] == "Bearer abc123secret"


def test_a_servers_echo_of_a_sources_header_values_is_masked_in_its_errors(
    feed_server: FeedServer,
) -> None:
    """Errors are shown, logged and stored: a reason phrase or a Location
    that repeats what the request carried says ``***`` instead."""
    feed_server.add(
        "/echo",
        Route(raw=b"HTTP/1.1 401 Bearer abc123secret c00kievalue\r\nContent-Length: 0\r\n\r\n"),
    )
    feed_server.add(
        "/leak",
        Route(status=302, etag=False, headers={"Location": "ftp://h/k3yvalue99/MyReader/1.0"}),
    )

    with pytest.raises(FetchError) as echoed:
        fetch_as_source(feed_server, "/echo")
    with pytest.raises(FetchError) as leaked:
        fetch_as_source(feed_server, "/leak")

    assert str(echoed.value) == "test source: HTTP 401 *** ***"  # "Bearer abc123secret" whole
    assert (
        str(leaked.value)
        == "test source: refused: redirect to ftp://h/***/*** is not an http(s) URL"
    )


def test_refused_connection() -> None:
    async def run() -> Fetched:
        async with HttpFetcher(FetchConfig(timeout=5)) as fetcher:
            return await fetcher.fetch(
                "gone", "http://127.0.0.1:9/feed", FetchState(), allow_private=True
            )

    with pytest.raises(FetchError, match="cannot connect") as caught:
        asyncio.run(run())
    assert caught.value.transient


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({}, None),
        ({"Date": "Tue, 24 Nov 2026 07:00:00 GMT"}, None),  # a Date alone asks for nothing
        ({"Cache-Control": "public, max-age=600"}, 600),
        (
            {"Date": "Tue, 24 Nov 2026 07:00:00 GMT", "Expires": "Tue, 24 Nov 2026 08:00:00 GMT"},
            3600,
        ),
        ({"Expires": "Tue, 24 Nov 2026 08:00:00 GMT"}, None),  # no Date to read it against
        (
            {
                "Cache-Control": "max-age=60",
                "Date": "Tue, 24 Nov 2026 07:00:00 GMT",
                "Expires": "Tue, 24 Nov 2026 07:30:00 GMT",
            },
            1800,
        ),
    ],
)
def test_cache_hints(headers: dict[str, str], seconds: float | None) -> None:
    assert _cache_seconds(headers) == seconds


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", timedelta(seconds=120)),
        ("0000120", timedelta(seconds=120)),
        ("999999999999", MAX_RETRY_AFTER),  # overflowed datetime arithmetic once
        ("9" * 4400, MAX_RETRY_AFTER),  # over int()'s digit limit
        ("Fri, 31 Dec 9999 23:59:59 GMT", MAX_RETRY_AFTER),
        ("\u00b2", None),  # a digit to str.isdigit, not to int()
        ("soon", None),
    ],
)
def test_retry_after_is_a_moment_no_later_than_the_cap(
    feed_server: FeedServer, value: str, expected: timedelta | None
) -> None:
    feed_server.add("/busy", Route(b"", status=503, etag=False, headers={"Retry-After": value}))
    before = datetime.now(UTC)
    with pytest.raises(FetchError) as raised:
        fetch(feed_server, "/busy")
    after = datetime.now(UTC)
    assert raised.value.status == 503
    if expected is None:
        assert raised.value.retry_after is None
    else:
        assert raised.value.retry_after is not None
        assert before + expected <= raised.value.retry_after + timedelta(seconds=1)
        assert raised.value.retry_after <= after + expected
