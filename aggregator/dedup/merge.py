"""Store one parsed entry: which item it belongs to, and why.

    entry  ->  its own earlier copy?     (same source, same entry key)  unchanged / updated
           ->  the same page?            (canonical URL)                merged: canonical-url
           ->  the same text?            (content fingerprint)          merged: content-hash
           ->  the same story, edited?   (near-duplicate index)         merged: near-duplicate
           ->  otherwise                                                 new

The decisions are pure (:func:`.exact.decide`, :func:`.near.decide`);
this module does the look-ups and the writes around them.  Every copy is put
in the near-duplicate index with how it joined its item, so
``aggregate duplicates`` can say why two copies are one entry.

Invariants: an item keeps the id and link of the copy that created it, and
its sources list that copy first, whatever arrives later.  Which copy's
title and text the item shows is ``dedup.lead``: the first (``earliest``) or
the one with the most text (``complete``).

What this does not do: it never merges two items that already exist (that
would change an id readers have seen), and it never merges a copy into an
item that already has a copy from the same source by similarity (one outlet
publishing two similar items is an update or a recurring item, not a copy).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from ..config import DedupConfig
from ..models import ParsedItem, Record
from ..store.base import Store
from ..store.index import IndexedCopy
from ..store.items import ItemWrite
from . import near
from .exact import Outcome, decide
from .keys import (
    canonical_url,
    content_fingerprint,
    content_hash,
    entry_key,
    entry_uuid,
    normalized_words,
)

# Copies looked at per new copy, those sharing the most index keys first.
CANDIDATES = 16

FIRST = "first"  # the copy that created its item
CANONICAL_URL = "canonical-url"
CONTENT_HASH = "content-hash"
NEAR_DUPLICATE = "near-duplicate"


@dataclass(frozen=True, slots=True)
class CopyFacts(Record):
    """What look-ups and the near-duplicate decision need of a copy's text.

    Computing them (plain text, hashes, MinHash) is most of the cost of
    storing an entry, and needs no store, so a worker process makes them
    (:func:`copy_facts`) and the store's process only looks up and writes.
    """

    canonical_url: str | None
    fingerprint: str | None
    features: near.Features
    signature: bytes  # the features as the index stores them
    bands: tuple[int, ...]  # the index keys


@dataclass(frozen=True, slots=True)
class PreparedCopy(Record):
    """One parsed entry of a source, with its keys; ``facts`` None when the
    worker knew the source had stored this very content (they are made on
    demand if it turns out otherwise)."""

    item: ParsedItem
    entry_key: str
    content_hash: str
    facts: CopyFacts | None


def copy_facts(item: ParsedItem, body_text: str) -> CopyFacts:
    """``body_text`` is the entry's plain text."""
    words = normalized_words(body_text)  # the fingerprint's and the features' both
    features = near.features(item.title, body_text, words)
    return CopyFacts(
        canonical_url=canonical_url(item.link),
        fingerprint=content_fingerprint(item.title, body_text, words),
        features=features,
        signature=near.encode(features),
        bands=tuple(features.band_keys()),
    )


def prepare_copy(item: ParsedItem, stored: Mapping[str, str] | None = None) -> PreparedCopy:
    """The keys of an entry, and its facts unless ``stored`` (entry key ->
    content hash of what the source stored last time) shows it unchanged."""
    key = entry_key(item)
    new_hash = content_hash(item)
    unchanged = stored is not None and stored.get(key) == new_hash
    facts = None if unchanged else copy_facts(item, _plain_text(item.content_html))
    return PreparedCopy(item, key, new_hash, facts)


def _plain_text(html: str) -> str:
    # Imported here: the parse package imports feedparser, which the process
    # that stores prepared copies does not otherwise need.
    from ..parse.normalize import plain_text

    return plain_text(html)


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
    return merge_copy(store, source, section, prepared, when, settings)


def merge_copy(
    store: Store,
    source: str,
    section: str,
    prepared: PreparedCopy,
    when: datetime,
    settings: DedupConfig | None = None,
) -> tuple[Outcome, int]:
    """Store one prepared entry of ``source``; return what it was and its item id."""
    settings = settings or DedupConfig()
    item, key, new_hash = prepared.item, prepared.entry_key, prepared.content_hash
    at = item.published or item.updated or when
    copy = store.find_copy(source, key)
    if copy is not None and copy.content_hash == new_hash:
        return Outcome.UNCHANGED, copy.item_id
    facts = prepared.facts or copy_facts(item, _plain_text(item.content_html))
    canonical, fingerprint, features = facts.canonical_url, facts.fingerprint, facts.features
    write = ItemWrite(
        section=section,
        title=item.title,
        link=item.link,
        canonical_url=canonical,
        fingerprint=fingerprint,
        published=item.published or item.updated,
        updated=item.updated,
        content_html=item.content_html,
        author=item.author,
        language=item.language,
    )
    indexed = IndexedCopy(
        source=source,
        entry_key=key,
        item_id=0,
        title=item.title,
        at=at,
        signature=facts.signature,
        bands=facts.bands,
        method=FIRST,
    )
    if copy is not None:
        store.save_copy(source, key, copy.item_id, item.link, new_hash, when)
        return _updated(store, copy.item_id, copy.is_lead, write, indexed, features, settings)

    url_match = store.find_item_by_url(canonical) if canonical else None
    if url_match is not None and store.item_has_source(url_match, source):
        # The same source at the same address with other content: a page that
        # changes daily (a briefing, a price table), not a copy of a story.
        url_match = None
    content_match = None
    if url_match is None and fingerprint is not None:
        content_match = store.find_item_by_fingerprint(fingerprint)
    found = None
    if url_match is None and content_match is None:
        found = _near_match(store, source, features, indexed, settings)
    decision = decide(None, new_hash, url_match, content_match, found[0] if found else None)
    if decision.item_id is None:
        item_id = store.insert_item(entry_uuid(source, key), write, source, when)
        indexed = replace(indexed, item_id=item_id, shown=True)
    else:
        item_id = decision.item_id
        if url_match is not None:
            indexed = replace(indexed, item_id=item_id, method=CANONICAL_URL)
        elif content_match is not None:
            indexed = replace(indexed, item_id=item_id, method=CONTENT_HASH)
        else:
            assert found is not None
            _, copy_id, score = found
            indexed = replace(
                indexed,
                item_id=item_id,
                method=NEAR_DUPLICATE,
                score=round(score, 4),
                matched=copy_id,
            )
    store.save_copy(source, key, item_id, item.link, new_hash, when)
    copy_id = store.index_copy(indexed)
    if decision.outcome is Outcome.MERGED and settings.lead == "complete":
        _show_if_more_complete(store, item_id, copy_id, features, write)
    return decision.outcome, item_id


def _near_match(
    store: Store, source: str, features: near.Features, copy: IndexedCopy, settings: DedupConfig
) -> tuple[int, int, float] | None:
    """(item id, copy id, similarity) of the stored copy this one is a copy of."""
    window = timedelta(seconds=settings.window)
    hits = store.band_hits(copy.bands, copy.at - window, copy.at + window)
    candidates = store.candidates(near.select_candidates(hits, CANDIDATES), source)
    pool = []
    items = {}
    for candidate in candidates:
        if candidate.same_source:
            continue
        stored = near.decode(candidate.copy.signature)
        if stored is None:
            continue
        seconds = (copy.at - candidate.copy.at).total_seconds()
        pool.append((candidate.copy.id, stored, seconds))
        items[candidate.copy.id] = candidate.copy.item_id
    best = near.best_match(features, pool, settings)
    if best is None:
        return None
    copy_id, match = best
    return items[copy_id], copy_id, match.score


def _updated(
    store: Store,
    item_id: int,
    is_lead: bool,
    write: ItemWrite,
    indexed: IndexedCopy,
    features: near.Features,
    settings: DedupConfig,
) -> tuple[Outcome, int]:
    """A copy seen before says something new; the item changes only if it shows this copy.

    The copy stays in its item whatever it says now: moving it would change
    what readers already saw.
    """
    before = store.indexed_copy(indexed.source, indexed.entry_key)
    shown = before.shown if before is not None else is_lead
    if shown and is_lead:
        store.update_item(item_id, write)
    elif shown:
        store.update_item_text(
            item_id, write.title, write.content_html, write.author, write.language
        )
    kept = replace(indexed, item_id=item_id, shown=shown)
    if before is not None:
        kept = replace(kept, method=before.method, score=before.score, matched=before.matched)
    copy_id = store.index_copy(kept, before)
    if not shown and settings.lead == "complete":
        _show_if_more_complete(store, item_id, copy_id, features, write)
    return Outcome.UPDATED, item_id


def _show_if_more_complete(
    store: Store, item_id: int, copy_id: int, features: near.Features, write: ItemWrite
) -> None:
    """``dedup.lead: complete``: the item shows the copy with the most text.

    Only its title and text change hands; its id, link, dates and lead
    source stay those of the first copy.  Ties keep the copy shown.
    """
    shown = store.shown_copy(item_id)
    if shown is None or shown.id == copy_id:
        return  # stored before the index, or this copy already
    current = near.decode(shown.signature)
    if current is not None and features.words <= current.words:
        return
    store.update_item_text(item_id, write.title, write.content_html, write.author, write.language)
    store.show_copy(item_id, copy_id)
