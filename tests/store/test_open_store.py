"""open_store: a path or sqlite:/// URL opens SQLite, a postgresql:// URL PostgreSQL,
and a user of SQLite never imports psycopg."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.config import PostgresURL
from aggregator.store import SqliteStore, open_store


@pytest.mark.parametrize("how", ["path", "text", "url"])
def test_a_path_or_a_sqlite_url_is_sqlite(tmp_path: Path, how: str) -> None:
    database = tmp_path / "state.db"
    location = {"path": database, "text": str(database), "url": f"sqlite:///{database}"}[how]
    store = open_store(location)
    try:
        assert isinstance(store, SqliteStore) and store.path == database
    finally:
        store.close()


def test_a_postgresql_url_is_postgresql(postgres_url: str) -> None:
    from aggregator.store.postgres import PostgresStore

    for location in (postgres_url, PostgresURL(postgres_url)):
        store = open_store(location)
        try:
            assert isinstance(store, PostgresStore)
        finally:
            store.close()


def test_sqlite_users_never_import_psycopg(tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from aggregator.cli import main\n"
        "import aggregator.pipeline, aggregator.daemon, aggregator.dedup.merge\n"
        "from aggregator.store import open_store\n"
        f"open_store({str(tmp_path / 'a.db')!r}).close()\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'psycopg'))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "[]\n"
