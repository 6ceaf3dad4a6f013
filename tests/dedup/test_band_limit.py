"""A band shared by very many copies (a boilerplate lead, a numbered series)
must not make each new copy cost as much as all before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.config import DedupConfig
from aggregator.dedup.merge import merge_item
from aggregator.models import ParsedItem
from aggregator.store.index import BAND_HITS_LIMIT, BandQuery
from aggregator.store.sqlite import SqliteStore

NOW = datetime(2026, 1, 1, tzinfo=UTC)
LEAD = "The quarterly report of the company shows steady growth in all regions. " * 5


@pytest.mark.parametrize("move_at", [None, 100], ids=["recent", "moved"])
def test_band_hits_are_capped_per_band_newest_first(tmp_path: Path, move_at: int | None) -> None:
    store = SqliteStore(tmp_path / "db")
    if move_at is not None:
        store._move_bands_at = move_at
    count = BAND_HITS_LIMIT * 3
    for n in range(count):
        item = ParsedItem(
            f"id{n}",
            f"Item {n} of the series",
            f"https://x.example/{n}",
            NOW - timedelta(minutes=n),
            None,
            f"<p>{LEAD}</p>",
        )
        with store.transaction():
            merge_item(store, f"src{n % 7}", "S", item, f"{LEAD} {n}", NOW, DedupConfig())
    # The SQLite store's keys, in its two tables (see SqliteStore._add_bands).
    keys = "(SELECT * FROM dedup_bands UNION ALL SELECT * FROM dedup_bands_recent)"
    rows = store._db.execute(
        f"SELECT band, COUNT(*) FROM {keys} GROUP BY band ORDER BY COUNT(*) DESC"
    ).fetchall()
    busy_band, copies = rows[0]
    assert copies > BAND_HITS_LIMIT  # the shared lead: one band, many copies
    query = BandQuery((busy_band,), NOW - timedelta(days=1), NOW + timedelta(days=1))
    ((hits,),) = store.band_hits([query])
    assert len(hits.copy_ids) == BAND_HITS_LIMIT
    newest = store._db.execute(
        f"SELECT copy_id FROM {keys} WHERE band = ? ORDER BY at DESC LIMIT ?",
        (busy_band, BAND_HITS_LIMIT),
    ).fetchall()
    assert set(hits.copy_ids) == {row[0] for row in newest}
    store.close()
