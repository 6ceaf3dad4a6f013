"""Credentials in a source URL never leave the configuration (issue 12, section 2).

A source configured as ``http://USER:PASSWORD@host/feed?token=TOKEN`` is
fetched with its credentials, but neither the password, the user name nor a
secret-looking query value appears in anything published or shown: the files
in the output directory, the ``--once`` lines, ``aggregate status``, and the
daemon's ``/status``, ``/sources.opml``, feeds and log.
"""

from __future__ import annotations

import base64
import io
import json
import re
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from aggregator.cli import main
from tests.feedserver import FeedServer, Route
from tests.test_daemon import Daemon, wait_for

USER = "feedadmin"
PASSWORD = "hunter2pass"
TOKEN = "S3CRETTOKEN"
API_KEY = "K3YVALUE"
SECRETS = (USER, PASSWORD, TOKEN, API_KEY)

# Relative links resolve against the feed's own URL: they must not carry its
# user info (or its token, for a link that is the feed's URL itself).
RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Private feed</title><link>/</link>
<description>d</description>
<item><title>Relative story</title><link>/news/one</link><guid>rel-1</guid>
<pubDate>Tue, 19 Nov 2024 08:00:00 +0000</pubDate>
<description>A story whose link is relative to the feed.</description></item>
<item><title>Same-page story</title><link>#two</link><guid>rel-2</guid>
<pubDate>Tue, 19 Nov 2024 09:00:00 +0000</pubDate>
<description>A story whose link is the feed's own address.</description></item>
</channel></rss>"""


def secret_url(server: FeedServer, path_and_query: str) -> str:
    return server.url(path_and_query).replace("http://", f"http://{USER}:{PASSWORD}@", 1)


def write_config(tmp_path: Path, server: FeedServer, extra: str = "") -> Path:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""\
allow_private: true
interval: 1s
min_interval: 1s
serve:
  port: 0
{extra}sources:
  - name: Private
    url: {secret_url(server, f"/feed.xml?token={TOKEN}&page=1")}
    section: News
  - name: Missing
    url: {secret_url(server, f"/missing.xml?api_key={API_KEY}")}
    section: News
  - name: Guarded
    url: {secret_url(server, f"/guarded.xml?sig={TOKEN}")}
    section: News
    allow_private: false
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def private_feed(feed_server: FeedServer) -> Iterator[Route]:
    route = feed_server.add(f"/feed.xml?token={TOKEN}&page=1", Route(RSS))
    yield route


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} in {where}: {text[:2000]}"


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(argv)
    return code, out.getvalue()


def test_once_publishes_and_shows_no_credentials(
    tmp_path: Path, feed_server: FeedServer, private_feed: Route
) -> None:
    config = write_config(tmp_path, feed_server)
    code, lines = run(["--once", "-c", str(config)])

    # The credentials were used: the server got them as Basic authentication.
    expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert private_feed.last_headers.get("Authorization") == f"Basic {expected}"
    assert code == 0, lines
    assert "Missing" in lines and "404" in lines and "Guarded" in lines
    assert_no_secret("the --once lines", lines)

    published = [p for p in (tmp_path / "out").rglob("*") if p.is_file()]
    assert {p.name for p in published} >= {"feed.atom", "feed.rss", "feed.json", "index.html"}
    for path in published:
        assert_no_secret(str(path), path.read_text(encoding="utf-8", errors="replace"))
    # The source is still named, by its public address.
    atom = (tmp_path / "out" / "feed.atom").read_text(encoding="utf-8")
    assert f"{feed_server.base}/feed.xml?token=***&amp;page=1" in atom
    assert f"{feed_server.base}/news/one" in atom

    code, status = run(["status", "-c", str(config)])
    assert code == 0 and "HTTP 404" in status and "refused" in status
    assert_no_secret("aggregate status", status)


@pytest.mark.slow
def test_daemon_shows_no_credentials(
    tmp_path: Path, feed_server: FeedServer, private_feed: Route
) -> None:
    config = write_config(tmp_path, feed_server)
    daemon = Daemon(config, tmp_path / "daemon.log")
    try:
        assert wait_for(lambda: b"Relative story" in daemon.get("/feed.atom")[2], 15)

        def failures_recorded() -> bool:
            sources = json.loads(daemon.get("/status")[2])["sources"]
            return all(s["last_error"] for s in sources if s["name"] != "Private")

        assert wait_for(failures_recorded, 15)
        for path in ("/status", "/sources.opml", "/feed.atom", "/feed.rss", "/feed.json", "/"):
            code, _headers, body = daemon.get(path)
            assert code == 200, path
            assert_no_secret(path, body.decode("utf-8", errors="replace"))
        opml = daemon.get("/sources.opml")[2].decode()
        assert re.search(
            r'xmlUrl="http://127\.0\.0\.1:\d+/feed\.xml\?token=\*\*\*&amp;page=1"', opml
        )
    finally:
        daemon.process.terminate()
        daemon.process.wait(10)
    assert_no_secret("the daemon's log", daemon.log_text())
