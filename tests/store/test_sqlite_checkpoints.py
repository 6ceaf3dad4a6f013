"""SQLite's write-ahead log is copied into the database file by a thread of
the store's own (``sqlite.Checkpoints``), not by the thread that commits.

What the database file itself holds is read with ``immutable=1``: that
connection ignores the log, so it sees a commit only once a checkpoint
copied it.  The writer's own checkpoints start only at 10,000 pages of log,
far beyond what these tests write.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.store import sqlite
from aggregator.store.sqlite import SqliteStore

WAIT = 10.0  # seconds: a checkpoint of a few pages takes milliseconds


def in_database_file(path: Path, key: str) -> str | None:
    """The meta value under ``key`` in the database file, the log left aside."""
    connection = sqlite3.connect(f"file:{path}?immutable=1", uri=True)
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
    finally:
        connection.close()
    return None if row is None else str(row[0])


def checkpoint_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("checkpoints of ")]


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SqliteStore]:
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 0.0)
    opened = SqliteStore(tmp_path / "aggregator.db")
    yield opened
    opened.close()


def test_each_commit_reaches_the_database_file_without_the_writer_copying_it(
    store: SqliteStore,
) -> None:
    for n in range(3):
        store._checkpoints.copied.clear()
        with store.transaction():
            store.set_meta("written", f"value {n}")
        assert store._checkpoints.copied.wait(WAIT)
        assert in_database_file(store.path, "written") == f"value {n}"


def test_a_rolled_back_transaction_leaves_the_database_file_as_it_was(
    store: SqliteStore,
) -> None:
    with store.transaction():
        store.set_meta("kept", "yes")
    assert store._checkpoints.copied.wait(WAIT)
    store._checkpoints.copied.clear()
    with pytest.raises(RuntimeError), store.transaction():
        store.set_meta("kept", "no")
        raise RuntimeError("undone")
    with store.transaction():
        store.set_meta("other", "value")
    assert store._checkpoints.copied.wait(WAIT)
    assert in_database_file(store.path, "kept") == "yes"


def test_the_thread_starts_with_the_first_commit_and_ends_with_the_store(
    tmp_path: Path,
) -> None:
    before = set(checkpoint_threads())
    store = SqliteStore(tmp_path / "aggregator.db")
    store.get_meta("anything")  # read only: `aggregate status` starts no thread
    assert set(checkpoint_threads()) == before
    with store.transaction():
        store.set_meta("written", "value")
    assert len(set(checkpoint_threads()) - before) == 1
    store.close()
    assert set(checkpoint_threads()) == before
    assert in_database_file(tmp_path / "aggregator.db", "written") == "value"


def test_a_log_grown_large_is_cut_back_once_it_starts_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon's log does not keep the size of its largest pass: once a
    checkpoint has copied it all, the next commit starts it over, cut back
    to WAL_SIZE_LIMIT."""
    monkeypatch.setattr(sqlite, "CHECKPOINT_EVERY", 0.0)
    monkeypatch.setattr(sqlite, "WAL_SIZE_LIMIT", 64 * 1024)
    store = SqliteStore(tmp_path / "aggregator.db")
    log = tmp_path / "aggregator.db-wal"
    try:
        store._checkpoints.copied.clear()
        with store.transaction():
            for n in range(64):  # some 2 MB of log: a page and more for each
                store.set_meta(f"large {n}", "x" * 30_000)
        assert log.stat().st_size > 1_000_000
        # Until a checkpoint has copied the whole log (one asked for before
        # this commit may have ended after it).
        for _attempt in range(3):
            assert store._checkpoints.copied.wait(WAIT)
            if in_database_file(store.path, "large 63") is not None:
                break
            store._checkpoints.copied.clear()
            store._checkpoints.after_commit()
        assert in_database_file(store.path, "large 63") == "x" * 30_000
        with store.transaction():
            store.set_meta("small", "y")
        assert log.stat().st_size <= 64 * 1024
        assert store.get_meta("large 63") == "x" * 30_000
    finally:
        store.close()
