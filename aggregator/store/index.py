"""The near-duplicate index: every copy's MinHash signature and band keys.

The dedup stage (:mod:`aggregator.dedup.near`) makes and reads signatures;
the store keeps them opaque, finds copies that share band keys within a
window of dates, and remembers how each copy joined its item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


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


class NearDuplicateIndex(Protocol):
    def indexed_copy(self, source: str, entry_key: str) -> IndexedCopy | None:
        """The copy ``source`` indexed under ``entry_key``, if any."""
        ...

    def shown_copy(self, item_id: int) -> IndexedCopy | None:
        """The copy whose title and text the item shows (None for items stored
        before the index)."""
        ...

    def index_copy(self, copy: IndexedCopy, replacing: IndexedCopy | None = None) -> int:
        """Store a copy and its band keys; ``replacing``: what its source said
        before, as :meth:`indexed_copy` returned it.  Returns the copy's id."""
        ...

    def show_copy(self, item_id: int, copy_id: int) -> None:
        """Mark the copy whose title and text the item shows; only one is."""
        ...

    def band_hits(
        self, bands: Sequence[int], start: datetime, end: datetime
    ) -> list[tuple[int, int]]:
        """(band, copy id) of indexed copies dated from ``start`` to ``end`` that
        have one of ``bands``: per band, at most a bounded number of the newest
        (a band thousands of copies share is a template, not evidence)."""
        ...

    def candidates(self, copy_ids: Sequence[int], source: str) -> list[Candidate]:
        """The indexed copies (at most a few hundred), by id, each with whether
        its item has a copy from ``source``."""
        ...
