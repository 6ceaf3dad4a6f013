"""The commands of a PostgreSQL store: ``worker``, ``db migrate``, and ``--once``
and ``status`` as they run there (see :mod:`aggregator.cluster`).

procrastinate and psycopg are imported only here, when a command needs them:
a SQLite user needs neither installed.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Callable
from typing import TextIO

from ..config import Config
from ..errors import StoreError
from ..results import PassReport

INSTALL_HINT = "install the PostgreSQL support: pip install 'aggregator[postgres]'"


def _cluster() -> None:
    """Fail with one line when the PostgreSQL extra is not installed."""
    for module in ("psycopg", "procrastinate"):
        if importlib.util.find_spec(module) is None:
            raise StoreError(f"{module} is not installed: {INSTALL_HINT}")


def worker(
    config: Config,
    *,
    concurrency: int | None,
    stop_grace: float,
    reload: Callable[[], Config] | None = None,
) -> int:
    _cluster()
    from ..cluster.worker import run_worker

    return run_worker(
        config,
        concurrency=concurrency or config.cluster.concurrency,
        stop_grace=stop_grace,
        reload=reload,
    )


def migrate(config: Config, out: TextIO) -> int:
    """Create or migrate the store's schema and the job queue's, then say so."""
    _cluster()
    from ..cluster.queue import JobQueue
    from ..store import open_store

    store = open_store(config.store)  # opening migrates the store's own schema
    try:

        async def queue_schema() -> bool:
            async with JobQueue.of(config) as queue:
                return queue.created

        created = asyncio.run(queue_schema())
    finally:
        store.close()
    queue = "created" if created else "up to date"
    print(f"{config.store}: store schema up to date; job queue {queue}", file=out)
    return 0


def run_once(config: Config, progress: Callable[[str], None] | None) -> PassReport:
    _cluster()
    from ..cluster.once import run_once_cluster

    return run_once_cluster(config, progress=progress, concurrency=config.cluster.concurrency)


def queue_status(config: Config, out: TextIO) -> None:
    """The jobs waiting, running and failed, and the workers seen lately."""
    _cluster()
    from ..cluster.queue import POLLS, PUBLISH, JobCounts, JobQueue
    from ..store import open_store

    store = open_store(config.store)
    try:

        async def counts() -> JobCounts:
            async with JobQueue.of(config) as queue:
                return await queue.counts(config.cluster.stall_timeout)

        counts_now = asyncio.run(counts())
    finally:
        store.close()
    print("", file=out)
    print("QUEUE    WAITING  RUNNING  FAILED", file=out)
    for name in (POLLS, PUBLISH):
        print(
            f"{name:<8} {counts_now.count(name, 'todo'):>7}  {counts_now.count(name, 'doing'):>7}"
            f"  {counts_now.count(name, 'failed'):>6}",
            file=out,
        )
    workers = counts_now.workers
    seen = ", ".join(f"#{i} ({at:%H:%M:%SZ})" for i, at in workers) or "none"
    print(f"workers seen in the last {config.cluster.stall_timeout:g} s: {seen}", file=out)
