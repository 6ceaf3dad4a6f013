"""CPU-bound work off the event loop: parsing and summarizing.

Small batches run in a thread of this process: a worker process costs more
to start than a few feeds cost to parse.  Large batches go to a pool of
worker processes, one per core, created on first need and kept for the rest
of the pass, so parsing and summarizing share it and pay its start-up once.

The pool's processes are started by a fork server, not forked from this
process: a fork would copy whatever this process holds at that moment (the
pass's fetched bodies among it) into every worker, and forking a process
that runs threads is unsafe.  The fork server imports the ``preload``
modules once, before it forks any worker: every worker then starts at once,
without importing anything, and the pages of those modules and of the models
they load stay shared between the workers instead of being copied into each.
The functions sent to the pool must be importable top-level functions, and
their arguments and results picklable.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

_T = TypeVar("_T")
_R = TypeVar("_R")


class Workers:
    def __init__(self, processes: int | None = None, preload: Sequence[str] = ()):
        self.processes = processes or os.cpu_count() or 1
        self.preload = list(preload)
        self._pool: ProcessPoolExecutor | None = None

    async def map(
        self, function: Callable[[_T], _R], jobs: Sequence[_T], *, heavy: bool
    ) -> list[_R]:
        """``function`` over ``jobs``, in order; in the pool when ``heavy``."""
        if not jobs:
            return []
        if not heavy or self.processes < 2 or len(jobs) < 2:
            return await asyncio.to_thread(_run_chunk, function, jobs)
        pool = self._ensure_pool()
        loop = asyncio.get_running_loop()
        # Several chunks per process, so one slow chunk does not leave the
        # other cores idle at the end; chunks, so a job is not a round trip.
        size = max(1, len(jobs) // (self.processes * 4))
        chunks = [jobs[start : start + size] for start in range(0, len(jobs), size)]
        done = await asyncio.gather(
            *(loop.run_in_executor(pool, _run_chunk, function, chunk) for chunk in chunks)
        )
        return [result for chunk_results in done for result in chunk_results]

    def _ensure_pool(self) -> ProcessPoolExecutor:
        if self._pool is None:
            # Imported here: a pass in which nothing changed starts no pool.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("forkserver")
            # Takes effect when the fork server starts, which is now unless
            # an earlier pool of this process started it.
            context.set_forkserver_preload(self.preload)
            self._pool = ProcessPoolExecutor(max_workers=self.processes, mp_context=context)
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


def _run_chunk(function: Callable[[_T], _R], jobs: Sequence[_T]) -> list[_R]:
    return [function(job) for job in jobs]
