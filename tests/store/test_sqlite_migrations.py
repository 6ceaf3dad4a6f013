"""The SQLite store's own migrations: a database of an older schema is upgraded in place."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from aggregator.store.sqlite import MIGRATIONS, SqliteStore
from tests.dedup import stories as s
from tests.dedup.test_merge import add, entry


def test_a_database_of_the_first_schema_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with closing(sqlite3.connect(path)) as db, db:  # committed, then closed
        db.executescript(MIGRATIONS[0])
        db.execute("CREATE TABLE schema_version (version INTEGER)")
        db.execute("INSERT INTO schema_version VALUES (1)")
    store = SqliteStore(path)
    try:
        _, first = add(store, "harbour", entry("a", s.TITLE, s.TEXT))
        _, second = add(store, "wire", entry("b", s.RETITLED, s.TEXT))
        assert second == first
    finally:
        store.close()
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("SELECT version FROM schema_version").fetchone()[0] == len(MIGRATIONS)
