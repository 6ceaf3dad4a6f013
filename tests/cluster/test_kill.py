"""Workers killed mid-work lose nothing: the kill test of the scale-out design.

Two dozen feeds on a loopback server, many stories carried by several of
them (the same text, or the text with a line added); three ``aggregate
worker`` processes over a fresh PostgreSQL database; two of them killed
with SIGKILL while they hold jobs (a poll, and whatever the next one holds);
a replacement started.  Then: every entry stored once, every story that
several feeds carry one item, every item summarized, no job failed or left
behind, and the same items, clusters and summaries as one ``aggregate
--once`` over SQLite.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.config import load_config
from aggregator.store import open_store
from tests.cluster.stories import FEEDS, corpus, write_config
from tests.feedserver import FeedServer
from tests.waiting import wait_until

pytestmark = pytest.mark.slow


def start_worker(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as stderr:  # the child has its own descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "aggregator.cli", "worker", "-c", str(config),
             "--concurrency", "2", "--log-level", "INFO"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )  # fmt: skip


class Queue:
    """What the test reads of procrastinate's tables, through its own connection."""

    def __init__(self, url: str):
        import psycopg

        self.db = psycopg.connect(url, autocommit=True)

    def close(self) -> None:
        self.db.close()

    def workers(self) -> list[int]:
        return [r[0] for r in self.db.execute("SELECT id FROM procrastinate_workers ORDER BY id")]

    def doing(self) -> list[tuple[int | None, str]]:
        return list(
            self.db.execute(
                "SELECT worker_id, task_name FROM procrastinate_jobs WHERE status = 'doing'"
            )
        )

    def unfinished(self) -> list[tuple[str, str]]:
        return list(
            self.db.execute(
                "SELECT task_name, status::text FROM procrastinate_jobs "
                "WHERE status IN ('todo', 'doing', 'failed')"
            )
        )

    def polled(self) -> int:
        row = self.db.execute(
            "SELECT count(*) FROM sources WHERE last_fetch IS NOT NULL"
        ).fetchone()
        return int(row[0]) if row else 0

    def published(self) -> bool:
        row = self.db.execute(
            "SELECT (SELECT value FROM meta WHERE key = 'published') IS NOT NULL"
        ).fetchone()
        return bool(row and row[0])


def clusters(config: Path) -> dict[frozenset[tuple[str, str | None]], str]:
    """Every stored item as the set of its copies (source, link), with its title."""
    store = open_store(load_config(config).store)
    try:
        return {
            frozenset((ref.name, ref.item_link) for ref in item.sources): item.title
            for item in store.iter_items()
        }
    finally:
        store.close()


def published(out: Path) -> list[tuple[str, bool]]:
    """The published entries' titles, and whether each has a summary, in title order.

    Which copy of a story leads its entry (its link and id) is the one stored
    first, which differs from run to run with several workers; its title,
    the story's, does not."""
    import feedparser

    parsed = feedparser.parse((out / "feed.atom").read_bytes())
    return sorted((entry.title, bool(entry.get("summary"))) for entry in parsed.entries)


def test_killed_workers_lose_nothing(
    feeds: FeedServer, postgres_database_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    for route in feeds.routes.values():
        route.delay = 0.4  # slow enough that workers are killed while they hold polls
    config = write_config(tmp_path / "cluster.yaml", feeds, postgres_database_url, tmp_path / "out")
    assert (
        subprocess.run(
            [sys.executable, "-m", "aggregator.cli", "db", "migrate", "-c", str(config)],
            capture_output=True,
            check=False,
        ).returncode
        == 0
    )
    queue = Queue(postgres_database_url)
    request.addfinalizer(queue.close)
    logs = [tmp_path / f"worker{n}.log" for n in range(4)]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for n in range(3):  # one at a time: the n-th registered is procrastinate's n-th worker
            workers.append(start_worker(config, logs[n]))
            assert wait_until(lambda n=n: len(queue.workers()) == n + 1, 30), (
                f"worker {n} never registered"
            )
        ids = queue.workers()

        # Two workers killed, each while it holds a job (the first most likely
        # a poll, the second a poll or publishing and summarizing): whichever
        # holds one, as a poll job holds several sources and there may be
        # fewer jobs than workers.
        held = 0  # jobs the killed workers held when they died
        killed: list[int] = []  # their places in ``workers``
        for _ in range(2):
            holder: list[int] = []

            def a_worker_holds_a_job(holder: list[int] = holder) -> bool:
                doing = {w for w, _task in queue.doing()}
                holder[:] = [
                    n for n, worker in enumerate(ids) if worker in doing and n not in killed
                ]
                return bool(holder)

            assert wait_until(a_worker_holds_a_job, 60), "no worker held a job in 60 s"
            victim = holder[0]
            os.killpg(workers[victim].pid, signal.SIGKILL)
            workers[victim].wait(10)
            killed.append(victim)
            # A short job may have ended between the look and the kill.
            held += sum(1 for w, _task in queue.doing() if w == ids[victim])
        workers.append(start_worker(config, logs[3]))

        assert wait_until(lambda: queue.polled() == FEEDS, 90), "not every feed polled in 90 s"
        assert wait_until(lambda: not queue.unfinished() and queue.published(), 60), (
            "the jobs did not end in 60 s"
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        codes = [worker.wait(30) for worker in workers]
    survivors = [code for n, code in enumerate(codes) if n not in killed]
    assert survivors == [0, 0], [log.read_text()[-2000:] for log in logs]
    retried = sum(log.read_text().count("retrying job") for log in logs)
    assert held >= 1
    assert retried >= held, "the killed workers' jobs were not retried"
    assert queue.unfinished() == []

    single = write_config(
        tmp_path / "single.yaml", feeds, str(tmp_path / "single.db"), tmp_path / "single"
    )
    once = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "--once", "-c", str(single)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert once.returncode == 0, once.stderr

    expected = clusters(single)
    stored = clusters(config)
    entries = sum(len(entries) for entries in corpus())
    assert sum(len(copies) for copies in stored) == entries  # every entry stored, once
    assert any(len(copies) > 1 for copies in stored)  # the stories shared are merged
    assert stored.keys() == expected.keys()
    shown, reference = published(tmp_path / "out"), published(tmp_path / "single")
    assert len(shown) == len(stored)
    assert all(summarized for _title, summarized in shown)  # every item summarized
    assert shown == reference


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_an_interrupted_once_leaves_no_polls_queued(
    feeds: FeedServer, postgres_database_url: str, tmp_path: Path, signum: signal.Signals
) -> None:
    import psycopg

    config = write_config(tmp_path / "feeds.yaml", feeds, postgres_database_url, tmp_path / "out")
    for route in feeds.routes.values():
        route.delay = 1.0  # the pass is under way, most of its polls waiting, when it is stopped
    err = tmp_path / "once.err"
    with err.open("wb") as stderr:
        once = subprocess.Popen(
            [sys.executable, "-m", "aggregator.cli", "--once", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        wait_until(lambda: any(r.requests for r in feeds.routes.values()), 60)
        once.send_signal(signum)
        code = once.wait(60)
    finally:
        if once.poll() is None:
            once.kill()
            once.wait()
    assert code == 130, err.read_text()[-2000:]
    text = err.read_text()
    assert "aggregate: interrupted" in text and "Traceback" not in text, text[-2000:]
    assert re.search(r"\d+ polls of this pass not done are cancelled", text), text
    with psycopg.connect(postgres_database_url, autocommit=True) as db:
        waiting = db.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        ).fetchone()
        results = db.execute("SELECT count(*) FROM meta WHERE key LIKE 'run:%'").fetchone()
    assert waiting == (0,) and results == (0,)
    assert sum(r.requests for r in feeds.routes.values()) < FEEDS  # some were never polled


def test_a_once_killed_outright_leaves_the_next_pass_no_extra_work(
    feeds: FeedServer, postgres_database_url: str, tmp_path: Path
) -> None:
    """SIGKILL (the OOM killer, a lost machine) gives a pass no chance to
    cancel its polls: the next pass drops them, and their results, once the
    killed run's heartbeat is older than the stall timeout."""
    import psycopg

    # One job at a time: the others are still queued when it is killed.
    config = write_config(
        tmp_path / "feeds.yaml", feeds, postgres_database_url, tmp_path / "out", concurrency=1
    )
    for route in feeds.routes.values():
        route.delay = 1.0
    once = subprocess.Popen(
        [sys.executable, "-m", "aggregator.cli", "--once", "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: sum(r.requests for r in feeds.routes.values()) >= 3, 60)
    finally:
        once.kill()
        once.wait()
    with psycopg.connect(postgres_database_url, autocommit=True) as db:
        (left,) = db.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo'"
        ).fetchone() or (0,)
        # Time passes (the stall timeout): the killed run's heartbeat is old.
        db.execute("UPDATE procrastinate_workers SET last_heartbeat = now() - interval '1 hour'")
    assert left > 0
    for route in feeds.routes.values():
        route.delay = 0.0
        route.requests = 0

    again = subprocess.run(
        [sys.executable, "-m", "aggregator.cli", "--once", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert again.returncode == 0, again.stderr[-2000:]
    assert re.search(r"\d+ polls queued by an earlier --once that was stopped are cancelled",
                     again.stderr), again.stderr  # fmt: skip
    assert sorted(r.requests for r in feeds.routes.values()) == [1] * FEEDS  # each polled once
    with psycopg.connect(postgres_database_url, autocommit=True) as db:
        waiting = db.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status IN ('todo', 'doing')"
        ).fetchone()
        results = db.execute("SELECT count(*) FROM meta WHERE key LIKE 'run:%'").fetchone()
        runs = db.execute("SELECT count(*) FROM procrastinate_workers").fetchone()
    assert waiting == (0,) and results == (0,)
    assert runs is not None and runs[0] <= 2  # the killed run's and its worker's, pruned later
