"""Items, their copies and the clusters they form: what the dedup stage stores.

An *item* is one story as published; a *copy* is one source's entry of it
(its key is ``(source, entry_key)``).  Records are named by stage:
``...ForMerge`` and ``ItemMatch`` come out for the dedup stage's decisions,
``MergeIntent`` goes back in, ``StoredItem`` comes out for publishing.

    copies_for_merge(source, keys)     the source's stored copies  -> the dedup decider
    lock_for_merge(keys)               merges that may match each other take turns
    items_by_url / items_by_fingerprint  items the copies may join -> the dedup decider
    apply_merge(MergeIntent)           what it decided, one call   <- the dedup decider
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ..models import Enclosure, SourceRef
from .index import IndexedCopy

# Ids from here up, in a MergeIntent, name what an earlier step of the same
# intent inserts: PENDING + n is the item step n creates, or the copy it
# indexes.  They sort after every stored id, as the ids the store assigns
# will.  (No store assigns ids anywhere near 2**62.)
PENDING = 1 << 62


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
    enclosures: tuple[Enclosure, ...] = ()
    image: str | None = None


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
    # The lead copy's files and main image: a rewrite replaces them, a retext
    # (another copy's text shown) leaves them.
    enclosures: tuple[Enclosure, ...] = ()
    image: str | None = None


def media_json(enclosures: Sequence[Enclosure], image: str | None) -> str | None:
    """An item's enclosures and image as the stores keep them (one text column); None for none."""
    if not enclosures and image is None:
        return None
    data = {"enclosures": [e.to_json() for e in enclosures], "image": image}
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def media_from_json(text: object) -> tuple[tuple[Enclosure, ...], str | None]:
    """What :func:`media_json` wrote; nothing for NULL."""
    if not isinstance(text, str):
        return (), None
    data = json.loads(text)
    image = data.get("image")
    return (
        tuple(Enclosure.from_json(e) for e in data.get("enclosures", [])),
        image if isinstance(image, str) else None,
    )


@dataclass(frozen=True, slots=True)
class CopyRecord:
    """One source's copy of an item: which item, and the hash of what it said."""

    item_id: int
    content_hash: str
    is_lead: bool


@dataclass(frozen=True, slots=True)
class CopyForMerge:
    """One source's stored copy, as storing a new version of it needs it."""

    record: CopyRecord
    # Its item's keys: when this copy leads the item, an update rewrites them.
    canonical_url: str | None
    fingerprint: str | None
    indexed: IndexedCopy | None  # None: stored before the near-duplicate index


@dataclass(frozen=True, slots=True)
class ItemMatch:
    """The oldest item with a key (a canonical URL, a fingerprint)."""

    item_id: int
    has_source: bool  # it has a copy from the source the look-up was for


@dataclass(frozen=True, slots=True)
class NewItem:
    """An item a copy creates, led by the intent's source."""

    uid: str
    item: ItemWrite


@dataclass(frozen=True, slots=True)
class CopyStep:
    """What storing one copy writes, applied in this order.

    ``item_id``, ``index.item_id`` and ``index.matched`` may be
    :data:`PENDING` + n: the item or copy of step n of the same intent.
    """

    entry_key: str
    link: str | None
    content_hash: str
    item_id: int  # the item the copy belongs to (PENDING + this step's number: ``insert``)
    insert: NewItem | None  # the copy creates its item
    rewrite: ItemWrite | None  # the item as its lead copy now says (a date of None keeps it)
    retext: ItemWrite | None  # the item shows this copy's title, text, author, language
    index: IndexedCopy  # the copy in the near-duplicate index
    replacing: IndexedCopy | None  # what the index held for it before, as looked up
    show: bool  # then the item shows this copy, and only it


@dataclass(frozen=True, slots=True)
class MergeIntent:
    """What the dedup stage decided about one source's new copies, to store in one call."""

    source: str
    when: datetime  # when the copies were seen: first seen of new items and copies
    steps: tuple[CopyStep, ...]


@dataclass(frozen=True, slots=True)
class ClusterMember:
    source: str
    link: str | None
    title: str | None  # None for copies stored before the near-duplicate index
    method: str | None
    score: float | None
    matched_source: str | None  # the member it was found like
    first_seen: datetime
    feed_url: str | None = None  # its source's stored URL (None for local files)


@dataclass(frozen=True, slots=True)
class DuplicateCluster:
    """An item that more than one copy became, with its copies (first first)."""

    item_id: int
    uid: str
    title: str
    link: str | None
    members: tuple[ClusterMember, ...]


class ItemStore(Protocol):
    def copies_for_merge(self, source: str, entry_keys: Collection[str]) -> dict[str, CopyForMerge]:
        """Entry key -> the copy ``source`` stored under it, for those of
        ``entry_keys`` it has stored, with its index entry.  One query."""
        ...

    def lock_for_merge(self, keys: Iterable[int]) -> None:
        """Until the caller's transaction ends, no other transaction can lock
        any of ``keys`` (64-bit integers: a copy's band keys, stable hashes of
        its canonical URL and fingerprint): it waits until this one ends.

        So that merges whose copies could match each other (they share a key)
        run one after another, across processes and machines, and each sees
        what the one before it stored: call it inside the transaction, before
        the look-ups the decision reads.  A key stands for a bucket of keys,
        so unrelated merges may take turns too, never the other way round.

        Call it once per transaction, before taking any other lock: keys are
        locked in one sorted sweep, so two callers never deadlock on them, but
        a transaction that locks keys twice (two sources in one transaction)
        can deadlock with another that does.  Outside a transaction it holds
        nothing.  A store whose transactions already exclude each other (one
        writer at a time) does nothing here, and does not read ``keys``: they
        may be an iterator that makes them (a hash each) only when read.
        """
        ...

    def copy_hashes(self, source: str) -> dict[str, str]:
        """Entry key -> content hash of every copy ``source`` has stored."""
        ...

    def items_by_url(
        self, canonical_urls: Collection[str], source: str, excluding: Collection[int] = ()
    ) -> dict[str, ItemMatch]:
        """Canonical URL -> the oldest item (lowest id) with it, leaving out the
        items in ``excluding`` (those the caller may rewrite, and tracks
        itself), with whether it has a copy from ``source``.  One query."""
        ...

    def items_by_fingerprint(
        self, fingerprints: Collection[str], excluding: Collection[int] = ()
    ) -> dict[str, int]:
        """Content fingerprint -> the id of the oldest item with it, leaving out
        the items in ``excluding``.  One query."""
        ...

    def apply_merge(self, intent: MergeIntent) -> list[int]:
        """Store what the dedup stage decided about a source's copies (see
        :mod:`aggregator.dedup.merge`), in the caller's transaction (or one of
        its own when there is none); returns each step's item id, in order, new
        items' as inserted.  On an error, the steps before it are left for the
        caller's transaction to undo: run it in a savepoint of its own, as the
        pipeline runs each source, to undo the intent alone.

        Each step, in order: the new item inserted (first seen and, when the
        copy has none, dated ``intent.when``), or the item rewritten as its
        lead copy says, or its title and text taken from the copy; the copy
        saved (saving it again updates its link and hash, never its item or
        when it was first seen) and indexed, replacing its band keys; then
        the item shown as this copy, if so.  An error caused by a step's data
        is raised as the driver raised it, with a note naming the entry key.

        Two intents applied at once (several writers) never deadlock on the
        items they share: the stored items an intent writes are locked first,
        in id order.
        """
        ...

    def latest_items(
        self, limit: int, *, sources: Collection[str] | None = None
    ) -> list[StoredItem]:
        """The ``limit`` newest items (by date, then id), newest first, with their sources;
        with ``sources``, only items at least one of those sources carries (the
        items of a source no longer configured stay stored, unpublished)."""
        ...

    def items_by_id(self, ids: Sequence[int]) -> list[StoredItem]:
        """Those of ``ids`` that exist, with their sources."""
        ...

    def iter_items(self) -> Iterator[StoredItem]:
        """Every item, with its sources."""
        ...

    def delete_items_before(self, cutoff: datetime) -> int:
        """Delete every item both published and first seen before ``cutoff``
        (``retention``), with its copies and their near-duplicate index
        entries (signatures and band keys), in one transaction (a savepoint
        inside the caller's); returns how many items went, and counts a
        change to what is published (the generation) when any did.

        Both dates, so that an old story a feed still carries, or one stored
        late, is kept for the whole retention after it was first seen.  A
        copy deleted while its source still carries it is stored again as a
        new item (with the same uid) if the source sends it again changed;
        summaries (shared by input hash) and sources are not touched.
        """
        ...

    def duplicate_clusters(self) -> list[DuplicateCluster]:
        """Every item more than one copy became, newest first, its copies first first."""
        ...
