"""StatesInOrder over every store: the states of a long list of sources, read
a chunk at a time as they are asked for in order, no more than two chunks held."""

from __future__ import annotations

from collections.abc import Collection

import pytest

from aggregator.models import SourceState
from aggregator.store import StatesInOrder, Store

NAMES = [f"s{n:02}" for n in range(7)][::-1]  # not in the store's order (by name)


class CountingReads:
    """The store, with every ``source_states`` call's names written down."""

    def __init__(self, store: Store):
        self.store = store
        self.reads: list[list[str]] = []

    def source_states(
        self, *, counts: bool = True, names: Collection[str] | None = None
    ) -> list[SourceState]:
        assert not counts and names is not None
        self.reads.append(list(names))
        return self.store.source_states(counts=counts, names=names)

    def __getattr__(self, name: str) -> object:
        return getattr(self.store, name)


@pytest.fixture
def counting(store: Store, monkeypatch: pytest.MonkeyPatch) -> CountingReads:
    store.sync_sources((name, f"https://{name}.example/feed", "S") for name in NAMES)
    monkeypatch.setattr(StatesInOrder, "CHUNK", 3)
    return CountingReads(store)


def test_states_in_order_are_those_stored_read_a_chunk_at_a_time(counting: CountingReads) -> None:
    states = StatesInOrder(counting, NAMES)  # type: ignore[arg-type]
    assert counting.reads == []  # nothing read before it is asked for
    got = [states[name] for name in NAMES]
    assert got == sorted(
        counting.store.source_states(counts=False), key=lambda s: NAMES.index(s.name)
    )
    assert counting.reads == [NAMES[0:3], NAMES[3:6], NAMES[6:7]]
    assert list(states) == NAMES and len(states) == len(NAMES)


def test_two_chunks_are_held_and_an_older_one_is_read_again(counting: CountingReads) -> None:
    states = StatesInOrder(counting, NAMES)  # type: ignore[arg-type]
    states[NAMES[4]]  # chunk 1
    states[NAMES[0]]  # chunk 0, read: it is before the one held
    states[NAMES[3]]
    states[NAMES[6]]  # chunk 2: chunk 0 is forgotten, chunk 1 held
    states[NAMES[5]]
    assert counting.reads == [NAMES[3:6], NAMES[0:3], NAMES[6:7]]
    states[NAMES[1]]
    assert counting.reads[-1] == NAMES[0:3]


def test_a_name_not_asked_for_or_without_a_row_is_a_key_error(counting: CountingReads) -> None:
    states = StatesInOrder(counting, [*NAMES, "unsynced"])  # type: ignore[arg-type]
    assert states.get("unknown") is None and states.get("unsynced") is None
    with pytest.raises(KeyError):
        states["unknown"]
    assert states.get(NAMES[0]) == counting.store.source_states(counts=False, names=[NAMES[0]])[0]
