"""The band filter: every key added is held; keys never added, seldom."""

from __future__ import annotations

import random
import tracemalloc

import pytest

from aggregator.store import band_filter
from aggregator.store.band_filter import BITS_PER_KEY, BandFilter


def index_keys(rng: random.Random, count: int) -> list[int]:
    """Keys made as the index's are: a family in the top bits over a 44-bit hash."""
    return [(rng.choice((2, 3, 4, 5)) << 44) | rng.getrandbits(44) for _ in range(count)]


@pytest.mark.parametrize("seed", range(3))
def test_every_key_added_is_held(seed: int) -> None:
    rng = random.Random(seed)
    # Any of SQLite's integers, the extremes among them.
    added = [*index_keys(rng, 20_000), 0, 1, -1, -(2**63), 2**63 - 1]
    held = BandFilter(len(added))
    held.add(iter(added))  # any iterable, read once
    assert held.holding(added) == set(added)
    assert held.keys == len(added)


def test_keys_never_added_are_seldom_held_even_when_full() -> None:
    rng = random.Random(7)
    held = BandFilter()
    keys = index_keys(rng, held.room)
    held.add(keys)
    assert not held.full
    others = set(index_keys(rng, 100_000)) - set(keys)
    wrong = len(held.holding(others)) / len(others)
    # Three bits of six per key: (1 - e^(-1/2))^3, some 6.1 %.
    assert 0.045 < wrong < 0.08


def test_keys_alike_in_their_low_bits_are_told_apart() -> None:
    """Keys of two families with the same hash, or hashes equal in the bits
    that choose the first bit, still have a second bit of their own."""
    rng = random.Random(3)
    held = BandFilter()
    hashes = [rng.getrandbits(44) for _ in range(2_000)]
    held.add((2 << 44) | h for h in hashes)
    wrong = len(held.holding({(5 << 44) | h for h in hashes})) / len(hashes)
    assert wrong < 0.05


def test_room_is_what_was_asked_and_full_beyond_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(band_filter, "MIN_BYTES", 16)
    small = BandFilter()
    assert small.room == 16 * 8 // BITS_PER_KEY
    small.add(range(small.room))
    assert not small.full
    small.add([small.room])
    assert small.full
    assert BandFilter(1_000).room >= 1_000
    assert BandFilter(1_025).room >= 1_025


def test_twice_the_room_is_twice_the_memory() -> None:
    """A full filter is read again with twice its room: twice its bytes, not four times."""
    first = BandFilter()
    second = BandFilter(2 * first.room)
    assert len(second._bits) == 2 * len(first._bits)
    assert second.room == 2 * first.room


CHUNK = band_filter._CHUNK


@pytest.mark.parametrize("chunk", [CHUNK, 1 << 30])
def test_adding_many_keys_takes_little_memory_beyond_the_filter(
    chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An index read again is added a chunk at a time, not as arrays of every key
    (whose peak was 110 MB more in a 10,000-feed pass)."""
    monkeypatch.setattr(band_filter, "_CHUNK", chunk)
    held = BandFilter(1_000_000)
    keys = range(1 << 40, (1 << 40) + 1_000_000)  # made one by one, as rows are read
    tracemalloc.start()
    try:
        held.add(iter(keys))
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held.keys == 1_000_000
    if chunk == CHUNK:
        assert peak < 4_000_000
    else:  # all at once: each of the arrays is 8 MB
        assert peak > 16_000_000
