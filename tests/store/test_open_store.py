"""open_store: a path or sqlite:/// URL opens SQLite, a postgresql:// URL PostgreSQL,
and a user of SQLite never imports psycopg."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.config import PostgresURL
from aggregator.errors import StoreError
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


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_file_that_is_no_database_is_refused_and_let_go(tmp_path: Path) -> None:
    """The connection opened on it is closed, not left to the garbage
    collector: the file is not held open after the error (and Python 3.13
    would report the connection)."""
    path = tmp_path / "not-a.db"
    path.write_bytes(b"these bytes are no SQLite database, " * 100)
    with pytest.raises(StoreError, match="cannot open the database"):
        SqliteStore(path)
    held = []
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(FileNotFoundError):  # the listing's own, closed since
            held.append(os.readlink(f"/proc/self/fd/{fd}"))
    assert str(path) not in held
