"""A briefing's template (the same opening over every issue) is not evidence
that two issues are copies: past the index's limit, its keys select nothing,
while a copy of one issue is still found by the rest of its text."""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Sequence
from datetime import UTC, datetime, timedelta

from aggregator.config import DedupConfig
from aggregator.dedup.decide import NEAR_DUPLICATE
from aggregator.dedup.merge import look_up, merge_copies, merge_item, prepare_copy
from aggregator.dedup.near import is_weak_key
from aggregator.dedup.templates import TemplateKeys
from aggregator.models import ParsedItem
from aggregator.store.base import Store
from aggregator.store.index import BAND_HITS_LIMIT, BandHits, BandQuery

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


class RecordingStore:
    """A store that passes everything through, recording the bands each
    near-duplicate look-up asks the index for."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.asked: list[set[int]] = []

    def band_hits(self, queries: Sequence[BandQuery], excluding: Collection[int] = ()) -> object:
        self.asked += [set(query.bands) for query in queries]
        return self.store.band_hits(queries, excluding)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


def briefings(store: Store, rng: random.Random) -> tuple[list[str], list[int]]:
    """BAND_HITS_LIMIT + 6 issues of the briefing, from nine desks, ten minutes apart."""
    texts = [issue(rng) for _ in range(BAND_HITS_LIMIT + 6)]
    ids = []
    for n, text in enumerate(texts):
        entry = item(f"i{n}", f"Briefing no. {n}", text, NOW - timedelta(minutes=10 * n))
        with store.transaction():
            _, item_id = merge_item(store, f"desk{n % 9}", "S", entry, text, NOW)
        ids.append(item_id)
    return texts, ids


def test_a_template_met_once_in_a_pass_is_not_read_again_and_decides_alike(store: Store) -> None:
    settings = DedupConfig()
    rng = random.Random(11)
    texts, ids = briefings(store, rng)
    recording = RecordingStore(store)
    templates = TemplateKeys()

    first = prepare_copy(item("new1", "Briefing no. 998", issue(rng), NOW))
    with store.transaction():
        _, found = look_up(recording, "elsewhere", [first], NOW, settings, templates)  # type: ignore[arg-type]
    assert found.templates == {}  # nothing known yet: every band was read
    # The opening's keys, answered with as many copies as the index gives,
    # are now known as a template's.
    assert first.facts is not None
    learned = {band for band in first.facts.bands if templates.known(band, 0, 2**40)}
    at_limit = {
        hit.band
        for hit in found.hits[first.entry_key]
        if len(hit.copy_ids) == BAND_HITS_LIMIT and is_weak_key(hit.band)
    }
    assert learned and learned == at_limit

    second = prepare_copy(item("new2", "Briefing no. 999", issue(rng), NOW))
    with store.transaction():
        _, without = look_up(store, "elsewhere", [second], NOW, settings)
        _, found = look_up(recording, "elsewhere", [second], NOW, settings, templates)  # type: ignore[arg-type]
    left_out = found.templates[second.entry_key]
    assert second.facts is not None
    assert left_out and left_out <= set(second.facts.bands)
    assert not left_out & recording.asked[-1]  # not read...
    # ...and what was read without them selects the same copies (none).
    assert found.selected == without.selected
    assert found.candidates.keys() == without.candidates.keys()

    # A copy of issue 5, its template keys left out, still merges into it.
    copied = texts[5].rsplit(". ", 1)[0] + "."
    copy = prepare_copy(item("c5", "Markets briefing", copied, NOW - timedelta(minutes=50)))
    with store.transaction():
        ((_outcome, item_id),) = merge_copies(
            recording,  # type: ignore[arg-type]
            "partner",
            "S",
            [copy],
            NOW,
            settings,
            templates,
        )
    assert item_id == ids[5]
    assert not found.templates[second.entry_key] & recording.asked[-1]


def test_a_template_is_known_only_within_the_dates_of_its_copies() -> None:
    band = 12345
    templates = TemplateKeys()
    templates.learn([BandHits(band, list(range(BAND_HITS_LIMIT - 1)), [100] * 63)])
    assert not templates.known(band, 0, 10**6)  # under the limit: no template
    seconds = [100 + n for n in range(BAND_HITS_LIMIT)]  # from 100 to 163
    templates.learn([BandHits(band, list(range(BAND_HITS_LIMIT)), seconds)])
    assert templates.known(band, 100, 163) and templates.known(band, 0, 10**6)
    assert not templates.known(band, 101, 10**6)  # a window that leaves one out
    assert not templates.known(band, 0, 162)
    assert not templates.known(band + 1, 0, 10**6)
    # Of two spans, the shorter, which more windows hold.
    templates.learn([BandHits(band, list(range(BAND_HITS_LIMIT)), [150] * BAND_HITS_LIMIT)])
    assert templates.known(band, 150, 150)
    templates.learn([BandHits(band, list(range(BAND_HITS_LIMIT)), seconds)])
    assert templates.known(band, 150, 150)
    templates.forget()
    assert not templates.known(band, 0, 10**6) and len(templates) == 0


def test_a_look_up_that_rewrites_copies_forgets_the_templates(store: Store) -> None:
    # A changed copy's index entries are rewritten: a template's count may fall.
    settings = DedupConfig()
    rng = random.Random(5)
    texts, _ids = briefings(store, rng)
    templates = TemplateKeys()
    probe = prepare_copy(item("new", "Briefing no. 999", issue(rng), NOW))
    with store.transaction():
        look_up(store, "elsewhere", [probe], NOW, settings, templates)
    assert len(templates) > 0

    changed = prepare_copy(item("i0", "Briefing no. 0", texts[0] + " A late correction.", NOW))
    with store.transaction():
        _, found = look_up(store, "desk0", [changed], NOW, settings, templates)
    assert found.tracked_copies  # the look-up of a changed copy...
    assert len(templates) == 0  # ...forgot what it knew
    assert found.templates == {}
