"""Exact deduplication: decide what a parsed entry is to the store, then apply it.

:func:`decide` is pure: given what the store already knows about the entry
(its own earlier copy, an item with the same canonical URL or the same
content), it says what to do.  :func:`merge_item` does the look-ups and the
writes around it.  It does not catch near-duplicates (edited headlines,
trimmed text); that is a separate, later stage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ..models import ParsedItem
from ..store.base import CopyRecord, ItemWrite, Store
from .keys import canonical_url, content_fingerprint, content_hash, entry_key, entry_uuid


class Outcome(StrEnum):
    NEW = "new"  # a story not seen before
    MERGED = "merged"  # a new copy of a story another source (or entry) already carried
    UPDATED = "updated"  # a copy seen before whose content changed
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    item_id: int | None  # the item the copy belongs to; None for NEW
    rewrite_item: bool  # the lead copy changed, so the item's content changes


def decide(
    copy: CopyRecord | None, new_hash: str, url_match: int | None, content_match: int | None
) -> Decision:
    if copy is not None:
        if copy.content_hash == new_hash:
            return Decision(Outcome.UNCHANGED, copy.item_id, rewrite_item=False)
        # Only the copy that leads speaks for the item, so a later edit by
        # another outlet does not change the entry's content under readers.
        return Decision(Outcome.UPDATED, copy.item_id, rewrite_item=copy.is_lead)
    existing = url_match if url_match is not None else content_match
    if existing is not None:
        return Decision(Outcome.MERGED, existing, rewrite_item=False)
    return Decision(Outcome.NEW, None, rewrite_item=True)


def merge_item(
    store: Store, source: str, section: str, item: ParsedItem, body_text: str, when: datetime
) -> tuple[Outcome, int]:
    """Store one parsed entry of ``source``; return what it was and its item id.

    ``body_text`` is the entry's plain text, for the content fingerprint.
    """
    key = entry_key(item)
    new_hash = content_hash(item)
    canonical = canonical_url(item.link)
    fingerprint = content_fingerprint(item.title, body_text)
    copy = store.find_copy(source, key)
    url_match = content_match = None
    if copy is None:
        url_match = store.find_item_by_url(canonical) if canonical else None
        if url_match is None and fingerprint is not None:
            content_match = store.find_item_by_fingerprint(fingerprint)
    decision = decide(copy, new_hash, url_match, content_match)
    if decision.outcome is Outcome.UNCHANGED:
        assert decision.item_id is not None
        return decision.outcome, decision.item_id
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
    if decision.item_id is None:
        item_id = store.insert_item(entry_uuid(source, key), write, source, when)
    else:
        item_id = decision.item_id
        if decision.rewrite_item:
            store.update_item(item_id, write)
    store.save_copy(source, key, item_id, item.link, new_hash, when)
    return decision.outcome, item_id
