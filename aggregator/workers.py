"""CPU-bound work off the event loop: parsing and summarizing.

Small batches run in a thread of this process: a worker process costs more
to start than a few feeds cost to parse.  Large batches go to a pool of
worker processes, one per core, created on first need and kept for the rest
of the pass, so parsing and summarizing share it and pay its start-up once.
A large batch goes to the pool even when it is one job that no other core
could share: a process can be stopped (:meth:`Workers.terminate`, when the
daemon stops), a thread cannot, and would hold the exit until it is done.

The pool's processes are started by a fork server, not forked from this
process: a fork would copy whatever this process holds at that moment (the
pass's fetched bodies among it) into every worker, and forking a process
that runs threads is unsafe.  The fork server imports the ``preload``
modules once, before it forks any worker: every worker then starts at once,
without importing anything, and the pages of those modules and of the models
they load stay shared between the workers instead of being copied into each.
The functions sent to the pool must be importable top-level functions, and
their arguments and results picklable.

The pool's processes die with the process that owns it, even by SIGKILL
(:mod:`.fork_server_guard`).  On Linux that ties them to the thread that
started the fork server (the first to use a pool in this process): use the
pool from the event loop's thread only.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

# First in the fork server's preload, so that it holds before the slow imports.
_GUARD = "aggregator.fork_server_guard"

# Below this much input, work runs in a thread of this process rather than
# in the worker processes: the workers' fork server imports the parser and
# summarizer once (half a second, on another core), and every job's bytes
# and results cross between processes.  A feed is about 1 ms of CPU per
# kilobyte, so this is a quarter of a second of work.
POOL_MIN_BYTES = 256_000

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
        if not heavy:
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
            context.set_forkserver_preload([_GUARD, *self.preload])
            self._pool = ProcessPoolExecutor(
                max_workers=self.processes, mp_context=context, initializer=_ignore_interrupts
            )
        return self._pool

    def close(self) -> None:
        """Stop the pool once the jobs it is running are done."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def terminate(self) -> None:
        """Stop the pool now: the jobs it is running are abandoned, their
        futures fail.  A later :meth:`map` starts a new pool."""
        pool, self._pool = self._pool, None
        if pool is None:
            return
        # No public way to stop a running job before Python 3.14's
        # terminate_workers(); the pool's manager thread sees them die,
        # fails what they were running and joins them.
        for process in list((pool._processes or {}).values()):
            process.terminate()
        pool.shutdown(wait=True, cancel_futures=True)


def _ignore_interrupts() -> None:
    """In each worker: Ctrl-C reaches every process of the terminal's group,
    but it is for the owner of the pool, which decides what becomes of the
    work (the daemon gives it its grace), not for the workers to die of it
    with a traceback each (as the fork server already does)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_chunk(function: Callable[[_T], _R], jobs: Sequence[_T]) -> list[_R]:
    return [function(job) for job in jobs]
