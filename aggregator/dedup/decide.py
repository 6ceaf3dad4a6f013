"""What each of a source's new copies is: pure, ``when`` passed in.

    MergeDecider(source, what the store knows: ForMerge, when, settings)
      .decide(copy), for each copy in order:
           its own earlier copy?    (same source, same entry key)  unchanged / updated
           the same page?           (canonical URL)                merged: canonical-url
           the same text?           (content fingerprint)          merged: content-hash
           the same story, edited?  (near-duplicate index)         merged: near-duplicate
           otherwise                                                new
      .intent()  ->  MergeIntent: every write, for the store to apply in one call

Nothing here touches the store or a clock: :func:`.merge.look_up` fetches
what the decisions need for all of a source's copies at once (``ForMerge``),
and the store applies the intent (``ItemStore.apply_merge``).

Copies are decided in order, each seeing what the ones before it decided,
exactly as if each had been stored before the next was looked at: an item a
copy creates can be found by a later copy's URL or fingerprint; a copy
merged into an item marks that item as carrying this source; a copy indexed
or re-indexed takes its place among the index's hits.  The decider keeps
that in memory (the *batch*) on top of the look-up; the look-up leaves out
of its answers what the batch may change (the items and index entries of
the source's changed copies), and the decider holds those itself.  Item and
copy ids it cannot know yet are :data:`~aggregator.store.items.PENDING` + n
(step n's), which sort after every stored id as the real ones will.

Invariants: an item keeps the id and link of the copy that created it, and
its sources list that copy first, whatever arrives later.  Which copy's
title and text the item shows is ``dedup.lead``: the first (``earliest``) or
the one with the most text (``complete``).  Every copy is put in the
near-duplicate index with how it joined its item, so ``aggregate
duplicates`` can say why two copies are one entry.

What this does not do: it never merges two items that already exist (that
would change an id readers have seen), and it never merges a copy into an
item that already has a copy from the same source by similarity or by URL
(one outlet publishing two similar items, or a page at one address that
changes daily, is an update or a recurring item, not a copy).  The same
text under two entry keys of one source is one item (content hash).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum

from ..config import DedupConfig
from ..store.index import BAND_HITS_LIMIT, BandHits, Candidate, IndexedCopy
from ..store.items import (
    PENDING,
    CopyForMerge,
    CopyStep,
    ItemMatch,
    ItemWrite,
    MergeIntent,
    NewItem,
)
from . import near
from .copies import CopyFacts, PreparedCopy
from .keys import entry_uuid

# Copies looked at per new copy, those sharing the most index keys first.
CANDIDATES = 16

FIRST = "first"  # the copy that created its item
CANONICAL_URL = "canonical-url"
CONTENT_HASH = "content-hash"
NEAR_DUPLICATE = "near-duplicate"


class Outcome(StrEnum):
    NEW = "new"  # a story not seen before
    MERGED = "merged"  # a new copy of a story another source (or entry) already carried
    UPDATED = "updated"  # a copy seen before whose content changed
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class ForMerge:
    """What the store knew, before any of them was stored, that a source's
    copies need (see :func:`.merge.look_up`).  Entry keys are unique in it."""

    copies: Mapping[str, CopyForMerge]  # the source's stored copies, by entry key
    # Items the batch may rewrite (those its changed copies lead), with their
    # stored (canonical URL, fingerprint); left out of by_url and by_fingerprint.
    tracked_items: Mapping[int, tuple[str | None, str | None]]
    # Index entries the batch may rewrite (its changed copies'); left out of hits.
    tracked_copies: Mapping[int, IndexedCopy]
    by_url: Mapping[str, ItemMatch]
    by_fingerprint: Mapping[str, int]
    # By entry key: the index's hits for each new copy that may be a near
    # duplicate (not those a stored item's fingerprint already claims).
    hits: Mapping[str, Sequence[BandHits]]
    # Every stored copy the decisions may select: all that a copy's hits
    # select when the batch may index copies under its bands too (they may
    # push the first out), else only the first CANDIDATES.
    candidates: Mapping[int, Candidate]
    shown: Mapping[int, IndexedCopy]  # item id -> the copy it shows (``lead: complete``)
    # By entry key: what near.select_candidates makes of ``hits``, in order,
    # at least the first CANDIDATES; for a copy left out, the decider selects.
    selected: Mapping[str, Sequence[int]] = field(default_factory=dict)
    # The bands that two of the batch's index entries have (its changed
    # copies', the tracked ones'): the only ones under which a decision can
    # meet an entry of the batch.  None: any band may be.
    shared_bands: frozenset[int] | None = None
    # By entry key: weak keys of the copy known crowded in its window
    # (.crowded), left out of its hits: no evidence, whatever the batch adds.
    crowded: Mapping[str, frozenset[int]] = field(default_factory=dict)


def copy_date(copy: PreparedCopy, when: datetime) -> datetime:
    """The date a copy is indexed under and compared within a window of."""
    return copy.item.published or copy.item.updated or when


def window(at: datetime, settings: DedupConfig) -> tuple[datetime, datetime]:
    """The dates of the indexed copies a copy of date ``at`` is compared with."""
    span = timedelta(seconds=settings.window)
    return at - span, at + span


@dataclass(slots=True)
class _Shown:
    """Which copies of an item say they are shown, as the batch changed them."""

    reset: bool  # only ``refs`` (shown by the batch); else the stored ones too
    refs: set[int] = field(default_factory=set)


class MergeDecider:
    """Decides one source's copies in order; holds what earlier ones decided.

    An object only to hold the batch: each :meth:`decide` is a pure function
    of the look-up, the copies decided before and its arguments.
    """

    def __init__(
        self,
        source: str,
        section: str,
        found: ForMerge,
        when: datetime,
        settings: DedupConfig,
    ):
        self.source, self.section, self.found = source, section, found
        self.when, self.settings = when, settings
        self._steps: list[CopyStep] = []
        # Items with a copy from this source that the look-up's answers do not
        # say so of: the tracked ones, and those the batch's copies joined.
        self._sourced: set[int] = set(found.tracked_items)
        # The keys of the items the batch holds (tracked or new), and those
        # items by key.
        self._item_keys: dict[int, tuple[str | None, str | None]] = {}
        self._by_url: dict[str, set[int]] = {}
        self._by_fingerprint: dict[str, set[int]] = {}
        for item_id, keys in found.tracked_items.items():
            self._set_item_keys(item_id, keys)
        # Index entries the batch holds (tracked or new), by copy ref and by band.
        self._index: dict[int, IndexedCopy] = {}
        self._seconds: dict[int, int] = {}  # their dates, as the index compares them
        self._by_band: dict[int, set[int]] = {}
        for copy in found.tracked_copies.values():
            self._set_indexed(copy.id, copy)
        self._shown: dict[int, _Shown] = {}
        self._features: dict[int, near.Features | None] = {}  # decoded candidates

    def intent(self) -> MergeIntent:
        """Every write the copies decided so far need, in order."""
        return MergeIntent(self.source, self.when, tuple(self._steps))

    def decide(self, copy: PreparedCopy) -> tuple[Outcome, int]:
        """What ``copy`` is, and its item's id (:data:`PENDING` + n for the
        item step n of the intent creates); its writes join the intent."""
        stored = self.found.copies.get(copy.entry_key)
        if stored is not None and stored.record.content_hash == copy.content_hash:
            return Outcome.UNCHANGED, stored.record.item_id
        facts = copy.facts
        assert facts is not None, "the look-up makes the facts of every changed copy"
        item = copy.item
        write = ItemWrite(
            section=self.section,
            title=item.title,
            link=item.link,
            canonical_url=facts.canonical_url,
            fingerprint=facts.fingerprint,
            published=item.published or item.updated,
            updated=item.updated,
            content_html=item.content_html,
            author=item.author,
            language=item.language,
            enclosures=item.enclosures,
            image=item.image,
        )
        # How the copy goes in the index, but for how it joined its item: each
        # branch makes its entry once (a dataclass copy per change costs more).
        indexed = _Indexing(
            self.source, copy.entry_key, item.title, copy_date(copy, self.when), facts
        )
        if stored is not None:
            return self._updated(copy, stored, write, indexed, facts.features)
        return self._joined(copy, write, indexed, facts.features)

    # -- one copy -------------------------------------------------------------

    def _updated(
        self,
        copy: PreparedCopy,
        stored: CopyForMerge,
        write: ItemWrite,
        indexed: _Indexing,
        features: near.Features,
    ) -> tuple[Outcome, int]:
        """A copy seen before says something new; the item changes only if it shows this copy.

        The copy stays in its item whatever it says now: moving it would change
        what readers already saw.  Only the copy that leads speaks for the
        item's link and dates, so a later edit by another outlet does not
        change the entry under readers.
        """
        item_id, is_lead = stored.record.item_id, stored.record.is_lead
        before = stored.indexed
        if before is not None:
            before = replace(before, shown=self._is_shown(item_id, before.id, before.shown))
        shown = before.shown if before is not None else is_lead
        if before is not None:
            kept = indexed.entry(item_id, before.method, before.score, before.matched, shown)
        else:
            kept = indexed.entry(item_id, FIRST, shown=shown)
        copy_ref = before.id if before is not None else self._next_ref()
        self._set_indexed(copy_ref, kept)
        if kept.shown and before is None:
            self._shown.setdefault(item_id, _Shown(reset=False)).refs.add(copy_ref)
        rewrite = write if shown and is_lead else None
        if rewrite is not None:
            self._set_item_keys(item_id, (write.canonical_url, write.fingerprint))
        retext = write if shown and not is_lead else None
        show = False
        if not shown and self.settings.lead == "complete":
            show = self._more_complete(item_id, copy_ref, features)
            retext = write if show else None
        self._add_step(
            copy, item_id, kept, rewrite=rewrite, retext=retext, replacing=before, show=show
        )
        return Outcome.UPDATED, item_id

    def _joined(
        self, copy: PreparedCopy, write: ItemWrite, indexed: _Indexing, features: near.Features
    ) -> tuple[Outcome, int]:
        """A copy this source never stored: a copy of a known item, or a new one."""
        url, fingerprint = write.canonical_url, write.fingerprint
        url_match = self._item_by_url(url) if url else None
        if url_match is not None and url_match.has_source:
            # The same source at the same address with other content: a page that
            # changes daily (a briefing, a price table), not a copy of a story.
            url_match = None
        content_match = None
        if url_match is None and fingerprint is not None:
            content_match = self._item_by_fingerprint(fingerprint)
        found = None
        if url_match is None and content_match is None:
            found = self._near_match(copy.entry_key, features, indexed.at, indexed.facts.bands)
        ref = self._next_ref()
        score: float | None = None
        matched: int | None = None
        if url_match is not None:
            item_id, method = url_match.item_id, CANONICAL_URL
        elif content_match is not None:
            item_id, method = content_match, CONTENT_HASH
        elif found is not None:
            item_id, matched, similarity = found
            method, score = NEAR_DUPLICATE, round(similarity, 4)
        else:
            new = NewItem(entry_uuid(self.source, copy.entry_key), write)
            first = indexed.entry(ref, FIRST, shown=True)
            self._sourced.add(ref)
            self._set_item_keys(ref, (url, fingerprint))
            self._set_indexed(ref, first)
            self._shown[ref] = _Shown(reset=True, refs={ref})
            self._add_step(copy, ref, first, insert=new)
            return Outcome.NEW, ref
        joined = indexed.entry(item_id, method, score, matched)
        self._sourced.add(item_id)
        self._set_indexed(ref, joined)
        show = self.settings.lead == "complete" and self._more_complete(item_id, ref, features)
        self._add_step(copy, item_id, joined, retext=write if show else None, show=show)
        return Outcome.MERGED, item_id

    def _near_match(
        self, key: str, features: near.Features, at: datetime, bands: Sequence[int]
    ) -> tuple[int, int, float] | None:
        """(item id, copy id, similarity) of the stored copy this one (dated
        ``at``, with index keys ``bands``) is a copy of."""
        crowded = self.found.crowded.get(key, frozenset())
        held = [
            band
            for band in self._indexed_bands(bands)
            if self._by_band.get(band) and band not in crowded
        ]
        selected = self.found.selected.get(key)
        if held or selected is None:
            hits = self._hits(self.found.hits.get(key, ()), at, held)
            selected = near.select_candidates(hits, CANDIDATES, template=BAND_HITS_LIMIT)
        pool = []
        items = {}
        # In id order, as the store lists candidates: the first of equal matches wins.
        for copy_id in sorted(selected[:CANDIDATES]):
            if copy_id in self._index:
                continue  # this source's own copy (stored or of this batch)
            # The look-up fetched every stored copy the hits may select.
            candidate = self.found.candidates[copy_id]
            if candidate.same_source or candidate.copy.item_id in self._sourced:
                continue
            stored = self._decoded(candidate.copy)
            if stored is None:
                continue
            seconds = (at - candidate.copy.at).total_seconds()
            pool.append((copy_id, stored, seconds))
            items[copy_id] = candidate.copy.item_id
        best = near.best_match(features, pool, self.settings)
        if best is None:
            return None
        copy_id, match = best
        return items[copy_id], copy_id, match.score

    def _more_complete(self, item_id: int, copy_ref: int, features: near.Features) -> bool:
        """``dedup.lead: complete``: should the item show this copy, which has more text?

        Only its title and text change hands; its id, link, dates and lead
        source stay those of the first copy.  Ties keep the copy shown.
        """
        shown = self._shown_copy(item_id)
        if shown is None or shown[0] == copy_ref:
            return False  # stored before the index, or this copy already
        current = near.decode(shown[1].signature)
        if current is not None and features.words <= current.words:
            return False
        self._shown[item_id] = _Shown(reset=True, refs={copy_ref})
        return True

    # -- the batch: what the store would say had each copy been stored ------------

    def _next_ref(self) -> int:
        return PENDING + len(self._steps)

    def _add_step(
        self,
        copy: PreparedCopy,
        item_id: int,
        index: IndexedCopy,
        *,
        insert: NewItem | None = None,
        rewrite: ItemWrite | None = None,
        retext: ItemWrite | None = None,
        replacing: IndexedCopy | None = None,
        show: bool = False,
    ) -> None:
        self._steps.append(
            CopyStep(
                entry_key=copy.entry_key,
                link=copy.item.link,
                content_hash=copy.content_hash,
                item_id=item_id,
                insert=insert,
                rewrite=rewrite,
                retext=retext,
                index=index,  # its id is the store's to assign
                replacing=replacing,
                show=show,
            )
        )

    def _item_by_url(self, url: str) -> ItemMatch | None:
        """The oldest item with this canonical URL, as the store would say now."""
        stored = self.found.by_url.get(url)
        held = self._by_url.get(url)
        if held and (stored is None or min(held) < stored.item_id):
            return ItemMatch(min(held), has_source=True)  # tracked or new: this source's
        if stored is None:
            return None
        return ItemMatch(stored.item_id, stored.has_source or stored.item_id in self._sourced)

    def _item_by_fingerprint(self, fingerprint: str) -> int | None:
        stored = self.found.by_fingerprint.get(fingerprint)
        held = self._by_fingerprint.get(fingerprint)
        if held and (stored is None or min(held) < stored):
            return min(held)
        return stored

    def _set_item_keys(self, item_id: int, keys: tuple[str | None, str | None]) -> None:
        old_url, old_fingerprint = self._item_keys.get(item_id, (None, None))
        if old_url is not None:
            self._by_url[old_url].discard(item_id)
        if old_fingerprint is not None:
            self._by_fingerprint[old_fingerprint].discard(item_id)
        self._item_keys[item_id] = keys
        url, fingerprint = keys
        if url is not None:
            self._by_url.setdefault(url, set()).add(item_id)
        if fingerprint is not None:
            self._by_fingerprint.setdefault(fingerprint, set()).add(item_id)

    def _indexed_bands(self, bands: Sequence[int]) -> Collection[int]:
        """Those of ``bands`` that _by_band keeps: the shared ones (most copies
        have none, and keeping every band of every copy cost more than the
        decisions that read them)."""
        shared = self.found.shared_bands
        return dict.fromkeys(bands) if shared is None else shared.intersection(bands)

    def _set_indexed(self, ref: int, copy: IndexedCopy) -> None:
        old = self._index.get(ref)
        if old is not None:
            for band in self._indexed_bands(old.bands):
                self._by_band[band].discard(ref)
        self._index[ref] = copy  # its id is the store's: the ref is the key
        self._seconds[ref] = index_second(copy.at)
        by_band = self._by_band
        for band in self._indexed_bands(copy.bands):
            refs = by_band.get(band)  # not setdefault: a set made for every band
            if refs is None:
                by_band[band] = {ref}
            else:
                refs.add(ref)

    def _hits(
        self, stored: Sequence[BandHits], at: datetime, held_bands: Sequence[int]
    ) -> list[tuple[int, Sequence[int]]]:
        """(band, copy refs) of the index as it stands: the stored hits merged
        with the batch's entries under ``held_bands`` (those of the copy's
        bands the batch indexed copies under), at most BAND_HITS_LIMIT per
        band, the newest."""
        if not held_bands:  # the batch indexed nothing under these keys: the store's answer stands
            return [(hit.band, hit.copy_ids) for hit in stored]
        by_band = self._by_band
        start, end = window(at, self.settings)
        low, high = index_second(start), index_second(end)
        merged = set(held_bands)
        hits = [(hit.band, hit.copy_ids) for hit in stored if hit.band not in merged]
        found_in = {hit.band: hit for hit in stored if hit.band in merged}
        for band in held_bands:
            held = [
                (seconds, ref)
                for ref in by_band[band]
                if low <= (seconds := self._seconds[ref]) <= high
            ]
            found = found_in.get(band)
            if found is None:
                hits.append((band, [ref for _, ref in held]))
                continue
            if len(found.copy_ids) + len(held) <= BAND_HITS_LIMIT:
                hits.append((band, [*found.copy_ids, *(ref for _, ref in held)]))
                continue
            # The newest, the highest id first, as the store would have kept.
            newest = sorted([*zip(found.seconds, found.copy_ids, strict=True), *held], reverse=True)
            hits.append((band, [ref for _, ref in newest[:BAND_HITS_LIMIT]]))
        return hits

    def _is_shown(self, item_id: int, copy_ref: int, stored: bool) -> bool:
        state = self._shown.get(item_id)
        return copy_ref in state.refs if state is not None and state.reset else stored

    def _shown_copy(self, item_id: int) -> tuple[int, IndexedCopy] | None:
        """(ref, copy) of the copy the item shows: of those that say so, the lowest id."""
        state = self._shown.get(item_id)
        if state is None or not state.reset:
            stored = self.found.shown.get(item_id)
            if stored is not None:  # lower than any id the batch assigns
                return stored.id, self._index.get(stored.id, stored)
        if state is None or not state.refs:
            return None
        ref = min(state.refs)
        return ref, self._index[ref]

    def _decoded(self, copy: IndexedCopy) -> near.Features | None:
        if copy.id not in self._features:
            self._features[copy.id] = near.decode(copy.signature)
        return self._features[copy.id]


@dataclass(frozen=True, slots=True)
class _Indexing:
    """What a copy's index entry says whatever its item: one per decided copy."""

    source: str
    entry_key: str
    title: str
    at: datetime
    facts: CopyFacts

    def entry(
        self,
        item_id: int,
        method: str,
        score: float | None = None,
        matched: int | None = None,
        shown: bool = False,
    ) -> IndexedCopy:
        return IndexedCopy(
            source=self.source,
            entry_key=self.entry_key,
            item_id=item_id,
            title=self.title,
            at=self.at,
            signature=self.facts.signature,
            bands=self.facts.bands,
            method=method,
            score=score,
            matched=matched,
            shown=shown,
        )


def index_second(value: datetime) -> int:
    """Whole seconds since 1970, as the index compares dates."""
    return int(value.timestamp())
