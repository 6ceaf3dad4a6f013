"""What a node decides without a database: the lock each poll runs under, and
how often it asks whether a --once run is alive."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

from aggregator.cluster.node import poll_lock
from aggregator.config import SourceConfig


def source(name: str, url: str | None = None, path: str | None = None) -> SourceConfig:
    return SourceConfig(name=name, url=url, path=path, section="S", interval=1800.0)


def test_a_source_always_polls_under_the_same_lock() -> None:
    one = source("a", "https://example.com/a.xml")
    assert poll_lock(one, 4) == poll_lock(one, 4)


def test_the_sources_of_one_host_share_per_host_locks() -> None:
    sources = [source(f"s{n}", f"https://example.com/{n}.xml") for n in range(100)]
    locks = {poll_lock(s, 4) for s in sources}
    assert len(locks) == 4  # at most four polls of example.com at once, anywhere
    assert all(lock.startswith("host:example.com:") for lock in locks)


def test_hosts_do_not_share_locks() -> None:
    first = {poll_lock(source(f"s{n}", f"https://one.example/{n}"), 2) for n in range(20)}
    second = {poll_lock(source(f"s{n}", f"https://two.example/{n}"), 2) for n in range(20)}
    local = {poll_lock(source(f"s{n}", path=f"articles/{n}"), 2) for n in range(20)}
    assert first.isdisjoint(second) and first.isdisjoint(local) and second.isdisjoint(local)


class _Runs:
    """A queue that knows which --once runs are alive, and counts the asking."""

    def __init__(self, alive: set[str]):
        self.alive = alive
        self.asked = 0

    async def live_runs(self, runs: Iterable[str], stall_timeout: float) -> set[str]:
        self.asked += 1
        return self.alive.intersection(runs)


def test_a_runs_liveness_is_asked_once_per_quarter_stall_timeout() -> None:
    from aggregator.cluster.node import Node
    from aggregator.config import parse_config

    config = parse_config(
        "cluster: {stall_timeout: 20s}\n"
        "sources:\n  - {name: a, url: 'https://a.example/', section: S}\n",
        Path("/nowhere/feeds.yaml"),
    )
    queue = _Runs({"7"})
    node = Node(config, cast(Any, None), cast(Any, queue), cast(Any, None))
    start = datetime(2026, 1, 1, tzinfo=UTC)

    async def ask(run: str, after: float) -> bool:
        return await node._run_alive(run, start + timedelta(seconds=after))

    async def scenario() -> list[bool]:
        return [
            await ask("7", 0),
            await ask("7", 1),  # remembered
            await ask("7", 4.9),  # remembered
            await ask("7", 5),  # a quarter of 20 s: asked again
            await ask("8", 5),  # another run, dead: asked
            await ask("8", 5.1),  # dead is asked again (it cannot come back, but is rare)
        ]

    assert asyncio.run(scenario()) == [True, True, True, True, False, False]
    assert queue.asked == 4
    queue.alive.clear()  # run 7 killed: known at the next question past the quarter
    assert asyncio.run(ask("7", 9)) is True
    assert asyncio.run(ask("7", 10.1)) is False
    node.own_run = "7"  # this process's own run: alive, whatever the queue says
    assert asyncio.run(ask("7", 20)) is True
    assert queue.asked == 5
