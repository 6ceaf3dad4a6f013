"""One fixture, every store: each contract test runs once per implementation,
with another connection to its database where a test needs one.  And two
connections to one SQLite file, for the SQLite store's own tests.

Adding a store is adding its name to ``STORES`` and a branch to
:func:`open_fresh` (a fresh, empty database, dropped afterwards), as
apscheduler 3.x parametrizes ``tests/test_jobstores.py`` over its job stores.
PostgreSQL's tests skip, saying why, where no server is reachable (see
tests/postgres.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.store import Store, open_store
from aggregator.store import sqlite as sqlite_store
from aggregator.store.sqlite import SqliteStore

# SQLite keeps new band keys in a small table and moves them to the main one
# in bulk (SqliteStore._add_bands): this variant moves them every few keys, so
# that the contract is also met with a store's keys in both tables.
MOVING_KEYS = "sqlite-moving-keys"
STORES = ["sqlite", MOVING_KEYS, "postgres"]


def open_fresh(kind: str, request: pytest.FixtureRequest, tmp_path: Path) -> Store:
    if kind == MOVING_KEYS:
        monkeypatch: pytest.MonkeyPatch = request.getfixturevalue("monkeypatch")
        monkeypatch.setattr(sqlite_store, "RECENT_BANDS", 3)
        kind = "sqlite"
    if kind == "sqlite":
        return open_store(tmp_path / "store.db")
    if kind == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return open_store(url)
    raise AssertionError(f"no such store: {kind}")


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_fresh(request.param, request, tmp_path)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def other_connection(store: Store) -> Iterator[Store]:
    """Another connection to ``store``'s database, as another process would open it."""
    if isinstance(store, SqliteStore):
        opened: Store = SqliteStore(store.path)
    else:
        from aggregator.store.postgres import PostgresStore

        assert isinstance(store, PostgresStore)
        opened = PostgresStore(store.location)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture
def connections(tmp_path: Path) -> Iterator[tuple[SqliteStore, SqliteStore]]:
    """Two SQLite stores over one file, as two processes would open it."""
    path = tmp_path / "aggregator.db"
    first, second = SqliteStore(path), SqliteStore(path)
    yield first, second
    first.close()
    second.close()
