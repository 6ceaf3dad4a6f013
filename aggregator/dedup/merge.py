"""Store one source's parsed entries: which item each belongs to, and why.

    copies  ->  look_up          lock the copies' keys, then what the store
                                 knows that they need: a handful of
                                 queries per source                    ForMerge
            ->  MergeDecider     per copy, in order, pure              (.decide)
                                 new / merged / updated / unchanged    MergeIntent
            ->  store.apply_merge   one call, in the caller's transaction   item ids

This module is the shell around the decisions (:mod:`.decide`, :mod:`.near`):
it makes the copies' keys and features (:func:`prepare_copy`, in worker
processes), looks up, and hands the intent to the store.  A bug met on one
copy is that copy's: it is raised as the source's
:class:`~aggregator.errors.ProcessingError` naming the entry.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from ..config import DedupConfig
from ..errors import ProcessingError
from ..models import ParsedItem
from ..store.base import Store
from ..store.index import BAND_HITS_LIMIT, BandQuery
from ..store.items import PENDING, CopyForMerge
from . import near
from .copies import CopyFacts, PreparedCopy
from .crowded import CrowdedKeys
from .decide import (
    CANDIDATES,
    ForMerge,
    MergeDecider,
    Outcome,
    copy_date,
    index_second,
    window,
)
from .keys import (
    canonical_url,
    content_fingerprint,
    content_hash,
    entry_key,
    lock_key,
    normalized_words,
)

__all__ = [
    "CopyFacts",
    "Outcome",
    "PreparedCopy",
    "copy_facts",
    "copy_facts_of",
    "look_up",
    "merge_copies",
    "merge_item",
    "prepare_copies",
    "prepare_copy",
]


def copy_facts(item: ParsedItem, body_text: str) -> CopyFacts:
    """``body_text`` is the entry's plain text."""
    (facts,) = copy_facts_of([item], [body_text])
    return facts


def copy_facts_of(items: Sequence[ParsedItem], body_texts: Sequence[str]) -> list[CopyFacts]:
    """:func:`copy_facts` of each item with its plain text, the same, made
    together (see :func:`.near.features_of`).  All the texts' words and
    arrays are held at once: :func:`prepare_copies` hands it runs of at most
    :data:`RUN_CHARS` characters."""
    # The words of each text and title, made once: the fingerprint's and the features' both.
    words = [normalized_words(text) for text in body_texts]
    title_words = [normalized_words(item.title) for item in items]
    features = near.features_of([item.title for item in items], body_texts, words, title_words)
    bands = near.band_keys_of(features)
    return [
        CopyFacts(
            canonical_url=canonical_url(item.link),
            fingerprint=content_fingerprint(item.title, text, text_words, title_words=folded),
            signature=near.encode(made),
            bands=tuple(keys),
        )
        for item, text, text_words, folded, made, keys in zip(
            items, body_texts, words, title_words, features, bands, strict=True
        )
    ]


# Text made into facts at once, at most (a single longer one alone): a run's
# words and arrays are held together, some 20 bytes a character, the words'
# strings most of it.  The benchmark's feeds have some 70,000 characters of
# text each; a feed of 1,000 long entries has 100 million.  Runs of 30,000
# (ten or so articles) cost no more CPU than runs of 500,000, and the
# workers' peak stays that of preparing one entry at a time (benchmark cold
# pass: PSS 197 MB against 205 MB, 191 MB one at a time).
RUN_CHARS = 30_000


def _runs_of(lengths: list[int]) -> Iterator[tuple[int, int]]:
    """Consecutive runs of items (start, end) with at most RUN_CHARS in all."""
    start = total = 0
    for index, length in enumerate(lengths):
        if total + length > RUN_CHARS and index > start:
            yield start, index
            start, total = index, 0
        total += length
    if start < len(lengths):
        yield start, len(lengths)


def prepare_copy(item: ParsedItem, stored: Mapping[str, str] | None = None) -> PreparedCopy:
    """The keys of an entry, and its facts unless ``stored`` (entry key ->
    content hash of what the source stored last time) shows it unchanged."""
    (prepared,) = prepare_copies([item], stored)
    return prepared


def prepare_copies(
    items: Sequence[ParsedItem], stored: Mapping[str, str] | None = None
) -> list[PreparedCopy]:
    """:func:`prepare_copy` of each item, the same, with the facts of all
    made together (:func:`copy_facts_of`): for a source's entries, less work
    than one at a time."""
    keys = [entry_key(item) for item in items]
    hashes = [content_hash(item) for item in items]
    new = [
        index
        for index, (key, new_hash) in enumerate(zip(keys, hashes, strict=True))
        if stored is None or stored.get(key) != new_hash
    ]
    facts: list[CopyFacts | None] = [None] * len(items)
    # In runs, so that the plain text of only one run is held at a time.
    for start, end in _runs_of([len(items[index].content_html) for index in new]):
        run = new[start:end]
        made = copy_facts_of(
            [items[index] for index in run],
            [_plain_text(items[index].content_html) for index in run],
        )
        for index, copy_facts_made in zip(run, made, strict=True):
            facts[index] = copy_facts_made
    return [
        PreparedCopy(item, key, new_hash, item_facts)
        for item, key, new_hash, item_facts in zip(items, keys, hashes, facts, strict=True)
    ]


def _plain_text(html: str) -> str:
    # Imported here: the parse package imports feedparser, which the process
    # that stores prepared copies does not otherwise need.
    from ..parse.normalize import plain_text

    return plain_text(html)


def merge_copies(
    store: Store,
    source: str,
    section: str,
    copies: Sequence[PreparedCopy],
    when: datetime,
    settings: DedupConfig | None = None,
    crowded: CrowdedKeys | None = None,
) -> list[tuple[Outcome, int]]:
    """Store ``source``'s prepared entries, in order; what each was and its item id.

    Look up, decide, apply: a handful of queries and one write call, whatever
    the number of copies.  Run inside the caller's transaction, which holds
    the copies' merge locks (see :func:`look_up`) until it ends: commit it
    before storing another source's.  An entry key seen twice starts a new
    round, so that the second sees the first stored.  ``crowded``: the
    pass's (see :func:`look_up`).
    """
    settings = settings or DedupConfig()
    merged: list[tuple[Outcome, int]] = []
    runs = list(_runs(copies))
    if len(runs) > 1:
        # Every round's keys at once, before the first round's look-up locks
        # its own: a transaction that locks more keys once it holds some can
        # deadlock with another that does the same.
        stored = store.copies_for_merge(source, {copy.entry_key for copy in copies})
        with_facts = [copy for copy in copies if copy.facts is not None]
        store.lock_for_merge(_merge_lock_keys(with_facts, list(stored.values())))
    for run in runs:
        ready, found = look_up(store, source, run, when, settings, crowded)
        decider = MergeDecider(source, section, found, when, settings)
        decided = []
        for copy in ready:
            try:
                decided.append(decider.decide(copy))
            except Exception as exc:
                raise ProcessingError.of(source, "storing", exc, copy.entry_key) from exc
        intent = decider.intent()
        item_ids = store.apply_merge(intent) if intent.steps else []
        merged += [
            (outcome, item_ids[ref - PENDING] if ref >= PENDING else ref)
            for outcome, ref in decided
        ]
    return merged


def look_up(
    store: Store,
    source: str,
    copies: Sequence[PreparedCopy],
    when: datetime,
    settings: DedupConfig,
    crowded: CrowdedKeys | None = None,
) -> tuple[list[PreparedCopy], ForMerge]:
    """The copies, each with its facts if it may need them, and what the store
    knows that deciding them needs: the source's stored copies under their
    keys, the items with their URLs and fingerprints, the index's hits for
    their bands and the candidates those select for each copy
    (near.select_candidates, once, here), the stored copies the decisions
    may choose among them, and (``lead: complete``) which copy each of those
    items shows.  Entry keys must be unique in ``copies``.

    What the decisions may rewrite (the items and index entries of the copies
    that changed) is left out of the answers and handed to the decider apart.

    Before the look-ups that another source's merge could change, the keys
    they read and the decisions write are locked (``Store.lock_for_merge``):
    two workers storing copies of one story at the same moment take turns,
    and the second finds the first's item.  The source's own stored copies
    need no lock: one source is stored by one poll at a time.

    ``crowded``: the pass's weak keys known crowded, learned from and kept
    up to date here; those of a copy's keys it knows are not looked up, and
    are handed to the decider apart (``ForMerge.crowded``).
    """
    stored = store.copies_for_merge(source, [copy.entry_key for copy in copies])
    ready, new, touched = [], [], []
    for copy in copies:
        known = stored.get(copy.entry_key)
        if known is None or known.record.content_hash != copy.content_hash:
            if copy.facts is None:
                # The worker took it for unchanged; the store says otherwise.
                try:
                    facts = copy_facts(copy.item, _plain_text(copy.item.content_html))
                except Exception as exc:
                    raise ProcessingError.of(source, "storing", exc, copy.entry_key) from exc
                copy = replace(copy, facts=facts)
            if known is None:
                new.append(copy)
            touched.append(copy)
        ready.append(copy)
    hashes = {copy.entry_key: copy.content_hash for copy in copies}
    changed = [known for key, known in stored.items() if known.record.content_hash != hashes[key]]
    tracked_items = {
        known.record.item_id: (known.canonical_url, known.fingerprint)
        for known in changed
        if known.record.is_lead  # only the lead copy rewrites its item's keys
    }
    tracked_copies = {known.indexed.id: known.indexed for known in changed if known.indexed}
    store.lock_for_merge(_merge_lock_keys(touched, changed))
    new_facts = [copy.facts for copy in new if copy.facts is not None]
    urls = {f.canonical_url for f in new_facts if f.canonical_url is not None}
    fingerprints = {f.fingerprint for f in new_facts if f.fingerprint is not None}
    by_url = store.items_by_url(urls, source, tracked_items) if urls else {}
    by_fingerprint = store.items_by_fingerprint(fingerprints, tracked_items) if fingerprints else {}
    # A copy whose text a stored item has is merged by URL or by text,
    # whatever the batch does: it needs no near-duplicate look-up.
    similar = [copy for copy in new if copy.facts and copy.facts.fingerprint not in by_fingerprint]
    # Keys known crowded in a copy's window are not looked up (see .crowded):
    # their answer would be ignored.  The changed copies' keys are forgotten
    # first: left out here and rewritten next, they may be among those counted.
    if crowded is not None:
        crowded.forget(band for entry in tracked_copies.values() for band in entry.bands)
    queries = []
    crowded_bands: dict[str, frozenset[int]] = {}
    for copy in similar:
        assert copy.facts is not None
        start, end = window(copy_date(copy, when), settings)
        bands = copy.facts.bands
        if crowded is not None:
            crowded_here = crowded.crowded(bands, index_second(start), index_second(end))
            if crowded_here:
                crowded_bands[copy.entry_key] = crowded_here
                bands = tuple(band for band in bands if band not in crowded_here)
        queries.append(BandQuery(bands, start, end))
    hits = store.band_hits(queries, tracked_copies) if queries else []
    if crowded is not None:
        for found in hits:
            crowded.learn(found)
    selected = {
        copy.entry_key: near.select_candidates(
            [(hit.band, hit.copy_ids) for hit in found], None, template=BAND_HITS_LIMIT
        )
        for copy, found in zip(similar, hits, strict=True)
    }
    # The stored copies the decisions may select: for a copy that shares a
    # band with the batch's own index entries (a changed copy before it, or
    # one the batch rewrites), every one its hits select, not only the
    # first CANDIDATES, as those entries may push some of them out of the
    # decision (never in: they only take places); for the others, the first.
    # And the bands two of those entries have, for the decider to keep.
    wanted: set[int] = set()
    held: set[int] = set()
    shared: set[int] = set()
    for entry in tracked_copies.values():
        shared.update(held.intersection(entry.bands))
        held.update(entry.bands)
    for copy in touched:
        assert copy.facts is not None
        common = held.intersection(copy.facts.bands)
        shared |= common
        # Under keys known crowded in its window the decider meets no entry
        # (ForMerge.crowded): sharing only those, it takes its first candidates.
        meets_batch = common.difference(crowded_bands.get(copy.entry_key, ()))
        chosen = selected.get(copy.entry_key)
        if chosen:
            wanted.update(chosen if meets_batch else chosen[:CANDIDATES])
        held.update(copy.facts.bands)
    candidates = {c.copy.id: c for c in store.candidates(wanted, source)} if wanted else {}
    shown = {}
    if settings.lead == "complete":
        items = {match.item_id for match in by_url.values()} | set(by_fingerprint.values())
        items |= {c.copy.item_id for c in candidates.values()}
        items |= {known.record.item_id for known in changed}
        shown = store.shown_copies(items) if items else {}
    return ready, ForMerge(
        copies=stored,
        tracked_items=tracked_items,
        tracked_copies=tracked_copies,
        by_url=by_url,
        by_fingerprint=by_fingerprint,
        hits={copy.entry_key: found for copy, found in zip(similar, hits, strict=True)},
        candidates=candidates,
        shown=shown,
        selected=selected,
        shared_bands=frozenset(shared),
        crowded=crowded_bands,
    )


def merge_item(
    store: Store,
    source: str,
    section: str,
    item: ParsedItem,
    body_text: str,
    when: datetime,
    settings: DedupConfig | None = None,
) -> tuple[Outcome, int]:
    """Store one parsed entry of ``source``; return what it was and its item id.

    ``body_text`` is the entry's plain text, for the fingerprint and features.
    """
    prepared = PreparedCopy(item, entry_key(item), content_hash(item), copy_facts(item, body_text))
    ((outcome, item_id),) = merge_copies(store, source, section, [prepared], when, settings)
    return outcome, item_id


def _merge_lock_keys(
    touched: Sequence[PreparedCopy], changed: Sequence[CopyForMerge]
) -> Iterator[int]:
    """What a merge of these copies reads or writes that another source's may:
    the new and changed copies' band keys, canonical URLs and fingerprints,
    and those the changed copies had (their index entries and, for a lead,
    their item's keys are rewritten).  Made as read: a store that needs no
    locks (SQLite's) reads none, and hashes no URL."""
    for copy in touched:
        assert copy.facts is not None
        yield from copy.facts.bands
        yield from (lock_key(k) for k in (copy.facts.canonical_url, copy.facts.fingerprint) if k)
    for known in changed:
        if known.indexed is not None:
            yield from known.indexed.bands
        yield from (lock_key(k) for k in (known.canonical_url, known.fingerprint) if k)


def _runs(copies: Sequence[PreparedCopy]) -> Iterator[list[PreparedCopy]]:
    """The copies in order, cut before each entry key already in the run."""
    run: list[PreparedCopy] = []
    keys: set[str] = set()
    for copy in copies:
        if copy.entry_key in keys:
            yield run
            run, keys = [], set()
        run.append(copy)
        keys.add(copy.entry_key)
    if run:
        yield run
