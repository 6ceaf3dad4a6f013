from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.feedserver import FeedServer
from tests.postgres import TestServer, start_server

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = REPO.parent / "shared"


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The language model's cache (and any other) goes to a directory of the
    test session, not the user's ~/.cache; subprocesses inherit it."""
    import os

    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        del os.environ["XDG_CACHE_HOME"]
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[TestServer]:
    """The session's database on the test PostgreSQL server (see tests/postgres.py);
    the tests that ask for it skip when the server is unreachable (fail in CI)."""
    yield from start_server()


@pytest.fixture
def postgres_url(postgres_server: TestServer) -> str:
    """A PostgreSQL URL of a fresh, empty schema: a store opened with it is new."""
    return postgres_server.fresh_schema()


@pytest.fixture
def postgres_database_url(postgres_server: TestServer) -> str:
    """A PostgreSQL URL of a fresh, empty database, for what a schema cannot isolate."""
    return postgres_server.fresh_database()
