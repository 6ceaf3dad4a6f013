"""SQLite keeps new band keys in a small table and moves them to the main one
in bulk (``SqliteStore._add_bands``): where a key is must never change what a
look-up finds.

Two stores are given the same random intents (new copies, copies rewritten
with other keys and dates, old items deleted): one moves its keys every few,
the other never within the test.  Every look-up must answer the same.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from aggregator.store.index import BAND_HITS_LIMIT, BandQuery
from aggregator.store.items import MergeIntent
from aggregator.store.sqlite import RECENT_BANDS, SqliteStore, _band_hits_sql, _excluding
from tests.store.test_index_contract import copy_ids_of, flat
from tests.store.test_items_contract import WHEN, join, new

HOUR = timedelta(hours=1)


def rows_in(store: SqliteStore, table: str) -> int:
    (count,) = store._db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()
    return int(count)


def random_queries(rng: random.Random) -> list[BandQuery]:
    # Many queries and few: more than _ARMS keys first ask which bands exist.
    queries = []
    for _ in range(rng.choice([5, 80])):
        start = WHEN + rng.randrange(-10, 60) * HOUR
        bands = tuple(rng.choice(range(12)) for _ in range(rng.randint(1, 5)))
        queries.append(BandQuery(bands, start, start + rng.randrange(0, 80) * HOUR))
    return queries


def both_answers(stores: list[SqliteStore], rng: random.Random) -> list[object]:
    """The same random look-ups of each store, answers made comparable."""
    queries = random_queries(rng)
    excluding = rng.sample(range(1, 400), 20)
    return [
        [sorted(flat(hits)) for hits in store.band_hits(queries, excluding)] for store in stores
    ]


def random_rounds(stores: list[SqliteStore], rng: random.Random) -> Iterator[int]:
    """Rounds of the same random intents given to every store (new copies,
    copies said again with other keys and dates), each followed by the same
    random look-ups of each, which must answer the same; yields the round's
    number after its look-ups, then deletes the earlier rounds' items and
    looks up once more."""
    keys: list[str] = []
    for round_ in range(12):
        steps = []
        for n in range(rng.randint(1, 30)):
            at = WHEN + rng.randrange(0, 60) * HOUR
            # A small alphabet of keys: some bands hold more than the limit.
            bands = tuple(rng.choice(range(12)) for _ in range(rng.randint(0, 6)))
            steps.append(new("one", f"r{round_}n{n}", n, at=at, bands=bands))
            keys.append(f"r{round_}n{n}")
        # Some stored copies said again with other keys and dates: their
        # old keys go, wherever they are.
        again = []
        for key in rng.sample(keys[: -len(steps)], min(3, len(keys) - len(steps))):
            before = stores[0].copies_for_merge("one", [key])[key]
            assert before.indexed is not None
            step = join(
                "one",
                key,
                before.record.item_id,
                at=WHEN + rng.randrange(0, 60) * HOUR,
                bands=(rng.choice(range(12)),),
                content_hash=f"again {round_}",
            )
            again.append((key, step))
        for store in stores:
            rewritten = []
            for key, step in again:
                before = store.copies_for_merge("one", [key])[key].indexed
                rewritten.append(replace(step, replacing=before))
            with store.transaction():
                seen = WHEN + round_ * HOUR  # the earlier rounds' items are deleted below
                store.apply_merge(MergeIntent("one", seen, (*steps, *rewritten)))
        first, second = both_answers(stores, rng)
        assert first == second
        yield round_
    # Deleting items removes their keys from both tables.
    for store in stores:
        assert 0 < store.delete_items_before(WHEN + 6 * HOUR) < len(keys)
    first, second = both_answers(stores, rng)
    assert first == second
    assert any(first)  # the look-ups found something to compare


@pytest.mark.parametrize("seed", range(4))
def test_look_ups_do_not_depend_on_which_table_holds_a_key(tmp_path: Path, seed: int) -> None:
    moving, kept = SqliteStore(tmp_path / "moving.db"), SqliteStore(tmp_path / "kept.db")
    moving._move_bands_at = 100
    stores = [moving, kept]
    split = 0  # rounds after which the moving store had keys in both tables
    try:
        for _round in random_rounds(stores, random.Random(seed)):
            split += rows_in(moving, "dedup_bands") > 0 < rows_in(moving, "dedup_bands_recent")
            assert rows_in(kept, "dedup_bands") == 0  # all its keys still recent
        assert split >= 3
        assert RECENT_BANDS > BAND_HITS_LIMIT  # the kept store never moved any
    finally:
        for store in stores:
            store.close()


def index(store: SqliteStore, key: str, bands: tuple[int, ...], at: datetime = WHEN) -> None:
    with store.transaction():
        store.apply_merge(MergeIntent("one", WHEN, (new("one", key, 0, at=at, bands=bands),)))


def found(store: SqliteStore, bands: tuple[int, ...]) -> list[int]:
    """The ids of the copies indexed under ``bands`` around WHEN."""
    (hits,) = store.band_hits([BandQuery(bands, WHEN - HOUR, WHEN + HOUR)])
    return copy_ids_of(hits)


def test_recent_keys_another_connection_wrote_or_moved_are_found_once(
    connections: tuple[SqliteStore, SqliteStore],
) -> None:
    """Each connection looks up what the others wrote, in either table, and
    a move by one leaves no key twice or missing for the other."""
    reader, writer = connections
    index(reader, "first", (5,))
    assert len(found(reader, (5,))) == 1
    index(writer, "second", (5,))
    assert len(found(reader, (5,))) == 2
    writer._move_bands_at = 1
    index(writer, "third", (5,))  # moves all three to the main table
    assert rows_in(writer, "dedup_bands_recent") == 0
    assert len(found(reader, (5,))) == 3
    index(reader, "fourth", (5,))
    assert len(found(writer, (5,))) == 4
    assert len(found(reader, (5,))) == 4


def test_keys_of_a_transaction_undone_are_not_found(
    connections: tuple[SqliteStore, SqliteStore],
) -> None:
    store, other = connections
    index(store, "kept", (5,))
    # Another connection writes; then a transaction that looks up the keys
    # and adds one is undone.
    index(other, "other's", (5,))
    with pytest.raises(RuntimeError), store.transaction():
        assert len(found(store, (5,))) == 2
        store.apply_merge(MergeIntent("one", WHEN, (new("one", "undone", 0, at=WHEN, bands=(5,)),)))
        raise RuntimeError("undone")
    assert len(found(store, (5,))) == 2
    # The same inside a transaction that goes on: a source's savepoint.
    with store.transaction():
        with pytest.raises(RuntimeError), store.transaction():
            index(store, "undone too", (5,))
            raise RuntimeError("undone")
        index(store, "kept too", (5,))
    assert len(found(store, (5,))) == 3
    assert len(found(other, (5,))) == 3


def test_recent_keys_are_found_again_by_the_next_process(tmp_path: Path) -> None:
    path = tmp_path / "aggregator.db"
    first = SqliteStore(path)
    index(first, "one", (5, 6))
    first.close()
    second = SqliteStore(path)
    try:
        assert rows_in(second, "dedup_bands_recent") == 2
        assert len(found(second, (5,))) == 1
        assert len(found(second, (6,))) == 1
    finally:
        second.close()


def answers(
    store: SqliteStore, queries: list[BandQuery], excluding: list[int]
) -> list[list[tuple[int, list[int], list[int]]]]:
    """band_hits' answers, in order, in the shape of newest_under's."""
    return [
        [(hit.band, hit.copy_ids, hit.seconds) for hit in hits]
        for hits in store.band_hits(queries, excluding)
    ]


def newest_under(
    store: SqliteStore, queries: list[BandQuery], excluding: list[int]
) -> list[list[tuple[int, list[int], list[int]]]]:
    """What band_hits must answer, from every row of both tables: for each
    query, each of its bands under some copy in its window, with the newest
    BAND_HITS_LIMIT of those copies (by date, then id), newest first; the
    bands in the order they were first asked for, by any query."""
    rows = store._db.execute(
        "SELECT band, at, copy_id FROM dedup_bands "
        "UNION ALL SELECT band, at, copy_id FROM dedup_bands_recent"
    ).fetchall()
    asked = {}
    for query in queries:
        low, high = int(query.start.timestamp()), int(query.end.timestamp())
        for band in query.bands:
            asked.setdefault((band, low, high), None)
    order = {key: n for n, key in enumerate(asked)}
    answers = []
    for query in queries:
        low, high = int(query.start.timestamp()), int(query.end.timestamp())
        hits = []
        for band in sorted(set(query.bands), key=lambda b: order[(b, low, high)]):
            under = sorted(
                (
                    (at, copy_id)
                    for key, at, copy_id in rows
                    if key == band and low <= at <= high and copy_id not in excluding
                ),
                reverse=True,
            )[:BAND_HITS_LIMIT]
            if under:
                hits.append((band, [c for _at, c in under], [at for at, _c in under]))
        answers.append(hits)
    return answers


@pytest.mark.parametrize("filtered", [True, False])
@pytest.mark.parametrize("seed", range(3))
def test_look_ups_answer_the_newest_copies_of_both_tables_newest_first(
    tmp_path: Path, seed: int, filtered: bool
) -> None:
    # Which copies and in which order: the decider takes the first ones, so
    # the order is part of the answer, whichever table holds each key.
    store, twin = SqliteStore(tmp_path / "moving.db"), SqliteStore(tmp_path / "twin.db")
    store._move_bands_at = 100
    store._band_filter_after = 0.0 if filtered else float("inf")
    rng = random.Random(seed)
    split = 0  # rounds after which a band had copies in both tables
    try:
        for _round in random_rounds([store, twin], rng):
            for _ in range(3):
                queries = random_queries(rng)
                excluding = rng.sample(range(1, 400), rng.choice([0, 20]))
                assert answers(store, queries, excluding) == newest_under(store, queries, excluding)
            assert (store._band_filter is not None) is filtered
            (both,) = store._db.execute(
                "SELECT COUNT(*) FROM (SELECT DISTINCT band FROM dedup_bands) "
                "JOIN (SELECT DISTINCT band FROM dedup_bands_recent) USING (band)"
            ).fetchone()
            split += both > 0
        assert split >= 3
    finally:
        store.close()
        twin.close()


def test_a_move_undone_leaves_the_recent_keys_found(tmp_path: Path) -> None:
    # What the store keeps in memory about where keys are (its filter) must
    # not hide a key whose move to the main table a failure undoes.
    store = SqliteStore(tmp_path / "aggregator.db")
    store._band_filter_after = 0.0  # the filters are read at the first look-up
    try:
        index(store, "first", (5,))
        assert len(found(store, (5,))) == 1
        store._move_bands_at = 1
        with pytest.raises(RuntimeError), store.transaction():
            index(store, "undone", (6,))  # moves both keys to the main table
            assert rows_in(store, "dedup_bands_recent") == 0
            raise RuntimeError("undone")
        assert rows_in(store, "dedup_bands_recent") == 1  # the move undone with it
        assert len(found(store, (5,))) == 1
    finally:
        store.close()


@pytest.mark.parametrize("filtered", [True, False])
def test_a_band_over_the_limit_in_both_tables_answers_the_newest_of_both(
    tmp_path: Path, filtered: bool
) -> None:
    store = SqliteStore(tmp_path / "aggregator.db")
    store._band_filter_after = 0.0 if filtered else float("inf")
    try:
        # 50 copies under band 7, moved to the main table; then 50 more,
        # recent, their dates interleaved with the first's and some the same.
        for n in range(50):
            index(store, f"old{n}", (7,), at=WHEN + (2 * n) * HOUR)
        store._move_bands_at = 1
        index(store, "mover", (8,))
        store._move_bands_at = 10_000
        assert rows_in(store, "dedup_bands_recent") == 0
        for n in range(50):
            index(store, f"new{n}", (7,), at=WHEN + (n + n % 2) * HOUR)
        assert rows_in(store, "dedup_bands_recent") == 50
        for start, end in [(WHEN, WHEN + 200 * HOUR), (WHEN + 20 * HOUR, WHEN + 60 * HOUR)]:
            queries = [BandQuery((8, 7), start, end), BandQuery((7,), start, end)]
            answer = answers(store, queries, [])
            assert answer == newest_under(store, queries, [])
            dates = [2 * n for n in range(50)] + [n + n % 2 for n in range(50)]
            inside = sum(start <= WHEN + hours * HOUR <= end for hours in dates)
            assert len(answer[1][0][1]) == min(inside, BAND_HITS_LIMIT)
        assert inside < BAND_HITS_LIMIT < len(dates)  # both windows' cases
    finally:
        store.close()


def test_look_ups_bind_no_numbered_parameters() -> None:
    """Numbered placeholders ("?3") bound from a sequence are deprecated since
    Python 3.12 and an error from 3.14: the look-up's statements, of every
    shape, use plain ones, as many as band_hits binds (per arm: its number,
    then band, window and left-out ids once per band table; the answers
    that depend on it are the other tests')."""
    unless, _ = _excluding("copy_id", [1, 2])
    for arms in (10, 150):
        for excluding in ("", unless):
            statement = _band_hits_sql(arms, excluding)
            assert not re.search(r"\?\d", statement)
            per_table = 3 + (1 if excluding else 0)
            assert statement.count("?") == arms * (1 + 2 * per_table)
