"""Two daemons over one PostgreSQL store, each with its own output directory
(two machines): every source polled once, the same feed served by both."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.store import open_store
from tests.cluster.stories import corpus, write_config
from tests.feedserver import FeedServer, Route
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def start_daemon(config: Path, out: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:
        return subprocess.Popen(
            [sys.executable, "-m", "aggregator.cli", "-c", str(config), "--port", "0",
             "--out", str(out), "--log-level", "WARNING"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )  # fmt: skip


def port_of(log: Path, timeout: float = 30) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = re.search(r"on http://127\.0\.0\.1:(\d+)/", log.read_text())
        if found:
            return int(found.group(1))
        time.sleep(0.05)
    raise AssertionError(f"the daemon did not start: {log.read_text()[-2000:]}")


def get(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers.get("ETag", "")
    except OSError:
        return 0, b"", ""


def test_two_daemons_poll_each_source_once_and_serve_the_same_feed(
    feeds: FeedServer, postgres_database_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "feeds.yaml", feeds, postgres_database_url, tmp_path / "x")
    # Documents the same whichever node publishes: their self links must not
    # name the port each daemon happened to get.
    config.write_text("base_url: https://news.example/\n" + config.read_text())
    stories = len({guid.split("-")[1] for entries in corpus() for guid, _, _ in entries})
    logs = [tmp_path / "a.log", tmp_path / "b.log"]
    daemons = [
        start_daemon(config, tmp_path / "out-a", logs[0]),
        start_daemon(config, tmp_path / "out-b", logs[1]),
    ]
    try:
        ports = [port_of(log) for log in logs]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            served = [get(f"http://127.0.0.1:{port}/feed.atom") for port in ports]
            same = all(status == 200 for status, _, _ in served) and served[0] == served[1]
            # Every story is in the feed before every feed is polled (they
            # share stories): wait for both.
            polled = all(route.requests for route in feeds.routes.values())
            if same and polled and served[0][1].count(b"<entry>") == stories:
                break
            time.sleep(0.2)
        else:
            statuses = [status for status, _, _ in served]
            raise AssertionError(f"not the same feed: {statuses} {logs[0].read_text()[-2000:]}")
    finally:
        for daemon in daemons:
            if daemon.poll() is None:
                os.killpg(daemon.pid, signal.SIGTERM)
        codes = [daemon.wait(30) for daemon in daemons]
    assert codes == [0, 0], [log.read_text()[-2000:] for log in logs]
    assert served[0][2] and served[0][2] == served[1][2]  # the same ETag
    polls = {path: route.requests for path, route in feeds.routes.items()}
    assert set(polls.values()) == {1}, polls  # no source polled twice for one due time


def answer(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()
    except OSError:
        return 0, {}, b""


def test_a_fresh_daemon_serves_feeds_without_entries_before_any_poll_changes_them(
    feed_server: FeedServer, postgres_database_url: str, tmp_path: Path
) -> None:
    """As the SQLite daemon publishes as it starts: its only source failing,
    no poll would ever publish, and a reader subscribing would get 404s."""
    failing = feed_server.add("/down.xml", Route(b"down", status=500))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"title: Fresh\nallow_private: true\nstore: '{postgres_database_url}'\n"
        "base_url: https://news.example/\n"
        f"sources:\n  - {{name: down, url: '{feed_server.url('/down.xml')}', section: News}}\n"
    )
    log = tmp_path / "daemon.log"
    daemon = start_daemon(config, tmp_path / "out", log)
    try:
        url = f"http://127.0.0.1:{port_of(log)}/feed.atom"
        answers: list[tuple[int, dict[str, str], bytes]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            answers.append(answer(url))
            if answers[-1][0] == 200:
                break
            time.sleep(0.05)
        assert wait_until(lambda: failing.requests >= 1, 30)  # polled, and failed: nothing stored
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        code = daemon.wait(30)
    assert code == 0, log.read_text()[-2000:]
    status, _headers, body = answers[-1]
    assert status == 200, (answers[-1], log.read_text()[-2000:])
    assert b"<feed" in body and b"<entry>" not in body  # valid, and without entries
    # Until then: come back in a moment, never "not found".
    for status, headers, _body in answers[:-1]:
        assert (status, headers.get("Retry-After")) == (503, "5"), (status, headers)
    store = open_store(load_config(config).store)
    try:
        assert store.published_state() is not None  # for every daemon to copy
    finally:
        store.close()


def test_sighup_reloads_a_cluster_daemons_sources(
    feeds: FeedServer, postgres_database_url: str, tmp_path: Path
) -> None:
    import json

    config = write_config(tmp_path / "feeds.yaml", feeds, postgres_database_url, tmp_path / "x")
    log = tmp_path / "daemon.log"
    extra = feeds.add(
        "/extra.xml", Route(feeds.routes["/feed0.xml"].body.replace(b"feed0", b"extra"))
    )
    daemon = start_daemon(config, tmp_path / "out", log)
    try:
        port = port_of(log)
        assert wait_until(lambda: feeds.routes["/feed1.xml"].requests >= 1, 30)
        text = config.read_text()
        start = text.index("  - name: feed1\n")
        end = text.index("  - name: feed2\n")
        config.write_text(
            text[:start]
            + text[end:]
            + f"  - name: extra\n    url: {feeds.url('/extra.xml')}\n    section: S9\n"
        )
        os.killpg(daemon.pid, signal.SIGHUP)

        assert wait_until(lambda: extra.requests >= 1, 30), log.read_text()[-2000:]

        def names() -> list[str]:
            status, body, _ = get(f"http://127.0.0.1:{port}/status")
            return [s["name"] for s in json.loads(body)["sources"]] if status == 200 else []

        assert "extra" in names() and "feed1" not in names()
        assert "configuration reloaded" in log.read_text()
        assert wait_until(
            lambda: b"extra.xml" in get(f"http://127.0.0.1:{port}/sources.opml")[1], 30
        )
    finally:
        os.killpg(daemon.pid, signal.SIGTERM)
        code = daemon.wait(30)
    assert code == 0, log.read_text()[-2000:]
    assert "Traceback" not in log.read_text()
