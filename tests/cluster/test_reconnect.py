"""A worker whose database connections are cut keeps working: it reconnects."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.cluster.stories import write_config
from tests.feedserver import FeedServer

pytestmark = pytest.mark.slow


def test_a_worker_reconnects_after_its_connections_are_cut(
    feeds: FeedServer, postgres_database_url: str, tmp_path: Path
) -> None:
    import psycopg

    config = write_config(tmp_path / "feeds.yaml", feeds, postgres_database_url, tmp_path / "out")
    log = tmp_path / "worker.log"
    with log.open("wb") as stderr:
        worker = subprocess.Popen(
            [sys.executable, "-m", "aggregator.cli", "worker", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    with psycopg.connect(postgres_database_url, autocommit=True) as db:

        def heartbeat_since(moment: object) -> bool:
            query = "SELECT count(*) FROM procrastinate_workers WHERE last_heartbeat > %s"
            row = db.execute(query, (moment,)).fetchone()
            return bool(row and row[0])

        def polled() -> int:
            query = "SELECT count(*) FROM sources WHERE last_fetch IS NOT NULL"
            try:
                row = db.execute(query).fetchone()
            except psycopg.errors.UndefinedTable:  # the worker has not made them yet
                return 0
            return int(row[0]) if row else 0

        try:
            deadline = time.monotonic() + 60
            while polled() < 24 and time.monotonic() < deadline:
                time.sleep(0.1)
            assert polled() == 24, log.read_text()[-2000:]
            cut = db.execute("SELECT now()").fetchone()
            assert cut is not None
            killed = db.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
            assert killed is not None and killed[0] >= 2  # the store's and the queue's
            # A source changed meanwhile is polled after the reconnection.
            db.execute("UPDATE sources SET next_due = now() WHERE name = 'feed3'")
            before = feeds.routes["/feed3.xml"].requests
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if heartbeat_since(cut[0]) and feeds.routes["/feed3.xml"].requests > before:
                    break
                time.sleep(0.2)
            else:
                raise AssertionError(f"the worker did not come back: {log.read_text()[-3000:]}")
            assert worker.poll() is None
        finally:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
            code = worker.wait(30)
    assert code == 0, log.read_text()[-2000:]
    text = log.read_text()
    assert "Traceback" not in text, text[-3000:]


def test_once_goes_on_after_its_connections_are_cut(
    feeds: FeedServer, postgres_database_url: str, tmp_path: Path
) -> None:
    import psycopg

    config = write_config(tmp_path / "feeds.yaml", feeds, postgres_database_url, tmp_path / "out")
    # A poll under way when the connections are cut: its feed answers late.
    slow = feeds.routes["/feed12.xml"]
    slow.delay = 2.0
    out, err = tmp_path / "once.out", tmp_path / "once.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        once = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "aggregator.cli",
                "--once",
                "-c",
                str(config),
                "--log-level",
                "INFO",
            ],
            stdout=stdout,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while not slow.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        assert slow.requests, err.read_text()[-2000:]
        with psycopg.connect(postgres_database_url, autocommit=True) as db:
            killed = db.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ).fetchone()
        assert killed is not None and killed[0] >= 2  # the store's and the queue's
        # Before, every later job failed on the dead connection, and was
        # retried on it, for as long as the locks made the others wait.
        code = once.wait(120)
    finally:
        if once.poll() is None:
            os.killpg(once.pid, signal.SIGKILL)
            once.wait()
    lines = out.read_text().splitlines()
    assert code == 0, err.read_text()[-3000:]
    assert lines[-2].startswith("24 sources, 0 failed; "), lines[-3:]
    assert "connection lost, reconnected" in err.read_text()
    assert "Traceback" not in err.read_text(), err.read_text()[-3000:]
