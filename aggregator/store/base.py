"""The storage seam: what the pipeline needs from a database, as a Protocol.

SQLite is the only implementation today; the SQL it uses stays portable so a
second database can follow.  Records crossing this seam are named by stage:
``StoredItem`` comes out of storage, ``ItemWrite`` goes in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..decide import PollIntent
from ..models import EntryDigests, SourceRef, SourceState, Summary


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
class IndexedCopy:
    """A copy as the near-duplicate index holds it (see aggregator/dedup/near.py).

    ``signature`` is opaque here: the dedup stage encodes and decodes it.
    """

    source: str
    entry_key: str
    item_id: int
    title: str
    at: datetime  # the copy's date: copies are only compared within a window of it
    signature: bytes
    bands: tuple[int, ...]  # its keys in the index
    method: str  # how it joined its item: first, canonical-url, content-hash, near-duplicate
    score: float | None = None  # the similarity, for near-duplicates
    matched: int | None = None  # id of the copy it was found like
    shown: bool = False  # its title and text are the item's
    id: int = 0  # assigned by the store


@dataclass(frozen=True, slots=True)
class Candidate:
    """A stored copy that shares index keys with a new one."""

    copy: IndexedCopy
    same_source: bool  # its item already has a copy from the new copy's source


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


class Store(Protocol):
    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together or not at all; inside another, a savepoint.

        A failed inner transaction undoes only its own writes.  The database
        failing raises :class:`~aggregator.errors.StoreError` (the pass's
        error); any other exception is the data's, and is left as it is.
        """
        ...

    # sources
    def sync_sources(self, sources: Iterable[tuple[str, str, str]]) -> None: ...
    def source_states(self, *, counts: bool = True) -> list[SourceState]:
        """Every source's state; ``counts=False`` leaves ``items_stored`` None."""
        ...

    def entry_digests(self, name: str) -> EntryDigests | None:
        """What the source's last parsed document held (see :class:`EntryDigests`)."""
        ...

    def save_entry_digests(self, name: str, digests: EntryDigests | None) -> None:
        """Replace them; None: the source's last document is not remembered."""
        ...

    def apply_poll(self, intent: PollIntent) -> None:
        """Store what one poll decided about a source (see :mod:`aggregator.decide`),
        in one transaction (a savepoint inside another): the failure, or the new
        validators and the feed's title, link and ``<ttl>``; the next due time;
        the redirect seen or the move confirmed; the source disabled.  Its items
        are stored apart, by the dedup stage, in the same outer transaction."""
        ...

    # items
    def find_copy(self, source: str, entry_key: str) -> CopyRecord | None: ...
    def copy_hashes(self, source: str) -> dict[str, str]:
        """Entry key -> content hash of every copy ``source`` has stored."""
        ...

    def find_item_by_url(self, canonical_url: str) -> int | None: ...
    def find_item_by_fingerprint(self, fingerprint: str) -> int | None: ...
    def insert_item(self, uid: str, item: ItemWrite, lead_source: str, when: datetime) -> int: ...
    def update_item(self, item_id: int, item: ItemWrite) -> None: ...
    def save_copy(
        self,
        source: str,
        entry_key: str,
        item_id: int,
        link: str | None,
        content_hash: str,
        when: datetime,
    ) -> None: ...
    def item_has_source(self, item_id: int, source: str) -> bool: ...
    def update_item_text(
        self, item_id: int, title: str, content_html: str, author: str | None, language: str | None
    ) -> None: ...
    def latest_items(self, limit: int) -> list[StoredItem]: ...

    # the near-duplicate index
    def indexed_copy(self, source: str, entry_key: str) -> IndexedCopy | None: ...
    def shown_copy(self, item_id: int) -> IndexedCopy | None: ...
    def index_copy(self, copy: IndexedCopy, replacing: IndexedCopy | None = None) -> int: ...
    def show_copy(self, item_id: int, copy_id: int) -> None: ...
    def band_hits(
        self, bands: Sequence[int], start: datetime, end: datetime
    ) -> list[tuple[int, int]]: ...
    def candidates(self, copy_ids: Sequence[int], source: str) -> list[Candidate]: ...
    def duplicate_clusters(self) -> list[DuplicateCluster]: ...
    def items_by_id(self, ids: Sequence[int]) -> list[StoredItem]: ...

    # summaries
    def summaries(self, keys: Sequence[str]) -> dict[str, Summary]: ...
    def save_summaries(self, summaries: dict[str, Summary]) -> None: ...

    def iter_items(self) -> Iterator[StoredItem]: ...
    def close(self) -> None: ...

    # meta
    def get_meta(self, key: str) -> str | None: ...
    def set_meta(self, key: str, value: str) -> None: ...
    def bump_generation(self) -> None: ...
