"""Storage: the :class:`Store` protocol, its SQLite and PostgreSQL implementations.

SQLite is built in; the PostgreSQL store (and psycopg with it) is imported
only when a ``postgresql://`` URL is opened, so that a user of the embedded
default needs neither installed.
"""

from __future__ import annotations

from pathlib import Path

from ..config import StoreLocation, store_location
from ..errors import StoreError
from .base import Store
from .items import CopyRecord, ItemWrite, StoredItem
from .sources import StatesInOrder
from .sqlite import SqliteStore

__all__ = [
    "CopyRecord",
    "ItemWrite",
    "SqliteStore",
    "StatesInOrder",
    "Store",
    "StoredItem",
    "open_store",
]


def open_store(location: StoreLocation | str) -> Store:
    """The store at ``location``: a path or ``sqlite:///`` URL (SQLite), or a
    ``postgresql://`` URL (PostgreSQL).  Raises :class:`StoreError` when it
    cannot be opened, with one line naming it (a password masked)."""
    if isinstance(location, str):
        location = store_location(location, Path.cwd())
    if isinstance(location, Path):
        return SqliteStore(location)
    try:
        from .postgres import PostgresStore
    except ImportError as exc:
        if exc.name is None or exc.name.split(".")[0] != "psycopg":
            raise
        raise StoreError(
            f"cannot open the database {location}: the PostgreSQL store needs psycopg; "
            "pip install 'aggregator[postgres]'"
        ) from None
    return PostgresStore(location)
