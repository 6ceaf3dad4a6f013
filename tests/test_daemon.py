"""The daemon as a subprocess, against a loopback feed server the test changes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pytest

from aggregator.cli import main
from aggregator.config import MAX_CONFIG_BYTES
from aggregator.errors import PublishError
from aggregator.store import open_store
from tests import processes
from tests.conftest import DATA
from tests.feedserver import FeedServer, Route
from tests.store.sqlite_file import integrity
from tests.waiting import wait_until

if TYPE_CHECKING:
    from aggregator.daemon import Daemon as InProcessDaemon

AGGREGATE = str(Path(sys.executable).parent / "aggregate")
# Without its <ttl>60</ttl>, which would rightly make the daemon wait an hour.
RSS = (DATA / "feeds" / "rss20.xml").read_bytes().replace(b"<ttl>60</ttl>", b"")
NEW_ITEM = b"""<item><title>Breaking: ceasefire talks resume</title>
<link>https://kyiv-daily.example/news/talks</link><guid isPermaLink="false">kd-2000</guid>
<pubDate>Tue, 19 Nov 2024 09:30:00 +0000</pubDate>
<description>Negotiators met again on Tuesday for a new round of talks.</description></item>"""


class Daemon:
    def __init__(self, config: Path, log: Path, *options: str, piped: bool = False):
        """``piped``: its stderr goes through a pipe the test copies to ``log``,
        so that the log is written whatever the daemon may no longer write."""
        self.log = log
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [AGGREGATE, "-c", str(config), "--log-level", "INFO", *options],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE if piped else stderr,
                # Its own process group, as in a terminal: see ctrl_c().
                start_new_session=True,
            )
        if piped:
            threading.Thread(target=_copy, args=(self.process.stderr, log), daemon=True).start()
        assert wait_until(
            lambda: "serving" in self.log_text() or self.process.poll() is not None, 20
        )
        assert self.process.poll() is None, self.log_text()
        match = re.search(r"on http://127\.0\.0\.1:(\d+)/", self.log_text())
        assert match is not None
        self.base = f"http://127.0.0.1:{match.group(1)}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")

    def get(
        self, path: str, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.base + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    def status(self) -> dict[str, dict[str, object]]:
        _code, _headers, body = self.get("/status")
        return {s["name"]: s for s in json.loads(body)["sources"]}

    def stop(self, interrupt: Callable[[int], None] | None = None) -> tuple[int, float]:
        """Stop it by SIGTERM, or by ``interrupt`` of its pid: the exit code, and the time taken."""
        started = time.monotonic()
        (interrupt or sigterm)(self.process.pid)
        code = self.process.wait(timeout=15)
        return code, time.monotonic() - started


def _copy(pipe: IO[bytes], path: Path) -> None:
    with pipe, path.open("ab") as log:
        for line in pipe:
            log.write(line)
            log.flush()


def _item_count(database: Path) -> int:
    store = open_store(database)
    try:
        return sum(1 for _item in store.iter_items())
    finally:
        store.close()


def sigterm(pid: int) -> None:
    os.kill(pid, signal.SIGTERM)


def ctrl_c(pid: int) -> None:
    """What Ctrl-C in a terminal does: SIGINT to every process of the foreground group."""
    os.killpg(pid, signal.SIGINT)


def write_config(
    tmp_path: Path, server: FeedServer, paths: list[str], extra: Sequence[str] = ()
) -> Path:
    lines = [
        *extra,
        "allow_private: true",
        "min_interval: 1s",
        "interval: 1s",
        "serve:",
        "  host: 127.0.0.1",
        "  port: 0",
        "sources:",
    ]
    for path in paths:
        lines += [
            f"  - name: {path.strip('/')}",
            f"    url: {server.url(path)}",
            "    section: News",
        ]
    config = tmp_path / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def run(config: Path, *options: str, piped: bool = False) -> Daemon:
        daemon = Daemon(config, tmp_path / f"daemon{len(started)}.log", *options, piped=piped)
        started.append(daemon)
        return daemon

    yield run
    for daemon in started:
        if daemon.process.poll() is None:
            daemon.process.kill()
            daemon.process.wait()


def test_serves_polls_and_stops(
    tmp_path: Path, feed_server: FeedServer, start: Callable[[Path], Daemon]
) -> None:
    route = feed_server.add("/feed", Route(RSS))
    config = write_config(tmp_path, feed_server, ["/feed"])
    daemon = start(config)

    assert wait_until(lambda: b"Grain corridor" in daemon.get("/feed.atom")[2])
    code, headers, body = daemon.get("/feed.atom")
    assert code == 200 and headers["Content-Type"].startswith("application/atom+xml")
    etag = headers["ETag"]
    # The self link names where the feed is really served (port 0 picked a free one).
    assert f'href="{daemon.base}/feed.atom" rel="self"'.encode() in body
    assert daemon.get("/feed.atom", {"If-None-Match": etag})[0] == 304
    assert daemon.get("/healthz")[0] == 200
    opml = daemon.get("/sources.opml")
    assert opml[0] == 200 and feed_server.url("/feed").encode() in opml[2]

    # Polled again and again, conditionally: the server keeps answering 304.
    polls = route.requests
    assert wait_until(lambda: route.requests >= polls + 2)
    assert daemon.get("/feed.atom", {"If-None-Match": etag})[0] == 304

    # The source gains an item: it is served within its interval, with a new ETag.
    route.body = RSS.replace(b"<item>", NEW_ITEM + b"<item>", 1)
    assert wait_until(lambda: b"ceasefire talks resume" in daemon.get("/feed.atom")[2], 10)
    code, headers, _body = daemon.get("/feed.atom", {"If-None-Match": etag})
    assert code == 200 and headers["ETag"] != etag

    code, seconds = daemon.stop()
    assert code == 0
    assert seconds < 5
    database = tmp_path / ".aggregator" / "aggregator.db"
    assert integrity(database) == "ok"
    assert _item_count(database) == 3
    status = subprocess.run(
        [AGGREGATE, "status", "-c", str(config)], capture_output=True, text=True, check=True
    )
    assert re.search(r"^feed\s+ok\s", status.stdout, flags=re.MULTILINE), status.stdout


def test_politeness(
    tmp_path: Path, feed_server: FeedServer, start: Callable[[Path], Daemon]
) -> None:
    limited = feed_server.add(
        "/limited", Route(b"slow down", status=429, headers={"Retry-After": "3600"}, etag=False)
    )
    gone = feed_server.add("/gone", Route(b"gone", status=410, etag=False))
    moved = feed_server.add("/moved", Route(status=301, headers={"Location": "/new"}, etag=False))
    new = feed_server.add("/new", Route(RSS))
    config = write_config(tmp_path, feed_server, ["/limited", "/gone", "/moved"])
    daemon = start(config)

    # The permanent redirect is followed each time, and trusted after 3 polls in a row;
    # from then on the new URL is polled directly.
    assert wait_until(lambda: daemon.status()["moved"]["url"] == feed_server.url("/new"), 15)
    assert "moved permanently" in daemon.log_text()
    moved_requests = moved.requests
    assert moved_requests == 3
    polled = new.requests
    assert wait_until(lambda: new.requests >= polled + 2)
    assert moved.requests == moved_requests

    # 429 with Retry-After: 3600 and 410 Gone: one request each, never again.
    assert limited.requests == 1
    assert gone.requests == 1
    status = daemon.status()
    assert status["gone"]["disabled"]
    assert status["limited"]["next_due"] > time.strftime(
        "%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 3500)
    )
    assert daemon.stop()[0] == 0


def test_second_daemon_refuses(
    tmp_path: Path, feed_server: FeedServer, start: Callable[[Path], Daemon]
) -> None:
    feed_server.add("/feed", Route(RSS))
    config = write_config(tmp_path, feed_server, ["/feed"])
    daemon = start(config)
    second = subprocess.run(
        [AGGREGATE, "-c", str(config)], capture_output=True, text=True, timeout=30, check=False
    )
    assert second.returncode == 1
    assert "already using" in second.stderr and str(daemon.process.pid) in second.stderr
    once = subprocess.run(
        [AGGREGATE, "--once", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert once.returncode == 1 and "already using" in once.stderr
    assert daemon.stop()[0] == 0
    assert os.path.exists(tmp_path / "out" / "feed.atom")


def test_a_full_disk_is_one_error_line_per_failed_poll_without_traceback(
    tmp_path: Path, feed_server: FeedServer, start: Callable[..., Daemon]
) -> None:
    feed_server.add("/feed", Route(RSS))
    config = write_config(tmp_path, feed_server, ["/feed"])
    daemon = start(config, piped=True)
    # Polled, stored and published: nothing more to write until the next poll.
    assert wait_until(lambda: b"Grain corridor" in daemon.get("/feed.atom")[2])
    pid = daemon.process.pid
    _soft, hard = resource.prlimit(pid, resource.RLIMIT_FSIZE)
    # A full disk, as SQLite meets it: no file of the daemon's may grow (or be
    # written) past its first 4 KB, so every commit fails.
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (4096, hard))
    assert wait_until(lambda: daemon.log_text().count("poll failed") >= 3, 15), daemon.log_text()
    resource.prlimit(pid, resource.RLIMIT_FSIZE, (hard, hard))
    # The disk has room again: the next poll is stored.
    said = len(daemon.log_text())
    assert wait_until(lambda: "unchanged  feed:" in daemon.log_text()[said:]), daemon.log_text()

    assert daemon.stop()[0] == 0
    log = daemon.log_text()
    database = tmp_path / ".aggregator" / "aggregator.db"
    errors = [line.split(" ERROR ", 1)[1] for line in log.splitlines() if " ERROR " in line]
    # Each failure once, by the daemon, naming the source (or publishing, had
    # one been under way) and the database; not again by APScheduler, and
    # with no traceback.
    polls = [
        e for e in errors if e.startswith(f"aggregator.daemon: feed: poll failed: {database}: ")
    ]
    publishing = [e for e in errors if e.startswith("aggregator.daemon: publishing failed: ")]
    assert len(polls) >= 3 and len(polls) + len(publishing) == len(errors), log
    assert "Traceback" not in log and "raised an exception" not in log, log
    assert integrity(database) == "ok"


def daemon_in_this_process(tmp_path: Path, **options: Any) -> InProcessDaemon:
    """A daemon of one source, made here and not started: for its job wrappers."""
    from aggregator.config import parse_config
    from aggregator.daemon import Daemon as RealDaemon

    config = parse_config(
        "sources:\n  - {name: a, url: 'https://a.example/', section: S}\n",
        tmp_path / "feeds.yaml",
    )
    return RealDaemon(config, **options)


def test_a_bug_in_a_job_still_reaches_apscheduler(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def bug() -> None:
        raise RuntimeError("a bug")

    # Raised on: APScheduler logs it with its traceback.
    with pytest.raises(RuntimeError, match="a bug"):
        asyncio.run(daemon_in_this_process(tmp_path)._as_job(bug(), "a: poll"))
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_a_bug_in_a_poll_is_logged_once_with_its_traceback_and_source(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from apscheduler.events import EVENT_JOB_ERROR

    from aggregator.daemon import _new_scheduler

    daemon = daemon_in_this_process(tmp_path)
    source = daemon.config.sources[0]

    async def bug(source: object) -> None:
        raise RuntimeError("a bug")

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        daemon._poll = bug  # type: ignore[method-assign]
        scheduler = _new_scheduler(loop)
        failed = asyncio.Event()
        scheduler.add_listener(lambda _event: loop.call_soon(failed.set), EVENT_JOB_ERROR)
        scheduler.add_job(daemon.poll, "date", args=[source], id="source:a", name=source.name)
        scheduler.start()
        try:
            await asyncio.wait_for(failed.wait(), 10)
            await asyncio.sleep(0)
        finally:
            scheduler.shutdown(wait=False)

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, [r.getMessage() for r in errors]
    assert errors[0].getMessage().startswith('Job "a (trigger')
    assert errors[0].exc_info and "a bug" in str(errors[0].exc_info[1])


def test_stop_lets_an_inflight_poll_finish(
    tmp_path: Path, feed_server: FeedServer, start: Callable[..., Daemon]
) -> None:
    # Answers well within the grace period (3 s by default).
    route = feed_server.add("/slow", Route(RSS, delay=0.5))
    daemon = start(write_config(tmp_path, feed_server, ["/slow"]))
    assert wait_until(lambda: route.requests >= 1)

    code, _seconds = daemon.stop()

    assert code == 0
    log = daemon.log_text()
    assert "Traceback" not in log and "CancelledError" not in log, log
    assert _item_count(tmp_path / ".aggregator" / "aggregator.db") == 2
    assert b"Grain corridor" in (tmp_path / "out" / "feed.atom").read_bytes()


def big_feed(items: int = 1000, paragraphs: int = 200) -> bytes:
    """25 MB of RSS: over ten seconds of parsing and summarizing."""
    parts = [
        b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        b"<title>Big</title><link>https://big.example/</link><description>Big</description>"
    ]
    for item in range(items):
        text = "".join(
            f"<p>Paragraph {p} of story {item} says that officials in city {p * 7 % 13} "
            f"met on day {p}. They discussed item {item + p} and agreed on nothing.</p>"
            for p in range(paragraphs)
        )
        parts.append(
            f"<item><title>Story {item}</title><link>https://big.example/{item}</link>"
            f"<guid>big-{item}</guid><pubDate>Mon, 18 Nov 2024 09:30:00 +0000</pubDate>"
            f"<description><![CDATA[{text}]]></description></item>".encode()
        )
    parts.append(b"</channel></rss>")
    return b"".join(parts)


@pytest.mark.parametrize("interrupt", [sigterm, ctrl_c])
def test_stop_does_not_wait_for_a_long_parse(
    tmp_path: Path,
    feed_server: FeedServer,
    start: Callable[..., Daemon],
    interrupt: Callable[[int], None],
) -> None:
    body = big_feed()
    sent = threading.Event()

    def stream() -> Iterator[bytes]:
        for offset in range(0, len(body), 1 << 20):
            yield body[offset : offset + (1 << 20)]
        sent.set()

    feed_server.add("/big", Route(stream=stream, etag=False))
    config = write_config(tmp_path, feed_server, ["/big"], ["fetch:", "  max_bytes: 50MB"])
    daemon = start(config, "--stop-grace", "1")
    assert wait_until(sent.is_set, 30)
    # The body is in; once the daemon's processes have worked on it for a
    # while, the parse is under way (wherever it runs).
    worked = processes.cpu_seconds(processes.tree(daemon.process.pid))
    assert wait_until(
        lambda: processes.cpu_seconds(processes.tree(daemon.process.pid)) > worked + 2, 30
    )
    started = processes.tree(daemon.process.pid)

    code, seconds = daemon.stop(interrupt)

    assert code == 0
    assert seconds < 1 + 3  # the grace, then cancelling and publishing
    log = daemon.log_text()
    assert "Traceback" not in log, log
    # Nothing of the abandoned work goes on without the daemon.
    assert wait_until(lambda: not any(p.running() for p in started), 5)


@pytest.mark.parametrize("interrupt", [sigterm, ctrl_c])
def test_a_second_stop_signal_ends_the_grace_at_once(
    tmp_path: Path,
    feed_server: FeedServer,
    start: Callable[..., Daemon],
    interrupt: Callable[[int], None],
) -> None:
    # A poll that would take most of a long grace.
    route = feed_server.add("/slow", Route(RSS, delay=8.0))
    daemon = start(write_config(tmp_path, feed_server, ["/slow"]), "--stop-grace", "30")
    assert wait_until(lambda: route.requests >= 1)
    started = time.monotonic()
    interrupt(daemon.process.pid)
    assert wait_until(lambda: "stopping" in daemon.log_text())
    assert daemon.process.poll() is None  # in its grace

    interrupt(daemon.process.pid)
    code = daemon.process.wait(timeout=15)

    assert code == 0
    assert time.monotonic() - started < 6  # not the poll's 8 s, nor the grace's 30
    log = daemon.log_text()
    assert "stopping now" in log and "abandoned" in log, log
    assert "Traceback" not in log, log
    # The poll was cancelled before anything of it was stored.
    assert _item_count(tmp_path / ".aggregator" / "aggregator.db") == 0


def test_changes_in_a_steady_stream_do_not_postpone_publishing(tmp_path: Path) -> None:
    from aggregator.daemon import PUBLISH_DELAY, _new_scheduler

    daemon = daemon_in_this_process(tmp_path)
    start = datetime(2024, 11, 19, 9, 0, tzinfo=UTC)
    half = PUBLISH_DELAY / 2

    async def scenario() -> list[datetime | None]:
        scheduler = daemon._scheduler = _new_scheduler(asyncio.get_running_loop())
        scheduler.start(paused=True)  # the times are the test's: nothing runs

        def due() -> datetime | None:
            job = scheduler.get_job("publish")
            return job.next_run_time if job is not None else None

        seen = []
        try:
            # A source changes every half second, for three seconds.
            for tick in range(6):
                daemon.request_publish(now=start + tick * half)
                seen.append(due())
            # The publish waiting runs (and leaves the job store): the next
            # change asks for another.
            scheduler.remove_job("publish")
            daemon.request_publish(now=start + 6 * half)
            seen.append(due())
            # At once (a reload, the start): sooner than the one waiting.
            daemon.request_publish(timedelta(0), now=start + 7 * half)
            seen.append(due())
        finally:
            scheduler.shutdown(wait=False)
        return seen

    seen = asyncio.run(scenario())

    assert seen == [
        *[start + PUBLISH_DELAY] * 6,  # not a second after the last change
        start + 6 * half + PUBLISH_DELAY,
        start + 7 * half,
    ]


class _PublishingSlowly:
    """A pipeline fake whose publishing takes until the test says, counting its runs."""

    def __init__(self) -> None:
        self.runs = 0
        self.go_on = asyncio.Event()

    async def publish_if_changed(self) -> tuple[int, None]:
        self.runs += 1
        await self.go_on.wait()
        return 0, None


def test_a_slow_publish_is_followed_by_one_publish_not_one_a_change(tmp_path: Path) -> None:
    from aggregator.daemon import _new_scheduler

    daemon = daemon_in_this_process(tmp_path)
    start = datetime(2024, 11, 19, 9, 0, tzinfo=UTC)
    pipeline = daemon._pipeline = _PublishingSlowly()  # type: ignore[assignment]

    async def scenario() -> tuple[int, int]:
        scheduler = daemon._scheduler = _new_scheduler(asyncio.get_running_loop())
        scheduler.start(paused=True)  # the test runs the publish jobs itself
        started = []
        try:
            # A change every second while the first publish takes long; each
            # publish job asked for runs when due, before the next change
            # (the scheduler's way: out of the job store, into a task).
            for second in range(12):
                daemon.request_publish(now=start + timedelta(seconds=second))
                if scheduler.get_job("publish") is not None:
                    scheduler.remove_job("publish")
                    started.append(asyncio.ensure_future(daemon._publish_job()))
                    await asyncio.sleep(0)  # it publishes, or waits for the lock
            pipeline.go_on.set()
            await asyncio.gather(*started)
        finally:
            scheduler.shutdown(wait=False)
        return len(started), pipeline.runs

    # The first, and one that waited for it and read the store after it:
    # not one publish a change, each waiting for the one before.
    assert asyncio.run(scenario()) == (2, 2)


class _PublishingForever:
    """A pipeline fake whose publishing never ends (a stuck worker, say)."""

    async def publish_if_changed(self) -> tuple[int, None]:
        await asyncio.Event().wait()
        return 0, None


def test_the_final_publish_is_abandoned_once_the_grace_is_over(tmp_path: Path) -> None:
    from aggregator.config import parse_config
    from aggregator.daemon import Daemon as RealDaemon

    config = parse_config(
        "sources:\n  - {name: a, url: 'https://a.example/', section: S}\n",
        tmp_path / "feeds.yaml",
    )

    async def stop(signals: int, grace_left: float) -> tuple[bool, int]:
        """Whether the final publish was done; how many tasks it left running."""
        daemon = RealDaemon(config, stop_grace=30)
        daemon._pipeline = _PublishingForever()  # type: ignore[assignment]
        for _signal in range(signals):
            daemon.stop()
        published = await daemon._final_publish(asyncio.get_running_loop().time() + grace_left)
        return published, len(asyncio.all_tasks()) - 1

    # The polls took the whole grace; a second signal ended it.
    assert asyncio.run(stop(signals=1, grace_left=0)) == (False, 0)
    assert asyncio.run(stop(signals=2, grace_left=30)) == (False, 0)


class _PublishingOnAFullDisk:
    """A pipeline fake whose publishing meets a full disk."""

    async def publish_if_changed(self) -> tuple[int, None]:
        raise PublishError("out/feed.atom: cannot write: [Errno 28] No space left on device")


def test_the_final_publish_on_a_full_disk_is_one_error_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async def stop() -> bool:
        daemon = daemon_in_this_process(tmp_path, stop_grace=30)
        daemon._pipeline = _PublishingOnAFullDisk()  # type: ignore[assignment]
        daemon.stop()
        return await daemon._final_publish(asyncio.get_running_loop().time() + 30)

    assert asyncio.run(stop()) is True  # done, if not well: nothing left to cancel
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "the final publish failed: out/feed.atom: cannot write: [Errno 28] No space left on device"
    ]
    assert errors[0].exc_info is None


class _PublishingNothingNew:
    """A pipeline fake whose publishing finds the files up to date."""

    async def publish_if_changed(self) -> tuple[int, None]:
        return 0, None


def test_the_daemon_has_published_once_a_publish_ended(tmp_path: Path) -> None:
    """What its server asks before answering a missing file 404 rather than 503."""

    async def scenario() -> list[bool]:
        daemon = daemon_in_this_process(tmp_path)
        seen = [daemon.published()]
        daemon._pipeline = _PublishingOnAFullDisk()  # type: ignore[assignment]
        with pytest.raises(PublishError):
            await daemon.publish()
        seen.append(daemon.published())
        daemon._pipeline = _PublishingNothingNew()  # type: ignore[assignment]
        await daemon.publish()
        return [*seen, daemon.published()]

    assert asyncio.run(scenario()) == [False, False, True]


def test_sighup_does_not_stop_the_daemon(
    tmp_path: Path, feed_server: FeedServer, start: Callable[..., Daemon]
) -> None:
    route = feed_server.add("/feed", Route(RSS))
    daemon = start(write_config(tmp_path, feed_server, ["/feed"]))
    assert wait_until(lambda: route.requests >= 1)

    daemon.process.send_signal(signal.SIGHUP)

    assert wait_until(lambda: "SIGHUP" in daemon.log_text() or daemon.process.poll() is not None)
    assert daemon.process.poll() is None, daemon.log_text()
    polled = route.requests
    assert wait_until(lambda: route.requests >= polled + 2)  # still polling
    assert daemon.get("/healthz")[0] == 200
    assert daemon.stop()[0] == 0
    assert not (tmp_path / ".aggregator" / "aggregator.db-wal").exists()
    assert b"Grain corridor" in (tmp_path / "out" / "feed.atom").read_bytes()


def test_sighup_reloads_the_sources(
    tmp_path: Path, feed_server: FeedServer, start: Callable[..., Daemon]
) -> None:
    kyiv = feed_server.add("/kyiv", Route(RSS))
    rdf = feed_server.add("/rdf", Route((DATA / "feeds" / "rss10.rdf").read_bytes()))
    config = write_config(tmp_path, feed_server, ["/kyiv"])
    daemon = start(config)
    assert wait_until(lambda: b"Grain corridor" in daemon.get("/feed.atom")[2])

    # Edited as a user would, while it runs: one source added, the other removed.
    assert main(["add", feed_server.url("/rdf"), "--section", "Politics", "-c", str(config)]) == 0
    assert main(["remove", "kyiv", "-c", str(config)]) == 0
    assert wait_until(lambda: rdf.requests >= 1)  # add's own fetch
    fetched_by_add = rdf.requests
    daemon.process.send_signal(signal.SIGHUP)

    assert wait_until(lambda: b"Parliament debates budget" in daemon.get("/feed.atom")[2])
    assert rdf.requests > fetched_by_add
    atom = daemon.get("/feed.atom")[2]
    assert b"Grain corridor" not in atom  # removed: out of the feeds at once
    assert list(daemon.status()) == ["RDF News"]
    assert daemon.status()["RDF News"]["section"] == "Politics"
    polls = kyiv.requests
    assert wait_until(lambda: rdf.requests >= fetched_by_add + 3)  # polled every second
    assert kyiv.requests == polls  # and the removed one no more
    assert wait_until(lambda: b"RDF News" in (tmp_path / "out" / "sources.opml").read_bytes())
    assert b"/kyiv" not in (tmp_path / "out" / "sources.opml").read_bytes()

    # A broken file: one error line, the running configuration kept.
    good = config.read_text()
    config.write_text(good.replace("section: Politics", "section: [Politics"))
    daemon.process.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "the running configuration is kept" in daemon.log_text())
    errors = [line for line in daemon.log_text().splitlines() if "ERROR" in line]
    assert len(errors) == 1 and f"{config}:" in errors[0], errors
    polled = rdf.requests
    assert wait_until(lambda: rdf.requests >= polled + 2)
    assert daemon.process.poll() is None

    # So is a file over the size cap, valid as it may be.
    config.write_text(good + "#" * MAX_CONFIG_BYTES + "\n")
    daemon.process.send_signal(signal.SIGHUP)
    assert wait_until(lambda: "-byte cap on a configuration" in daemon.log_text())
    errors = [line for line in daemon.log_text().splitlines() if "ERROR" in line]
    assert len(errors) == 2 and "the running configuration is kept" in errors[1], errors
    assert daemon.get("/healthz")[0] == 200

    # A key it cannot take while running is named, the rest applied: the
    # source moves to another section and is paused.
    paused = good.replace("  port: 0", "  port: 1")
    config.write_text(paused.replace("section: Politics", "section: World\n    enabled: false"))
    daemon.process.send_signal(signal.SIGHUP)
    assert wait_until(
        lambda: "'serve' changed; it takes effect at the next restart" in daemon.log_text()
    )
    assert wait_until(lambda: daemon.status()["RDF News"]["section"] == "World")
    assert daemon.status()["RDF News"]["paused"] is True
    assert daemon.status()["RDF News"]["next_due"] is None
    # Its job is gone: polled every second until then, not in the next three.
    paused_at = rdf.requests
    assert not wait_until(lambda: rdf.requests > paused_at + 1, 3)
    assert b"Parliament debates budget" in daemon.get("/feed.atom")[2]  # still published
    assert daemon.get("/healthz")[0] == 200

    assert daemon.stop()[0] == 0
    assert "Traceback" not in daemon.log_text()


def test_sighup_sends_a_sources_changed_headers_from_its_next_poll(
    tmp_path: Path, feed_server: FeedServer, start: Callable[..., Daemon]
) -> None:
    """Headers are a source's setting like any other: a reload that changes
    them reschedules the source, and its next poll sends the new ones.
    Neither value is ever in the log."""
    route = feed_server.add("/feed", Route(RSS))
    config = write_config(tmp_path, feed_server, ["/feed"])
    first = config.read_text() + "    headers:\n      Authorization: Bearer f1rsttoken\n"
    config.write_text(first)
    daemon = start(config)
    assert wait_until(lambda: route.last_headers.get("Authorization") == "Bearer f1rsttoken")

    config.write_text(first.replace("Bearer f1rsttoken", "Bearer s3condtoken"))
    daemon.process.send_signal(signal.SIGHUP)

    assert wait_until(lambda: route.last_headers.get("Authorization") == "Bearer s3condtoken")
    assert "(0 added, 0 stopped, 1 changed)" in daemon.log_text()
    assert daemon.stop()[0] == 0
    log = daemon.log_text()
    assert "f1rsttoken" not in log and "s3condtoken" not in log and "Traceback" not in log


def test_sighup_sends_changed_top_level_headers_from_each_sources_next_poll(
    tmp_path: Path, feed_server: FeedServer, start: Callable[..., Daemon]
) -> None:
    """The top-level headers are every URL source's: a reload that changes
    them changes each source that gets them (not one that overrides the
    name), and their next polls send the new value."""
    first = feed_server.add("/first", Route(RSS))
    second = feed_server.add("/second", Route(RSS))
    config = write_config(
        tmp_path, feed_server, ["/first", "/second"], ["headers:", "  X-Api-Key: f1rstkey"]
    )
    own = "    headers:\n      x-api-key: 0wnkey\n"
    config.write_text(config.read_text() + own)
    daemon = start(config)
    assert wait_until(lambda: first.last_headers.get("X-Api-Key") == "f1rstkey")
    assert wait_until(lambda: second.last_headers.get("x-api-key") == "0wnkey")

    config.write_text(config.read_text().replace("f1rstkey", "s3condkey"))
    daemon.process.send_signal(signal.SIGHUP)

    assert wait_until(lambda: first.last_headers.get("X-Api-Key") == "s3condkey")
    assert "(0 added, 0 stopped, 1 changed)" in daemon.log_text()
    assert second.last_headers.get("x-api-key") == "0wnkey"
    assert "X-Api-Key" not in second.last_headers
    assert daemon.stop()[0] == 0
    log = daemon.log_text()
    assert "f1rstkey" not in log and "s3condkey" not in log and "Traceback" not in log


@pytest.mark.parametrize("value", ["soon", "-1", "inf", "nan"])
def test_stop_grace_is_a_number_of_seconds(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["--stop-grace", value])
    assert exit.value.code == 2
    assert capsys.readouterr().err == (
        f"aggregate: error: argument --stop-grace: '{value}' is not a number of seconds, "
        "such as 3 or 0.5\n"
    )
