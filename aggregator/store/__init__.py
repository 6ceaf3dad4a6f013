"""Storage: the :class:`Store` protocol and its SQLite implementation."""

from __future__ import annotations

from pathlib import Path

from .base import Store
from .items import CopyRecord, ItemWrite, StoredItem
from .sqlite import SqliteStore

__all__ = ["CopyRecord", "ItemWrite", "SqliteStore", "Store", "StoredItem", "open_store"]


def open_store(path: Path | str) -> Store:
    return SqliteStore(path)
