"""FetchAhead: batches in order, fetching bounded by its window, whatever the count."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from aggregator.ahead import FetchAhead


def _run_ahead(
    count: int, *, failing: int | None = None, stop_after: int | None = None
) -> tuple[list[list[int]], int, int]:
    """Batches of 10, items fetched 4 at a time and at most 2 batches ahead.

    Returns the batches handed out, the most asyncio tasks alive while one was
    handed out, and the items whose fetch started."""
    started: list[int] = []

    async def fetch(index: int) -> int:
        started.append(index)
        await asyncio.sleep(0)
        if index == failing:
            raise ValueError(f"item {index} failed")
        return index

    async def work(batch: int, outcomes: Sequence[int]) -> tuple[list[int], int]:
        await asyncio.sleep(0)
        return list(outcomes), 0

    async def main() -> tuple[list[list[int]], int]:
        ahead = FetchAhead(
            count,
            batch_size=10,
            concurrency=4,
            ahead_bytes=1_000_000,
            max_batches_ahead=2,
            fetch=fetch,
            weigh=lambda _outcome: 1,
            work=work,
        )
        handed_out: list[list[int]] = []
        most_tasks = 0
        batches = ahead.batches()
        try:
            async for batch in batches:
                handed_out.append(batch)
                most_tasks = max(most_tasks, len(asyncio.all_tasks()))
                if stop_after is not None and len(handed_out) == stop_after:
                    break
        finally:
            await batches.aclose()
        return handed_out, most_tasks

    handed_out, most_tasks = asyncio.run(main())
    return handed_out, most_tasks, len(started)


def test_every_item_is_handed_out_once_in_batches_in_order() -> None:
    handed_out, _tasks, started = _run_ahead(95)
    assert handed_out == [list(range(first, min(first + 10, 95))) for first in range(0, 95, 10)]
    assert started == 95


def test_what_is_held_does_not_grow_with_the_number_of_items() -> None:
    """Tasks alive: the window's fetches and batches, not one per batch of
    the whole run (10,000 sources made up front were 3 MB of a pass)."""
    _handed_out, few_tasks, _started = _run_ahead(100)
    _handed_out, many_tasks, _started = _run_ahead(5_000)
    # The main task, 4 fetches, the batches within 2 ahead and the one handed out.
    assert many_tasks <= 1 + 4 + 3
    assert many_tasks <= few_tasks + 1


def test_a_failed_fetch_surfaces_where_its_batch_is_handed_out() -> None:
    with pytest.raises(ValueError, match="item 23 failed"):
        _run_ahead(50, failing=23)


def test_stopping_early_starts_nothing_more() -> None:
    handed_out, _tasks, started = _run_ahead(1_000, stop_after=1)
    assert len(handed_out) == 1
    # The batches ahead within the window at most, not the thousand items.
    assert started <= 10 * 3
