"""Weak keys found crowded are not looked up again in a pass, and the
decisions are those the look-ups would have made."""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.config import DedupConfig
from aggregator.dedup import crowded as crowded_module
from aggregator.dedup import near
from aggregator.dedup.crowded import SPANS_PER_KEY, CrowdedKeys
from aggregator.dedup.decide import CANDIDATES, NEAR_DUPLICATE
from aggregator.dedup.merge import Outcome, look_up, merge_copies, prepare_copy
from aggregator.models import ParsedItem
from aggregator.store.base import Store
from aggregator.store.index import BAND_HITS_LIMIT, BandHits, BandQuery, Candidate
from aggregator.store.sqlite import SqliteStore

from .test_templates import issue, item

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def key(family: int, value: int) -> int:
    return family << near._FAMILY_SHIFT | value


LEAD_KEY, ANCHOR_KEY, BODY_KEY = key(near.LEAD, 1), key(near.ANCHOR, 2), key(near.BODY, 3)


def crowded_hits(band: int, first: int, count: int = BAND_HITS_LIMIT) -> BandHits:
    """``count`` copies under ``band``, a minute apart from ``first`` seconds on."""
    return BandHits(band, list(range(count)), [first + 60 * n for n in range(count)])


def test_a_weak_key_at_the_limit_is_crowded_in_every_window_that_holds_its_copies() -> None:
    memo = CrowdedKeys()
    first, last = 1_000, 1_000 + 60 * (BAND_HITS_LIMIT - 1)
    memo.learn([crowded_hits(LEAD_KEY, first), crowded_hits(ANCHOR_KEY, first)])
    both = {LEAD_KEY, ANCHOR_KEY}
    assert memo.crowded([LEAD_KEY, ANCHOR_KEY, BODY_KEY], first, last) == both
    assert memo.crowded([LEAD_KEY], first - 500, last + 500) == {LEAD_KEY}
    # A window that leaves out one of the copies may hold fewer: not known.
    assert memo.crowded([LEAD_KEY], first + 1, last + 500) == set()
    assert memo.crowded([LEAD_KEY], first - 500, last - 1) == set()


def test_only_weak_keys_at_the_limit_are_learned() -> None:
    memo = CrowdedKeys()
    memo.learn(
        [
            crowded_hits(BODY_KEY, 0),  # evidence however many share it
            crowded_hits(LEAD_KEY, 0, count=BAND_HITS_LIMIT - 1),  # under the limit
        ]
    )
    assert len(memo) == 0
    assert memo.crowded([BODY_KEY, LEAD_KEY], -(10**9), 10**9) == set()


def test_forgotten_and_cleared_keys_are_looked_up_again() -> None:
    memo = CrowdedKeys()
    memo.learn([crowded_hits(LEAD_KEY, 0), crowded_hits(ANCHOR_KEY, 0)])
    memo.forget([LEAD_KEY, BODY_KEY])
    assert memo.crowded([LEAD_KEY, ANCHOR_KEY], -(10**9), 10**9) == {ANCHOR_KEY}
    memo.clear()
    assert memo.crowded([ANCHOR_KEY], -(10**9), 10**9) == set()


def test_the_latest_spans_of_a_key_are_kept() -> None:
    memo = CrowdedKeys()
    day = 86_400
    for n in range(SPANS_PER_KEY + 1):
        memo.learn([crowded_hits(LEAD_KEY, n * day)])
    span = 60 * (BAND_HITS_LIMIT - 1)
    assert memo.crowded([LEAD_KEY], 0, span) == set()  # the first, dropped
    for n in range(1, SPANS_PER_KEY + 1):
        assert memo.crowded([LEAD_KEY], n * day, n * day + span) == {LEAD_KEY}


def test_the_keys_kept_are_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crowded_module, "MAX_KEYS", 2)
    memo = CrowdedKeys()
    keys = [key(near.LEAD, n) for n in range(3)]
    for band in keys:
        memo.learn([crowded_hits(band, 0)])
    assert len(memo) == 2
    assert memo.crowded(keys, -(10**9), 10**9) == set(keys[1:])


class _Asked:
    """The band keys and the candidate copies a store was asked for."""

    def __init__(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
        self.keys = 0
        self.candidates = 0
        real: Callable[..., list[list[BandHits]]] = store.band_hits
        real_candidates: Callable[..., list[Candidate]] = store.candidates

        def band_hits(queries: Sequence[BandQuery], *args: object) -> list[list[BandHits]]:
            self.keys += sum(len(query.bands) for query in queries)
            return real(queries, *args)

        def candidates(copy_ids: Collection[int], *args: object) -> list[Candidate]:
            self.candidates += len(copy_ids)
            return real_candidates(copy_ids, *args)

        monkeypatch.setattr(store, "band_hits", band_hits)
        monkeypatch.setattr(store, "candidates", candidates)


def _feeds(rng: random.Random) -> list[tuple[str, list[ParsedItem]]]:
    """Desks publishing a briefing's issues (its template opening crowded in
    the index), a desk editing one, then partners copying some of them."""
    texts = [issue(rng) for _ in range(2 * BAND_HITS_LIMIT)]
    desks: dict[str, list[ParsedItem]] = {}
    for n, text in enumerate(texts):
        when = NOW - timedelta(minutes=10 * n)
        desks.setdefault(f"desk{n % 12}", []).append(item(f"i{n}", f"Briefing {n}", text, when))
    feeds = list(desks.items())
    # Its keys, the template's among them, are forgotten: learned again after.
    edited = feeds[0][1][1]
    feeds.append(
        ("desk0", [item(edited.entry_id or "", edited.title, issue(rng), edited.published or NOW)])
    )
    for n in range(0, len(texts), 9):
        copied = texts[n].rsplit(". ", 1)[0] + "."
        when = NOW - timedelta(minutes=10 * n + 3)
        feeds.append((f"partner{n}", [item(f"c{n}", "Markets briefing", copied, when)]))
    return feeds


def _store_feeds(
    store: Store, feeds: list[tuple[str, list[ParsedItem]]], memo: CrowdedKeys | None
) -> tuple[list[tuple[str, str, Outcome]], set[frozenset[tuple[str, str]]]]:
    """Each feed in a transaction of its own, as a pass stores its sources:
    each entry's outcome, and which entries became one item."""
    outcomes, items = [], {}
    for source, entries in feeds:
        copies = [prepare_copy(entry) for entry in entries]
        with store.transaction():
            merged = merge_copies(store, source, "S", copies, NOW, DedupConfig(), memo)
        for copy, (outcome, item_id) in zip(copies, merged, strict=True):
            outcomes.append((source, copy.entry_key, outcome))
            items.setdefault(item_id, set()).add((source, copy.entry_key))
    return outcomes, {frozenset(entries) for entries in items.values()}


def test_a_pass_that_skips_crowded_keys_decides_as_one_that_looks_them_all_up(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = _feeds(random.Random(11))
    reference = SqliteStore(tmp_path / "reference.db")
    asked_all, asked_fewer = _Asked(reference, monkeypatch), _Asked(store, monkeypatch)
    try:
        expected = _store_feeds(reference, feeds, None)
    finally:
        reference.close()
    memo = CrowdedKeys()

    assert _store_feeds(store, feeds, memo) == expected

    outcomes, items = expected
    assert any(outcome is Outcome.MERGED for _, _, outcome in outcomes)  # copies were found
    assert any(outcome is Outcome.UPDATED for _, _, outcome in outcomes)  # the edited issue
    assert len(items) < len(outcomes)
    assert len(memo) > 0
    assert asked_fewer.keys < asked_all.keys * 0.9
    # The partners' copies were found by their text, not by a template's keys.
    partners = [(source, key) for source, key, _ in outcomes if source.startswith("partner")]
    assert all(
        outcome is Outcome.MERGED for source, _, outcome in outcomes if source in dict(partners)
    )
    with store.transaction():
        for source, key in partners:
            copy = store.copies_for_merge(source, [key])[key].indexed
            assert copy is not None and copy.method == NEAR_DUPLICATE


def _selected(store: Store, source: str, entry: ParsedItem, memo: CrowdedKeys | None) -> list[int]:
    with store.transaction():
        _, found = look_up(store, source, [prepare_copy(entry)], NOW, DedupConfig(), memo)
    return list(found.selected[prepare_copy(entry).entry_key])


def test_a_key_is_looked_up_again_where_its_copies_may_be_fewer_than_the_limit(
    store: Store,
) -> None:
    """Exactly BAND_HITS_LIMIT issues, an hour apart: the template is crowded
    in a window holding them all; not in one that leaves one out, nor once
    one issue is rewritten without it."""
    rng = random.Random(5)
    settings = DedupConfig()
    memo = CrowdedKeys()
    issues = [
        item(f"i{n}", f"Briefing {n}", issue(rng), NOW - timedelta(hours=n))
        for n in range(BAND_HITS_LIMIT)
    ]
    for n, entry in enumerate(issues):
        with store.transaction():
            merge_copies(store, f"desk{n % 5}", "S", [prepare_copy(entry)], NOW, settings, memo)

    middle = NOW - timedelta(hours=BAND_HITS_LIMIT / 2)
    assert _selected(store, "new", item("a", "Briefing A", issue(rng), middle), memo) == []
    assert len(memo) > 0  # the template's keys, crowded in the middle's window

    # A window that ends before the newest issue: 63 of them, each sharing
    # the template's keys, are selected, as without the memo.
    early = NOW - timedelta(seconds=settings.window, hours=1)
    entry = item("b", "Briefing B", issue(rng), early)
    selected = _selected(store, "new", entry, memo)
    assert selected and selected == _selected(store, "new", entry, None)

    # The newest issue rewritten without the template: 63 again.
    newest = issues[0]
    rewritten = item(newest.entry_id or "", newest.title, "A text of its own. " * 40, NOW)
    with store.transaction():
        merge_copies(store, "desk0", "S", [prepare_copy(rewritten)], NOW, settings, memo)
    entry = item("c", "Briefing C", issue(rng), middle)
    selected = _selected(store, "new", entry, memo)
    assert selected and selected == _selected(store, "new", entry, None)


def test_a_copy_meeting_its_batch_only_under_crowded_keys_reads_its_first_candidates(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source's second entry shares with its first only the template's
    keys, known crowded: the decider meets no batch entry under them, so the
    look-up reads its first CANDIDATES candidates, not all that its hits
    select, and decides as without the memo."""
    rng = random.Random(3)
    settings = DedupConfig()
    story = issue(rng)  # copied by more outlets than CANDIDATES
    stored = [
        (f"desk{n % 7}", item(f"i{n}", f"Issue {n}", issue(rng), NOW - timedelta(minutes=n)))
        for n in range(BAND_HITS_LIMIT)
    ] + [
        (f"outlet{n}", item(f"s{n}", f"Story at outlet {n}", story, NOW - timedelta(minutes=n)))
        for n in range(CANDIDATES + 4)
    ]
    for source, entry in stored:
        with store.transaction():
            merge_copies(store, source, "S", [prepare_copy(entry)], NOW, settings)
    batch = [
        prepare_copy(item("a", "Today's issue", issue(rng), NOW)),
        prepare_copy(item("b", "The story, ours", story, NOW)),
    ]
    memo = CrowdedKeys()
    _selected(store, "learning", item("l", "Another issue", issue(rng), NOW), memo)
    assert len(memo) > 0  # the template's keys

    asked = _Asked(store, monkeypatch)
    with store.transaction():
        _, without = look_up(store, "new", batch, NOW, settings)
    read_without = asked.candidates
    with store.transaction():
        _, found = look_up(store, "new", batch, NOW, settings, memo)
    read_with = asked.candidates - read_without

    second = batch[1].entry_key
    assert len(found.selected[second]) > CANDIDATES
    assert found.crowded[second]  # the keys it shares with the first
    assert read_without == len(without.candidates) > CANDIDATES
    assert read_with == len(found.candidates) == CANDIDATES
    with store.transaction():
        outcomes = merge_copies(store, "new", "S", batch, NOW, settings, memo)
    [(_, story_item)] = {
        (outcome, item_id) for outcome, item_id in outcomes[1:] if outcome is Outcome.MERGED
    }
    outlet_copy = prepare_copy(stored[BAND_HITS_LIMIT][1]).entry_key
    with store.transaction():
        found_copy = store.copies_for_merge("outlet0", [outlet_copy])[outlet_copy]
    assert found_copy.record.item_id == story_item
