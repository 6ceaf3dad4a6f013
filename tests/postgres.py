"""A real PostgreSQL server for the tests: one fresh database per session, a
fresh schema (or a fresh database) per test.

The server is ``AGGREGATOR_TEST_POSTGRES`` (default: the development
machines' and CI's, :data:`DEFAULT_SERVER`), reached through its database
``test``.  Where it cannot be reached the tests that need it skip, saying so,
unless ``AGGREGATOR_REQUIRE_POSTGRES=1`` (CI), where they fail.

Each session creates ``aggregator_test_<pid>_<random>`` and drops it at the
end (``WITH (FORCE)``: a connection a failed test left open does not keep
it).  The fixtures (tests/conftest.py):

* ``postgres_url``: a schema of the test's own in the session's database,
  selected by the URL (``?options=-csearch_path%3D<schema>``): a store opened
  with it creates its tables there, at the cost of a schema, not a database;
* ``postgres_database_url``: a database of the test's own, for what a schema
  does not isolate (database-wide advisory locks, another program's schema);
* ``postgres_server``: the session's :class:`TestServer`.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from urllib.parse import quote, urlsplit, urlunsplit

import pytest

DEFAULT_SERVER = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    return os.environ.get("AGGREGATOR_TEST_POSTGRES", DEFAULT_SERVER)


def unavailable(reason: str) -> None:
    """Skip (or, where PostgreSQL is required, fail) the test that needs it."""
    message = f"PostgreSQL not reachable at {server_url()}: {reason}; set AGGREGATOR_TEST_POSTGRES"
    if os.environ.get("AGGREGATOR_REQUIRE_POSTGRES") == "1":
        pytest.fail(message + " (AGGREGATOR_REQUIRE_POSTGRES=1)", pytrace=False)
    pytest.skip(message)


def with_database(url: str, database: str) -> str:
    """``url`` naming another database on the same server."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + quote(database)))


def with_schema(url: str, schema: str) -> str:
    """``url`` whose connections create and find tables in ``schema``."""
    parts = urlsplit(url)
    option = "options=" + quote(f"-csearch_path={schema}")
    query = f"{parts.query}&{option}" if parts.query else option
    return urlunsplit(parts._replace(query=query))


class TestServer:
    """The session's database on the server, and fresh schemas and databases in it."""

    __test__ = False  # not a test class, whatever pytest thinks of its name

    def __init__(self, url: str):
        import psycopg

        self._psycopg = psycopg
        self.server = url
        self.database = f"aggregator_test_{os.getpid()}_{secrets.token_hex(4)}"
        self._admin = psycopg.connect(url, autocommit=True, connect_timeout=5)
        self._admin.execute(f'CREATE DATABASE "{self.database}"')
        self.url = with_database(url, self.database)
        self._session = psycopg.connect(self.url, autocommit=True)
        self._count = 0
        self._databases: list[str] = []

    def fresh_schema(self) -> str:
        """The URL of an empty schema of the session's database."""
        self._count += 1
        schema = f"test_{self._count}"
        self._session.execute(f'CREATE SCHEMA "{schema}"')
        return with_schema(self.url, schema)

    def fresh_database(self) -> str:
        """The URL of a new empty database, dropped with the session's."""
        self._count += 1
        name = f"{self.database}_{self._count}"
        self._admin.execute(f'CREATE DATABASE "{name}"')
        self._databases.append(name)
        return with_database(self.server, name)

    def close(self) -> None:
        self._session.close()
        for name in [*self._databases, self.database]:
            self._admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._admin.close()


def start_server() -> Iterator[TestServer]:
    """The session's :class:`TestServer`, or the tests that need it skipped (failed)."""
    try:
        import psycopg
    except ImportError:
        unavailable("psycopg is not installed (pip install '.[test]')")
        raise
    try:
        server = TestServer(server_url())
    except psycopg.Error as exc:
        unavailable(" ".join(str(exc).split()))
        raise
    try:
        yield server
    finally:
        server.close()
