"""The app over a real loopback socket: routes, validators, gzip, HEAD and errors."""

from __future__ import annotations

import dataclasses
import gzip
import json
import logging
import os
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path

import pytest

from aggregator.serve.app import NOT_PUBLISHED_RETRY_AFTER, PAGE_POLICY, create_app
from tests.serve.live import Controls, LiveServer

# A fixed mtime, so Last-Modified is known without reading the clock.
MTIME = 1_700_000_000
MTIME_HTTP = formatdate(MTIME, usegmt=True)

FILES = {
    "/": ("index.html", "text/html; charset=utf-8"),
    "/feed.atom": ("feed.atom", "application/atom+xml; charset=utf-8"),
    "/feed.rss": ("feed.rss", "application/rss+xml; charset=utf-8"),
    "/feed.json": ("feed.json", "application/feed+json; charset=utf-8"),
    "/sections/tech-science.atom": (
        "sections/tech-science.atom",
        "application/atom+xml; charset=utf-8",
    ),
    "/sections/tech-science.rss": (
        "sections/tech-science.rss",
        "application/rss+xml; charset=utf-8",
    ),
    "/sections/tech-science.json": (
        "sections/tech-science.json",
        "application/feed+json; charset=utf-8",
    ),
}


def body_for(name: str, version: int = 1) -> bytes:
    # Repetitive, like a real feed, so gzip is clearly smaller.
    entry = f"<entry><title>{name} v{version} &amp; more</title></entry>\n".encode()
    return b"<?xml version='1.0'?>\n<feed>\n" + entry * 50 + b"</feed>\n"


def publish(out_dir: Path, name: str, data: bytes, *, mtime: int = MTIME) -> None:
    """Replace the file the way the publisher does: a temporary file renamed over it."""
    path = out_dir / name
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_bytes(data)
    os.utime(temporary, (mtime, mtime))
    os.replace(temporary, path)


@pytest.fixture
def published(out_dir: Path) -> dict[str, bytes]:
    contents = {}
    for name, _ in FILES.values():
        contents[name] = body_for(name)
        publish(out_dir, name, contents[name])
    return contents


@pytest.mark.parametrize("route", list(FILES))
def test_file_routes_send_bytes_type_and_caching_headers(
    server: LiveServer, published: dict[str, bytes], route: str
) -> None:
    name, content_type = FILES[route]
    reply = server.request(route)
    assert reply.status == 200
    assert reply.body == published[name]
    assert reply.headers["content-type"] == content_type
    assert reply.headers["cache-control"] == "public, max-age=120"
    assert reply.headers["last-modified"] == MTIME_HTTP
    assert reply.headers["x-content-type-options"] == "nosniff"
    assert reply.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in reply.headers
    etag = reply.headers["etag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")


def test_page_forbids_scripts_and_feeds_do_not_need_a_policy(
    server: LiveServer, published: dict[str, bytes]
) -> None:
    page = server.request("/")
    assert page.headers["content-security-policy"] == PAGE_POLICY
    assert "script-src" not in PAGE_POLICY and "default-src 'none'" in PAGE_POLICY
    assert "content-security-policy" not in server.request("/feed.atom").headers


def test_if_none_match_gives_304_with_validators_and_no_body(
    server: LiveServer, published: dict[str, bytes]
) -> None:
    etag = server.request("/feed.atom").headers["etag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        reply = server.request("/feed.atom", {"If-None-Match": header})
        assert reply.status == 304, header
        assert reply.body == b""
        assert reply.headers["etag"] == etag
        assert reply.headers["cache-control"] == "public, max-age=120"
        assert reply.headers["vary"] == "Accept-Encoding"
        assert reply.headers["last-modified"] == MTIME_HTTP
    assert server.request("/feed.atom", {"If-None-Match": '"other"'}).status == 200


def test_if_modified_since_gives_304_unless_older_or_overridden(
    server: LiveServer, published: dict[str, bytes]
) -> None:
    def status(headers: dict[str, str]) -> int:
        return server.request("/feed.rss", headers).status

    assert status({"If-Modified-Since": MTIME_HTTP}) == 304
    assert status({"If-Modified-Since": formatdate(MTIME + 3600, usegmt=True)}) == 304
    assert status({"If-Modified-Since": formatdate(MTIME - 1, usegmt=True)}) == 200
    assert status({"If-Modified-Since": "not a date"}) == 200
    # If-None-Match wins: a stale tag means the client's copy is old, whatever the date.
    assert status({"If-Modified-Since": MTIME_HTTP, "If-None-Match": '"stale"'}) == 200


def test_replaced_file_gets_new_etag_and_old_tag_no_longer_matches(
    server: LiveServer, out_dir: Path, published: dict[str, bytes]
) -> None:
    first = server.request("/feed.atom")
    publish(out_dir, "feed.atom", body_for("feed.atom", 2), mtime=MTIME + 60)
    second = server.request("/feed.atom", {"If-None-Match": first.headers["etag"]})
    assert second.status == 200
    assert second.body == body_for("feed.atom", 2)
    assert second.headers["etag"] != first.headers["etag"]
    assert second.headers["last-modified"] == formatdate(MTIME + 60, usegmt=True)
    again = server.request("/feed.atom", {"If-None-Match": second.headers["etag"]})
    assert again.status == 304


def test_replacement_with_same_size_and_mtime_is_still_noticed(
    server: LiveServer, out_dir: Path, published: dict[str, bytes]
) -> None:
    # Two publishes within one timestamp tick, same length: only the inode differs.
    first = server.request("/feed.json")
    changed = published["feed.json"].replace(b"v1", b"v9")
    assert len(changed) == len(published["feed.json"])
    publish(out_dir, "feed.json", changed)
    second = server.request("/feed.json")
    assert second.body == changed
    assert second.headers["etag"] != first.headers["etag"]


@pytest.mark.parametrize(
    "accept_encoding", ["gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8, *;q=0.1", "*"]
)
def test_gzip_when_accepted_with_its_own_etag(
    server: LiveServer, published: dict[str, bytes], accept_encoding: str
) -> None:
    plain = server.request("/feed.atom")
    packed = server.request("/feed.atom", {"Accept-Encoding": accept_encoding})
    assert packed.status == 200
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "Accept-Encoding"
    assert packed.headers["content-type"] == "application/atom+xml; charset=utf-8"
    assert int(packed.headers["content-length"]) == len(packed.body) < len(plain.body)
    assert gzip.decompress(packed.body) == published["feed.atom"]
    assert packed.headers["etag"] != plain.headers["etag"]


@pytest.mark.parametrize(
    "accept_encoding", ["", "identity", "gzip;q=0", "deflate, br", "*;q=0, identity", "gzip;q=x"]
)
def test_identity_when_gzip_not_accepted(
    server: LiveServer, published: dict[str, bytes], accept_encoding: str
) -> None:
    reply = server.request("/feed.atom", {"Accept-Encoding": accept_encoding})
    assert reply.status == 200
    assert "content-encoding" not in reply.headers
    assert reply.body == published["feed.atom"]


def test_each_variant_validates_only_against_its_own_etag(
    server: LiveServer, published: dict[str, bytes]
) -> None:
    gz = {"Accept-Encoding": "gzip"}
    plain_tag = server.request("/feed.atom").headers["etag"]
    gzip_tag = server.request("/feed.atom", gz).headers["etag"]
    assert server.request("/feed.atom", {**gz, "If-None-Match": gzip_tag}).status == 304
    # A gzip copy is no good to a client that now asks for identity, and back.
    assert server.request("/feed.atom", {"If-None-Match": gzip_tag}).status == 200
    assert server.request("/feed.atom", {**gz, "If-None-Match": plain_tag}).status == 200


def test_head_sends_get_headers_and_no_body(
    server: LiveServer, published: dict[str, bytes]
) -> None:
    connection = server.connect()
    try:
        for headers in ({}, {"Accept-Encoding": "gzip"}):
            get = server.request("/feed.atom", headers, connection=connection)
            head = server.request("/feed.atom", headers, method="HEAD", connection=connection)
            assert head.status == 200
            assert head.body == b""
            for name in ("content-type", "content-length", "etag", "last-modified", "vary"):
                assert head.headers[name] == get.headers[name]
            assert head.headers.get("content-encoding") == get.headers.get("content-encoding")
        # Had HEAD sent body bytes, this request on the same connection would read them.
        after = server.request("/feed.rss", connection=connection)
        assert after.status == 200 and after.body == published["feed.rss"]
    finally:
        connection.close()
    plain_tag = server.request("/feed.atom").headers["etag"]
    conditional = server.request("/feed.atom", {"If-None-Match": plain_tag}, method="HEAD")
    assert (conditional.status, conditional.body) == (304, b"")
    assert conditional.headers["etag"] == plain_tag


@pytest.mark.parametrize(
    "path",
    [
        "/sections/../feed.atom",
        "/sections/%2e%2e/feed.atom",
        "/sections/..%2Ffeed.atom",
        "/sections/%2E%2E%2Ffeed.atom",
        "/sections/UPPER.atom",
        "/sections/under_score.atom",
        "/sections/.atom",
        "/sections/tech-science.xml",
        "/sections/tech-science.html",
        "/sections/tech-science.rss.atom",
        "/sections/missing.atom",
        "/sections/missing.json",
        "/index.html",
        "/nothing",
    ],
)
def test_paths_outside_the_routes_are_404(
    server: LiveServer, published: dict[str, bytes], path: str
) -> None:
    reply = server.request(path)
    assert reply.status == 404
    assert reply.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize("route", list(FILES))
def test_files_missing_once_the_daemon_has_published_are_404(
    server: LiveServer, route: str
) -> None:
    assert server.request(route).status == 404


@pytest.mark.parametrize("route", list(FILES))
def test_files_missing_before_the_daemons_first_publish_are_503_with_retry_after(
    server: LiveServer, controls: Controls, route: str
) -> None:
    """A reader subscribing to a daemon that just started is told to come
    back in a moment, not that the feed is gone."""
    controls.published = False
    reply = server.request(route)
    assert (reply.status, reply.body) == (503, b"not published yet\n")
    assert reply.headers["retry-after"] == NOT_PUBLISHED_RETRY_AFTER
    assert reply.headers["cache-control"] == "no-store"  # no cache keeps it
    assert server.request(route, method="HEAD").status == 503
    controls.published = True
    assert server.request(route).status == 404


def test_files_an_earlier_run_published_are_served_before_the_first_publish(
    server: LiveServer, controls: Controls, published: dict[str, bytes]
) -> None:
    controls.published = False
    reply = server.request("/feed.atom")
    assert (reply.status, reply.body) == (200, published["feed.atom"])
    assert server.request("/sections/missing.atom").status == 503


def test_a_directory_where_a_file_should_be_is_404(server: LiveServer, out_dir: Path) -> None:
    (out_dir / "sections" / "odd.atom").mkdir(parents=True)
    assert server.request("/sections/odd.atom").status == 404


def test_other_methods_are_405(server: LiveServer, published: dict[str, bytes]) -> None:
    reply = server.request("/feed.atom", method="POST")
    assert reply.status == 405
    assert reply.headers["x-content-type-options"] == "nosniff"


def test_healthz_follows_the_callback(server: LiveServer, controls: Controls) -> None:
    ok = server.request("/healthz")
    assert (ok.status, ok.body) == (200, b"ok\n")
    assert ok.headers["cache-control"] == "no-store"
    controls.healthy = False
    failing = server.request("/healthz")
    assert failing.status == 503
    assert failing.headers["cache-control"] == "no-store"
    assert server.request("/healthz", method="HEAD").status == 503


def test_status_is_uncached_json_of_the_callback(server: LiveServer, controls: Controls) -> None:
    controls.status = {
        "sources": 3,
        "last_pass": datetime(2024, 5, 1, 12, 0, tzinfo=UTC),
        "errors": {"b": "timeout"},
    }
    reply = server.request("/status")
    assert reply.status == 200
    assert reply.headers["content-type"] == "application/json"
    assert reply.headers["cache-control"] == "no-store"
    assert "etag" not in reply.headers
    assert json.loads(reply.body) == {
        "sources": 3,
        "last_pass": "2024-05-01T12:00:00+00:00",
        "errors": {"b": "timeout"},
    }
    controls.status = {"sources": 4}
    assert json.loads(server.request("/status").body) == {"sources": 4}


def test_sources_opml_comes_from_the_callback_with_validators(
    server: LiveServer, controls: Controls
) -> None:
    controls.opml = b'<?xml version="1.0"?>\n<opml version="2.0">' + b" " * 500 + b"</opml>\n"
    reply = server.request("/sources.opml")
    assert reply.status == 200
    assert reply.headers["content-type"] == "text/x-opml; charset=utf-8"
    assert reply.body == controls.opml
    assert "last-modified" not in reply.headers
    etag = reply.headers["etag"]
    assert server.request("/sources.opml", {"If-None-Match": etag}).status == 304
    packed = server.request("/sources.opml", {"Accept-Encoding": "gzip"})
    assert gzip.decompress(packed.body) == controls.opml
    controls.opml = b'<?xml version="1.0"?>\n<opml version="2.0"></opml>\n'
    changed = server.request("/sources.opml", {"If-None-Match": etag})
    assert (changed.status, changed.body) == (200, controls.opml)
    assert controls.opml_calls == 4


def test_feeds_carry_the_websub_link_header_and_other_files_none(
    out_dir: Path, published: dict[str, bytes]
) -> None:
    from aggregator.config import WebSubConfig, parse_config
    from aggregator.websub import feed_link_header

    config = parse_config(
        "base_url: https://news.example/\nsources:\n  - {name: A, url: http://a.example/, "
        "section: S}\n",
        out_dir / "feeds.yaml",
    )
    config = dataclasses.replace(config, websub=WebSubConfig(("https://hub.example/",)))
    app = create_app(
        out_dir,
        status=dict,
        healthy=lambda: True,
        opml=lambda: b"",
        feed_link=lambda path: feed_link_header(config, path),
    )
    live = LiveServer(app).start()
    try:
        for route, (name, _type) in FILES.items():
            link = live.request(route).headers.get("link")
            if name == "index.html":
                assert link is None
            else:
                assert link == (
                    f'<https://hub.example/>; rel="hub", <https://news.example/{name}>; rel="self"'
                ), route
        # A 304 carries it too, as the headers a 200 would.
        tag = live.request("/feed.rss").headers["etag"]
        assert 'rel="hub"' in live.request("/feed.rss", {"If-None-Match": tag}).headers["link"]
    finally:
        live.stop()


def test_without_hubs_no_link_header(server: LiveServer, published: dict[str, bytes]) -> None:
    assert "link" not in server.request("/feed.atom").headers


# Requests aiohttp's parser refuses, each sent whole on a connection of its own.
HEAD = b"GET /healthz HTTP/1.1\r\nHost: x\r\n"
MALFORMED = {
    "header-over-8190-bytes": HEAD + b"X-A: " + b"a" * 9000 + b"\r\n\r\n",
    "garbage-request-line": b"GARBAGE\r\n\r\n",
    "tls-client-hello": bytes.fromhex("1603010200010001fc0303") + bytes(40),
    "bad-content-length": HEAD + b"Content-Length: abc\r\n\r\n",
    "bad-chunk": HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
    "bytes-in-the-path": b"GET /\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n",
    # The second request of a connection: aiohttp's own quieting of a bad
    # method covers only the first.
    "garbage-after-a-request": HEAD + b"\r\nGARBAGE\r\n\r\n",
}


@pytest.mark.parametrize("request_bytes", list(MALFORMED.values()), ids=list(MALFORMED))
def test_a_malformed_request_is_a_400_and_one_debug_line_without_traceback(
    server: LiveServer, caplog: pytest.LogCaptureFixture, request_bytes: bytes
) -> None:
    caplog.set_level(logging.DEBUG)
    sock = server.raw()
    try:
        sock.sendall(request_bytes)
        answer = b""
        while chunk := sock.recv(65536):  # the server closes the connection after a 400
            answer += chunk
    finally:
        sock.close()
    assert b" 400 Bad Request\r\n" in answer, answer
    said = [r for r in caplog.records if r.name.startswith(("aiohttp", "aggregator"))]
    bad = [r for r in said if "bad request" in r.getMessage()]
    assert len(bad) == 1, [r.getMessage() for r in said]
    assert bad[0].levelno == logging.DEBUG
    assert "127.0.0.1" in bad[0].getMessage()
    assert "\n" not in bad[0].getMessage() and len(bad[0].getMessage()) < 200
    assert not [r for r in said if r.exc_info or r.levelno >= logging.WARNING], said


def test_a_bug_in_a_handler_is_still_logged_with_its_traceback(
    server: LiveServer, controls: Controls, caplog: pytest.LogCaptureFixture
) -> None:
    controls.status = {"odd": object()}  # json cannot write it: _json_default raises
    assert server.request("/status").status == 500
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert errors[0].exc_info[0] is TypeError
