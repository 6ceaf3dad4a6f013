"""WebSub as a publisher: the pings a publish sends to a real hub on 127.0.0.1,
the hubs the feeds name, and the Link headers the server sends."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl

import feedparser
import pytest

from aggregator.config import parse_config
from aggregator.errors import ConfigError
from aggregator.fetch.http import post_form
from aggregator.pipeline import Pipeline
from aggregator.publishing import Publisher
from aggregator.store import open_store
from aggregator.websub import feed_files, link_header, notify_hubs
from aggregator.workers import Workers
from tests.conftest import DATA
from tests.feedserver import FeedServer, Route
from tests.publish.sample import ENTRIES, META
from tests.test_daemon import Daemon, write_config
from tests.waiting import wait_until

FEED = "https://news.example/feed.atom"
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


class Hub:
    """A WebSub hub that records each ping and answers each path's statuses in turn."""

    def __init__(self) -> None:
        self.pings: list[tuple[str, str, dict[str, str]]] = []  # path, content type, form
        self.statuses: dict[str, list[int]] = {}
        self.answering = threading.Event()  # cleared: pings wait for it before answering
        self.answering.set()
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                form = dict(parse_qsl(body.decode()))
                hub.answering.wait(timeout=30)
                hub.pings.append((self.path, self.headers.get("Content-Type", ""), form))
                waiting = hub.statuses.get(self.path)
                self.send_response(waiting.pop(0) if waiting else 204)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        # A short poll: shutdown() waits for the loop to look.
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def forms(self, path: str = "/") -> list[dict[str, str]]:
        return [form for at, _type, form in self.pings if at == path]


@pytest.fixture
def hub() -> Iterator[Hub]:
    running = Hub()
    running.thread.start()
    try:
        yield running
    finally:
        running.server.shutdown()
        running.server.server_close()


async def _post(url: str, fields: object) -> str | None:
    return await post_form(url, fields, user_agent="test-agent", timeout=5)  # type: ignore[arg-type]


def test_a_ping_is_a_form_encoded_publish_of_the_feeds_url(hub: Hub) -> None:
    results = asyncio.run(notify_hubs([hub.url + "/"], [FEED], post=_post))
    assert results == [(hub.url + "/", FEED, None)]
    ((_path, content_type, form),) = hub.pings
    assert content_type == "application/x-www-form-urlencoded"
    assert form == {"hub.mode": "publish", "hub.url": FEED}


def test_a_failed_ping_is_tried_once_more_after_the_delay(hub: Hub) -> None:
    hub.statuses["/flaky"] = [503]
    hub.statuses["/down"] = [500, 500, 500]
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    results = asyncio.run(
        notify_hubs(
            [hub.url + "/flaky", hub.url + "/down"], [FEED], post=_post, retry_delay=7, sleep=sleep
        )
    )
    assert results == [(hub.url + "/flaky", FEED, None), (hub.url + "/down", FEED, "HTTP 500")]
    assert waits == [7, 7]
    assert len(hub.forms("/flaky")) == 2 and len(hub.forms("/down")) == 2  # one retry, no more


def test_a_hub_that_is_not_there_is_a_warning_not_an_error(
    hub: Hub, caplog: pytest.LogCaptureFixture
) -> None:
    hub.server.server_close()  # nothing listens there any more
    gone = hub.url + "/"

    async def no_wait(seconds: float) -> None:
        pass

    with caplog.at_level(logging.WARNING, logger="aggregator.websub"):
        ((_hub, _feed, error),) = asyncio.run(
            notify_hubs([gone], [FEED], post=_post, sleep=no_wait)
        )
    assert error is not None
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith(f"WebSub hub {gone} not told of {FEED}: ")
    assert "\n" not in line


def test_link_header_names_each_hub_then_the_feed() -> None:
    assert link_header(["https://a.example/hub", "https://b.example/"], FEED) == (
        f'<https://a.example/hub>; rel="hub", <https://b.example/>; rel="hub", <{FEED}>; rel="self"'
    )
    assert link_header([], FEED) is None
    assert feed_files(["feed.atom", "index.html", "sections/a.rss", "sections/a.json"]) == [
        "feed.atom",
        "sections/a.rss",
        "sections/a.json",
    ]


def test_every_feed_names_its_hubs_and_itself() -> None:
    from dataclasses import replace

    from aggregator.publish import render_atom, render_json_feed, render_rss

    meta = replace(META, hubs=("https://hub.example/", "https://other.example/hub"))
    atom = feedparser.parse(render_atom(ENTRIES, meta)).feed
    rss = feedparser.parse(render_rss(ENTRIES, meta)).feed
    for parsed, own in ((atom, "feed.atom"), (rss, "feed.rss")):
        links = [(link.rel, link.href) for link in parsed.links if link.rel in ("hub", "self")]
        assert links == [
            ("self", f"https://news.example.org/digest/{own}"),
            ("hub", "https://hub.example/"),
            ("hub", "https://other.example/hub"),
        ]
    assert feedparser.parse(render_rss(ENTRIES, meta)).feed.link == (
        "https://news.example.org/digest/"  # the channel's link is still the site
    )
    document = json.loads(render_json_feed(ENTRIES, meta))
    assert document["hubs"] == [
        {"type": "WebSub", "url": "https://hub.example/"},
        {"type": "WebSub", "url": "https://other.example/hub"},
    ]
    assert "hubs" not in json.loads(render_json_feed(ENTRIES, META))


def test_a_publish_that_changed_feeds_pings_the_hub_for_each(hub: Hub, tmp_path: Path) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "a.xml").write_bytes(
        b'<rss version="2.0"><channel><title>A</title><item><guid>1</guid><title>One</title>'
        b"<description>Text.</description><pubDate>Tue, 24 Nov 2026 10:00:00 GMT</pubDate>"
        b"</item></channel></rss>"
    )
    config = parse_config(
        "store: db.sqlite\nbase_url: https://news.example/\n"
        f"websub: {{hubs: ['{hub.url}/hub']}}\n"
        "sources:\n  - {name: A, path: feeds/a.xml, section: World}\n",
        tmp_path / "feeds.yaml",
    )
    store = open_store(config.store)
    try:

        async def run() -> None:
            async with Pipeline(config, store) as pipeline:
                await pipeline.update(config.sources, NOW)
            publisher = Publisher(config, store, Workers())
            assert (await publisher.publish_if_changed())[1] is not None
            # Nothing changed: nothing published, no hub told.
            assert (await publisher.publish_if_changed())[1] is None
            await publisher.notices.finish()

        asyncio.run(run())
    finally:
        store.close()
    told = sorted(form["hub.url"] for form in hub.forms("/hub"))
    assert told == sorted(
        f"https://news.example/{name}"
        for name in (
            "feed.atom",
            "feed.rss",
            "feed.json",
            "sections/world.atom",
            "sections/world.rss",
            "sections/world.json",
        )
    )
    atom = feedparser.parse((config.output.dir / "feed.atom").read_bytes())
    assert [link.href for link in atom.feed.links if link.rel == "hub"] == [f"{hub.url}/hub"]


def test_a_hub_that_does_not_answer_holds_up_neither_publishing_nor_the_next(
    hub: Hub, tmp_path: Path
) -> None:
    (tmp_path / "a.xml").write_bytes(
        b'<rss version="2.0"><channel><title>A</title><item><guid>1</guid><title>One</title>'
        b"<description>Text.</description></item></channel></rss>"
    )
    config = parse_config(
        "store: db.sqlite\nbase_url: https://news.example/\n"
        f"websub: {{hubs: ['{hub.url}/hub']}}\n"
        "sources:\n  - {name: A, path: a.xml, section: World}\n",
        tmp_path / "feeds.yaml",
    )
    hub.answering.clear()
    store = open_store(config.store)
    try:

        async def run() -> None:
            async with Pipeline(config, store) as pipeline:
                await pipeline.update(config.sources, NOW)
                # Published, files written, while every ping waits on the hub.
                assert (await pipeline.publish_if_changed())[1] is not None
                assert (config.output.dir / "feed.atom").is_file()
                assert hub.pings == []
                (tmp_path / "a.xml").write_bytes(
                    (tmp_path / "a.xml").read_bytes().replace(b"One", b"Two")
                )
                await pipeline.update(config.sources, NOW)
                assert (await pipeline.publish_if_changed())[1] is not None
                hub.answering.set()
            # The end of the run waited for the pings of both publishes.

        asyncio.run(run())
    finally:
        store.close()
    assert len(hub.forms("/hub")) == 12


@pytest.mark.parametrize("hubs", ["['javascript:alert(1)']", "['ftp://hub.example/']", "hub"])
def test_a_bad_hub_is_one_line_naming_its_key(tmp_path: Path, hubs: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(
            f"websub: {{hubs: {hubs}}}\nsources:\n  - {{name: A, url: http://a.example/, "
            "section: S}\n",
            tmp_path / "feeds.yaml",
        )
    message = str(raised.value)
    assert "feeds.yaml:1: websub.hubs" in message and "\n" not in message


def test_the_daemon_pings_its_hub_and_sends_link_headers(
    hub: Hub, tmp_path: Path, feed_server: FeedServer
) -> None:
    """End to end: ``aggregate`` (the daemon) polls a feed, publishes, tells the
    hub of each feed at the URL it serves it under, and says so in Link headers."""
    feed_server.add("/feed", Route((DATA / "feeds" / "rss20.xml").read_bytes()))
    config = write_config(tmp_path, feed_server, ["/feed"], [f"websub: {{hubs: ['{hub.url}/h']}}"])
    daemon = Daemon(config, tmp_path / "daemon.log")
    try:
        assert wait_until(lambda: len(hub.forms("/h")) >= 6)
        told = {form["hub.url"] for form in hub.forms("/h")}
        assert {f"{daemon.base}/feed.atom", f"{daemon.base}/sections/news.rss"} <= told
        code, headers, _body = daemon.get("/sections/news.rss")
        assert code == 200 and headers["Content-Type"].startswith("application/rss+xml")
        assert headers["Link"] == (
            f'<{hub.url}/h>; rel="hub", <{daemon.base}/sections/news.rss>; rel="self"'
        )
        assert "Link" not in daemon.get("/")[1]
        assert daemon.stop()[0] == 0
    finally:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()
