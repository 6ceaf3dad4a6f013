"""A briefing's template (the same opening over every issue) is not evidence
that two issues are copies: past the index's limit, its keys select nothing,
while a copy of one issue is still found by the rest of its text."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from aggregator.config import DedupConfig
from aggregator.dedup.decide import NEAR_DUPLICATE
from aggregator.dedup.merge import look_up, merge_item, prepare_copy
from aggregator.models import ParsedItem
from aggregator.store.base import Store
from aggregator.store.index import BAND_HITS_LIMIT

NOW = datetime(2026, 1, 1, tzinfo=UTC)
OPENING = (
    "Good morning and welcome to the daily markets briefing from our business desk, "
    "with the figures that moved overnight, the calendar of the day ahead, the weather "
    "for the harbour and the stories our reporters are following across the region today. "
)
# Thirty words, drawn at random: issues alike in vocabulary, not in text.
WORDS = re.findall(
    r"\w+",
    "harbour council budget ferry tariff rainfall election school bridge festival "
    "museum hospital strike railway vineyard orchard mayor court theatre library "
    "stadium factory airport wildfire drought union reservoir tunnel pension market",
)


def issue(rng: random.Random) -> str:
    """A briefing: the template's opening, then a text of its own."""
    sentences = [
        " ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(15)
    ]
    return OPENING + " ".join(sentences)


def item(entry_id: str, title: str, text: str, when: datetime) -> ParsedItem:
    return ParsedItem(entry_id, title, None, when, None, f"<p>{text}</p>")


def test_a_template_alone_selects_no_candidate_and_a_copy_is_still_found(store: Store) -> None:
    settings = DedupConfig()
    rng = random.Random(7)
    texts = [issue(rng) for _ in range(BAND_HITS_LIMIT + 6)]
    ids = []
    for n, text in enumerate(texts):
        when = NOW - timedelta(minutes=10 * n)
        entry = item(f"i{n}", f"Briefing no. {n}", text, when)
        with store.transaction():
            _, item_id = merge_item(store, f"desk{n % 9}", "S", entry, text, NOW)
        ids.append(item_id)
    assert len(set(ids)) == len(texts)  # every issue is a story of its own

    another = prepare_copy(item("new", "Briefing no. 999", issue(rng), NOW))
    with store.transaction():
        _, found = look_up(store, "elsewhere", [another], NOW, settings)
    assert found.hits[another.entry_key]  # the template's keys are in the index...
    assert found.selected[another.entry_key] == []  # ...and select no one to compare with
    assert found.candidates == {}

    # Issue 3 again, elsewhere, retitled and with its last sentence dropped.
    copied = texts[3].rsplit(". ", 1)[0] + "."
    copy = prepare_copy(item("c3", "Markets briefing", copied, NOW - timedelta(minutes=30)))
    with store.transaction():
        _, item_id = merge_item(store, "partner", "S", copy.item, copied, NOW)
    assert item_id == ids[3]
    with store.transaction():
        stored = store.copies_for_merge("partner", [copy.entry_key])[copy.entry_key]
    assert stored.indexed is not None and stored.indexed.method == NEAR_DUPLICATE
