"""The near-duplicate index part of the store contract, run over every store.

Copies are indexed through ``apply_merge`` and found through the batched
look-ups: band hits per query (a window of dates, a bounded number per band),
candidates, and the copy each item shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import timedelta

from aggregator.store import Store
from aggregator.store.index import BAND_HITS_LIMIT, BandHits, BandQuery
from aggregator.store.items import PENDING, CopyStep, MergeIntent
from tests.store.test_items_contract import WHEN, apply, join, new

HOUR = timedelta(hours=1)


def flat(hits: Sequence[BandHits]) -> list[tuple[int, int, int]]:
    """(band, copy id, seconds) of each hit."""
    return [
        (hit.band, copy_id, seconds)
        for hit in hits
        for copy_id, seconds in zip(hit.copy_ids, hit.seconds, strict=True)
    ]


def copy_ids_of(hits: Sequence[BandHits]) -> list[int]:
    """The ids of the copies hit, in id order; each band's once (a band per record)."""
    assert len({hit.band for hit in hits}) == len(hits)
    return sorted(copy_id for _band, copy_id, _seconds in flat(hits))


def test_band_hits_are_the_copies_with_a_querys_bands_within_its_window(store: Store) -> None:
    inside, edge, outside, other_band, left_out = apply(
        store,
        "one",
        new("one", "in", 0, bands=(1, 2), at=WHEN),
        new("one", "edge", 1, bands=(2,), at=WHEN + 2 * HOUR),
        new("one", "out", 2, bands=(1,), at=WHEN + 3 * HOUR),
        new("one", "other", 3, bands=(9,), at=WHEN),
        new("one", "left out", 4, bands=(1,), at=WHEN),
    )
    copy_ids = {
        key: found.indexed.id
        for key, found in store.copies_for_merge("one", ["in", "edge", "out", "left out"]).items()
        if found.indexed is not None
    }
    queries = [
        BandQuery((1, 2, 2), WHEN - HOUR, WHEN + 2 * HOUR),  # a band twice counts once
        BandQuery((9,), WHEN + HOUR, WHEN + 2 * HOUR),
    ]
    first, second = store.band_hits(queries, excluding=[copy_ids["left out"]])
    seconds = int(WHEN.timestamp())
    assert sorted(flat(first)) == sorted(
        [
            (1, copy_ids["in"], seconds),
            (2, copy_ids["in"], seconds),
            (2, copy_ids["edge"], seconds + 2 * 3600),  # the window's ends are in it
        ]
    )
    assert second == []
    assert store.band_hits([]) == []
    assert len({inside, edge, outside, other_band, left_out}) == 5


def test_band_hits_per_query_and_band_are_the_newest_few(store: Store) -> None:
    """A band thousands of copies share is a template, not evidence."""
    count = BAND_HITS_LIMIT * 2
    # Two copies per date: among copies of a date, the highest id comes first.
    steps = [new("one", f"k{n}", n, bands=(7,), at=WHEN + (n // 2) * HOUR) for n in range(count)]
    apply(store, "one", *steps)
    found = store.copies_for_merge("one", [f"k{n}" for n in range(count)])
    ids = [found[f"k{n}"].indexed.id for n in range(count)]  # type: ignore[union-attr]
    late = BandQuery((7,), WHEN, WHEN + count * HOUR)
    early = BandQuery((7,), WHEN, WHEN + 9 * HOUR + timedelta(minutes=30))
    late_hits, early_hits = store.band_hits([late, early])
    assert copy_ids_of(late_hits) == ids[-BAND_HITS_LIMIT:]
    assert copy_ids_of(early_hits) == ids[:20]  # its own window's newest
    # 66 copies in the window, one left out: the limit cuts between the oldest two.
    odd = BandQuery((7,), WHEN, WHEN + (BAND_HITS_LIMIT // 2) * HOUR)
    (odd_hits,) = store.band_hits([odd], excluding=[ids[2]])
    assert copy_ids_of(odd_hits) == [ids[n] for n in range(1, 66) if n != 2]
    # Those left out do not count towards the limit.
    (hits,) = store.band_hits([late], excluding=ids[-10:])
    assert copy_ids_of(hits) == ids[-BAND_HITS_LIMIT - 10 : -10]


def test_candidates_say_whether_their_item_has_a_copy_from_the_source(store: Store) -> None:
    shared, alone = apply(store, "one", new("one", "a", 0), new("one", "b", 1))
    apply(store, "two", join("two", "x", shared))
    found = store.copies_for_merge("one", ["a", "b"]) | store.copies_for_merge("two", ["x"])
    ids = {key: c.indexed.id for key, c in found.items() if c.indexed is not None}
    candidates = store.candidates({ids["x"], ids["b"], 10**9}, "one")
    assert [c.copy.id for c in candidates] == sorted([ids["x"], ids["b"]])
    by_key = {c.copy.entry_key: c for c in candidates}
    assert by_key["x"].same_source and by_key["b"].same_source
    assert by_key["x"].copy.source == "two" and by_key["x"].copy.item_id == shared
    assert not any(c.same_source for c in store.candidates({ids["x"], ids["b"]}, "three"))
    assert store.candidates(set(), "one") == []
    assert alone != shared


def test_candidates_take_any_number_of_ids(store: Store) -> None:
    count = 1200
    apply(store, "one", *[new("one", f"k{n}", n) for n in range(count)])
    found = store.copies_for_merge("one", [f"k{n}" for n in range(count)])
    ids = {c.indexed.id for c in found.values() if c.indexed is not None}
    assert len(store.candidates(ids, "two")) == count


def test_the_copy_an_item_shows_is_the_one_shown_last(store: Store) -> None:
    first, unshown = apply(store, "one", new("one", "a", 0), new("one", "b", 1))
    (joined,) = apply(store, "two", join("two", "x", first))
    assert joined == first
    shown = store.shown_copies([first, unshown, 10**9])
    assert set(shown) == {first, unshown}
    assert shown[first].entry_key == "a" and shown[first].shown
    step = join("three", "y", first, show=True)
    apply(store, "three", step)
    assert store.shown_copies([first])[first].entry_key == "y"
    # Showing one copy of an item stops showing the others.
    assert not store.copies_for_merge("one", ["a"])["a"].indexed.shown  # type: ignore[union-attr]
    assert store.shown_copies([]) == {}


def test_an_intent_may_show_a_copy_of_an_item_it_creates(store: Store) -> None:
    intent = MergeIntent(
        "one",
        WHEN,
        (new("one", "a", 0), CopyStep(**{**_fields(join("one", "b", PENDING)), "show": True})),
    )
    with store.transaction():
        (item_id, same) = store.apply_merge(intent)
    assert same == item_id
    assert store.shown_copies([item_id])[item_id].entry_key == "b"


def _fields(step: CopyStep) -> dict[str, object]:
    return {name: getattr(step, name) for name in CopyStep.__dataclass_fields__}


def test_of_several_copies_that_say_they_are_shown_the_first_is(store: Store) -> None:
    """(Copies stored before the index are indexed shown when they lead.)"""
    second = join("one", "b", PENDING)
    second = CopyStep(**{**_fields(second), "index": replace(second.index, shown=True)})
    (item_id, _) = apply(store, "one", new("one", "a", 0), second)
    assert store.shown_copies([item_id])[item_id].entry_key == "a"
