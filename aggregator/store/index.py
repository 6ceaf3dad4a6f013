"""The near-duplicate index: every copy's MinHash signature and band keys.

    band_hits(queries)        index keys of a source's new copies  -> copies dated near them
    candidates(ids, source)   those copies, for the decision        -> the dedup stage
    shown_copies(item ids)    which copy each item shows            -> ``dedup.lead: complete``
    (written by ``ItemStore.apply_merge``, with the copies)

The dedup stage (:mod:`aggregator.dedup.near`) makes and reads signatures;
the store keeps them opaque, finds copies that share band keys within a
window of dates, and remembers how each copy joined its item.  Every look-up
here takes all of one source's new copies at once: a handful of queries per
source, whatever its number of copies.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

# At most this many copies per band and per query: the newest.  A band that
# thousands of copies share is a template (a boilerplate lead, a numbered
# series), not evidence, and returning all of them would make each new copy
# cost as much as the copies before it (quadratic).  Part of the contract:
# which copies a new one is compared with must not depend on the store.
BAND_HITS_LIMIT = 64


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
class BandQuery:
    """The index keys of one new copy, and the window of dates it is compared within."""

    bands: tuple[int, ...]
    start: datetime
    end: datetime


class BandHits(NamedTuple):
    """The indexed copies under one of a query's bands: their ids, and each
    one's date in whole seconds since 1970 (to merge them with copies not yet
    stored: seconds, not a datetime made for each).

    One record per band, not one per copy: a cold pass reads millions of
    hits, and a record for each cost more than finding them.
    """

    band: int
    copy_ids: Sequence[int]
    seconds: Sequence[int]  # copy_ids[i]'s date is seconds[i]


class NearDuplicateIndex(Protocol):
    def band_hits(
        self, queries: Sequence[BandQuery], excluding: Collection[int] = ()
    ) -> list[list[BandHits]]:
        """For each query, in order: the indexed copies dated from its ``start``
        to its ``end`` (inclusive, to the second) that have one of its bands,
        leaving out the copies whose ids are in ``excluding`` (those the caller
        is about to rewrite, and tracks itself); one :class:`BandHits` per band
        that has any, a band given twice once.

        Per query and per band, at most :data:`BAND_HITS_LIMIT` copies: the
        newest, the highest id first among copies of the same date.  In no
        particular order.  A handful of queries, whatever their number.
        """
        ...

    def candidates(self, copy_ids: Collection[int], source: str) -> list[Candidate]:
        """The indexed copies of those ids that exist, by id, each with whether
        its item has a copy from ``source``."""
        ...

    def shown_copies(self, item_ids: Collection[int]) -> dict[int, IndexedCopy]:
        """Item id -> the copy whose title and text it shows (the lowest id if
        several say so); items stored before the index have none."""
        ...
