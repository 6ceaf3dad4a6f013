"""The connection limits as numbers: what a descriptor limit allows, how often a notice is said."""

from __future__ import annotations

import pytest

from aggregator.serve.connections import (
    MIN_CONNECTIONS,
    Capacity,
    Limits,
    Notice,
    plan,
)


@pytest.mark.parametrize(
    ("descriptors", "expected"),
    [
        (None, Capacity(1024, 896, 128, None)),
        # Plenty: the configured maximum, and the full backlog.
        (20_000, Capacity(1024, 896, 128, 20_000)),
        # 1024 - 64 kept = 960, less four bursts of 60 accepts.
        (1024, Capacity(720, 630, 60, 1024)),
        # The case: 200 descriptors.
        (200, Capacity(104, 91, 8, 200)),
        # Next to nothing: never below the floor.
        (70, Capacity(MIN_CONNECTIONS, 6, MIN_CONNECTIONS, 70)),
    ],
)
def test_the_connection_limit_stays_below_the_descriptor_limit(
    descriptors: int | None, expected: Capacity
) -> None:
    capacity = plan(Limits(), descriptors)
    assert capacity == expected
    if descriptors is not None and descriptors >= 200:
        # Kept for the rest of the process, and for four bursts of accepts.
        assert capacity.connections + 4 * capacity.backlog + 64 <= descriptors
    assert capacity.streams < capacity.connections


def test_the_reserve_is_the_callers() -> None:
    # The daemon keeps 64 plus one per outgoing fetch (32 by default).
    assert plan(Limits(reserve_descriptors=96), 200) == Capacity(72, 63, 8, 200)


@pytest.mark.parametrize(
    "bad",
    [
        {"max_connections": 0},
        {"header_timeout": 0},
        {"send_timeout": -1},
        {"notice_interval": 0},
        {"reserve_descriptors": -1},
    ],
)
def test_limits_refuse_nonsense(bad: dict[str, float]) -> None:
    with pytest.raises(ValueError, match=next(iter(bad))):
        Limits(**bad)  # type: ignore[arg-type]


def test_a_notice_is_said_once_per_interval_with_the_count_in_between() -> None:
    notice = Notice(60)
    assert notice.due(0.0) == 1
    assert [notice.due(t) for t in (1.0, 2.0, 59.9)] == [None, None, None]
    assert notice.due(60.0) == 4  # three unsaid, and this one
    assert notice.due(61.0) is None
    assert notice.due(500.0) == 2
