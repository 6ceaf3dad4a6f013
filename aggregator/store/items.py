"""Items, their copies and the clusters they form: what the dedup stage stores.

An *item* is one story as published; a *copy* is one source's entry of it
(its key is ``(source, entry_key)``).  Records are named by stage:
``ItemWrite`` goes in, ``StoredItem`` comes out.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..models import SourceRef


@dataclass(frozen=True, slots=True)
class StoredItem:
    """A merged item as stored, with every source that carried it (lead first)."""

    id: int
    uid: str
    section: str
    title: str
    link: str | None
    published: datetime
    updated: datetime
    content_html: str
    author: str | None
    language: str | None
    lead_source: str
    sources: tuple[SourceRef, ...] = ()


@dataclass(frozen=True, slots=True)
class ItemWrite:
    """What a new or changed item's lead copy says."""

    section: str
    title: str
    link: str | None
    canonical_url: str | None
    fingerprint: str | None
    published: datetime | None  # None: keep the stored date, or the first-seen time
    updated: datetime | None  # None: the published date
    content_html: str
    author: str | None
    language: str | None


@dataclass(frozen=True, slots=True)
class CopyRecord:
    """One source's copy of an item: which item, and the hash of what it said."""

    item_id: int
    content_hash: str
    is_lead: bool


@dataclass(frozen=True, slots=True)
class ClusterMember:
    source: str
    link: str | None
    title: str | None  # None for copies stored before the near-duplicate index
    method: str | None
    score: float | None
    matched_source: str | None  # the member it was found like
    first_seen: datetime


@dataclass(frozen=True, slots=True)
class DuplicateCluster:
    """An item that more than one copy became, with its copies (first first)."""

    item_id: int
    uid: str
    title: str
    link: str | None
    members: tuple[ClusterMember, ...]


class ItemStore(Protocol):
    def find_copy(self, source: str, entry_key: str) -> CopyRecord | None:
        """The copy ``source`` stored under ``entry_key``, if any."""
        ...

    def copy_hashes(self, source: str) -> dict[str, str]:
        """Entry key -> content hash of every copy ``source`` has stored."""
        ...

    def find_item_by_url(self, canonical_url: str) -> int | None:
        """The oldest item with this canonical URL."""
        ...

    def find_item_by_fingerprint(self, fingerprint: str) -> int | None:
        """The oldest item with this content fingerprint."""
        ...

    def insert_item(self, uid: str, item: ItemWrite, lead_source: str, when: datetime) -> int:
        """A new item, led by ``lead_source``, first seen ``when`` (also its date
        when the copy has none); returns its id."""
        ...

    def update_item(self, item_id: int, item: ItemWrite) -> None:
        """The item as its lead copy now says; a date of None keeps the stored one."""
        ...

    def update_item_text(
        self, item_id: int, title: str, content_html: str, author: str | None, language: str | None
    ) -> None:
        """What the item shows, from another copy; its id, link and dates stay."""
        ...

    def save_copy(
        self,
        source: str,
        entry_key: str,
        item_id: int,
        link: str | None,
        content_hash: str,
        when: datetime,
    ) -> None:
        """Record ``source``'s copy of the item; saving it again updates its link
        and hash, never its item or when it was first seen (idempotent)."""
        ...

    def item_has_source(self, item_id: int, source: str) -> bool: ...

    def latest_items(self, limit: int) -> list[StoredItem]:
        """The ``limit`` newest items (by date, then id), newest first, with their sources."""
        ...

    def items_by_id(self, ids: Sequence[int]) -> list[StoredItem]:
        """Those of ``ids`` that exist, with their sources."""
        ...

    def iter_items(self) -> Iterator[StoredItem]:
        """Every item, with its sources."""
        ...

    def duplicate_clusters(self) -> list[DuplicateCluster]:
        """Every item more than one copy became, newest first, its copies first first."""
        ...
