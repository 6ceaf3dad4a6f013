"""What a parsed entry is to the store: new, a copy of a stored item, or an update.

:func:`decide` is pure: given what the store already knows about the entry
(its own earlier copy, an item with the same canonical URL, the same content
or a near-duplicate found by :mod:`.near`), it says what to do.
:func:`.merge.merge_item` does the look-ups and the writes around it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..store.items import CopyRecord


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
    copy: CopyRecord | None,
    new_hash: str,
    url_match: int | None,
    content_match: int | None,
    near_match: int | None = None,
) -> Decision:
    """What an entry is, given its own earlier copy and the items it matches:
    the same canonical URL, the same content, or (weakest) a near-duplicate."""
    if copy is not None:
        if copy.content_hash == new_hash:
            return Decision(Outcome.UNCHANGED, copy.item_id, rewrite_item=False)
        # Only the copy that leads speaks for the item, so a later edit by
        # another outlet does not change the entry's content under readers.
        return Decision(Outcome.UPDATED, copy.item_id, rewrite_item=copy.is_lead)
    existing = next((m for m in (url_match, content_match, near_match) if m is not None), None)
    if existing is not None:
        return Decision(Outcome.MERGED, existing, rewrite_item=False)
    return Decision(Outcome.NEW, None, rewrite_item=True)
