"""What a daemon's worker does as it connects, without a database: a publish
queued unless one waits, for the daemon to have feeds to serve (and a
configuration edited meanwhile published)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from aggregator.cluster.worker import Worker
from aggregator.config import parse_config


class _Store:
    def __init__(self, state: str | None):
        self.state = state

    def published_state(self) -> str | None:
        return self.state


class _Queue:
    def __init__(self, waiting: bool):
        self.waiting = waiting
        self.deferred = 0

    async def publish_waiting(self) -> bool:
        return self.waiting

    async def defer_publish(self, *, run: str | None = None, delay: float = 0.0) -> int:
        self.deferred += 1
        return self.deferred


@pytest.mark.parametrize(
    ("state", "waiting", "queued"),
    [
        (None, False, 1),  # a fresh store: publish now, files without entries
        # Published before: queued too, as a feeds.yaml edited while the daemon
        # was down (its title, its sections) changes what is published; a
        # publish where nothing changed writes nothing.
        ("s1", False, 1),
        (None, True, 0),  # another daemon queued one already
    ],
)
def test_a_publish_is_queued_as_a_daemon_connects_unless_one_waits(
    tmp_path: Path, state: str | None, waiting: bool, queued: int
) -> None:
    config = parse_config(
        "store: postgresql://db.example/aggregator\n"
        "sources:\n  - {name: a, url: 'https://a.example/', section: S}\n",
        tmp_path / "feeds.yaml",
    )
    worker = Worker(config, 1, 1.0, signals=False, publish_first=True)
    queue = _Queue(waiting)
    store: Any = _Store(state)
    asyncio.run(worker._publish_first(store, queue))  # type: ignore[arg-type]
    assert queue.deferred == queued
