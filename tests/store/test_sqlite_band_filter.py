"""SQLite's filter of the band keys it indexes (``SqliteStore._current_band_filter``)
must never change what a look-up finds: not as it grows and is read again,
not after keys move between the tables or are deleted, not when another
connection writes keys the filter has not seen.
"""

from __future__ import annotations

import itertools
import random
from pathlib import Path

import pytest

from aggregator.store import band_filter
from aggregator.store.sqlite import SqliteStore
from tests.store.test_sqlite_band_tables import found, index, random_rounds

NEVER = float("inf")


def filtered(store: SqliteStore) -> bool:
    return store._band_filter is not None


@pytest.mark.parametrize("seed", range(4))
def test_look_ups_through_the_filter_find_what_statements_find(
    tmp_path: Path, seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Room for 16 keys: the filter fills and is read again many times.
    monkeypatch.setattr(band_filter, "MIN_BYTES", 12)
    with_filter, without = SqliteStore(tmp_path / "with.db"), SqliteStore(tmp_path / "without.db")
    with_filter._band_filter_after = 0.0
    with_filter._move_bands_at = 60
    without._band_filter_after = NEVER
    try:
        rooms = set()
        for _round in random_rounds([with_filter, without], random.Random(seed)):
            assert with_filter._band_filter is not None
            rooms.add(with_filter._band_filter.room)
            assert not filtered(without)
        grown = sorted(rooms)
        assert len(grown) >= 3  # grown twice at least
        # Each time to twice its room: the memory it takes at most twice the keys'.
        assert all(later == 2 * earlier for earlier, later in itertools.pairwise(grown[1:]))
    finally:
        with_filter.close()
        without.close()


def test_keys_another_connection_wrote_are_found(
    connections: tuple[SqliteStore, SqliteStore],
) -> None:
    reader, writer = connections
    index(reader, "first", (101,))
    reader._band_filter_after = 0.0
    assert len(found(reader, (101, 202))) == 1
    assert filtered(reader)
    index(writer, "second", (202,))
    assert len(found(reader, (101, 202))) == 2


def test_a_large_index_is_not_read_for_a_few_look_ups(tmp_path: Path) -> None:
    """A warm pass, or the daemon's next: a few new copies, a large index."""
    store = SqliteStore(tmp_path / "aggregator.db")
    try:
        index(store, "stored", tuple(range(1, 400)))
        assert len(found(store, (1, 1000))) == 1
        assert not filtered(store)
        # Once the look-ups have probed an eighth of the index by statement
        # (a query of 400 bands, more than the 150 a statement probes first),
        # the next reads it.
        assert len(found(store, tuple(range(1000, 1400)))) == 0
        assert not filtered(store)
        assert len(found(store, (1, 1000))) == 1
        assert filtered(store)
    finally:
        store.close()


def test_an_empty_index_starts_its_filter_at_once(tmp_path: Path) -> None:
    """The cold pass: nothing to read, every look-up saved."""
    store = SqliteStore(tmp_path / "aggregator.db")
    try:
        assert found(store, (7,)) == []
        assert filtered(store)
        index(store, "first", (7,))
        assert len(found(store, (7,))) == 1
    finally:
        store.close()


def test_a_pass_that_reads_no_filter_counts_the_index_once(tmp_path: Path) -> None:
    """Each look-up asks whether the filter pays; the keys are counted once,
    then kept up as copies are written, not counted again at every look-up."""
    store = SqliteStore(tmp_path / "aggregator.db")
    statements: list[str] = []
    try:
        store._db.set_trace_callback(statements.append)
        index(store, "stored", tuple(range(1, 400)))
        for n in range(5):
            assert len(found(store, (1, 1000 + n))) == 1 + n
            index(store, f"new {n}", (1,))
        assert not filtered(store)
    finally:
        store._db.set_trace_callback(None)
        store.close()
    counts = [s for s in statements if "COUNT(*) FROM dedup_bands_recent" in s]
    assert len(counts) == 1
