"""CPU-bound work off the event loop: parsing and summarizing.

Small batches run in a thread of this process: a worker process costs more
to start than a few feeds cost to parse.  Large batches go to a pool of
worker processes, one per core, created on first need and kept for the rest
of the pass, so parsing and summarizing share it and pay its start-up once.
A large batch goes to the pool even when it is one job that no other core
could share: a process can be stopped (:meth:`Workers.terminate`, when the
daemon stops), a thread cannot, and would hold the exit until it is done.

A job's memory is several times its input (feedparser holds about five
times a large text node, and a few kilobytes per entry), and a process that
lives on keeps most of what it once held: freed to its allocator, not to the
system.  So when the caller weighs its jobs, a large one (:data:`LARGE_JOB_BYTES`
of input) runs in a process of its own that ends with it, and large jobs run
one at a time: the peak of a pass is then one large job's, not every large
job's at once and kept.  Small jobs go on meanwhile on the other cores, in
chunks of a bounded size.

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

# A job with this much input runs in a process of its own, one at a time
# (see the module's doc): a tenth of the largest body accepted by default,
# ten times a large feed.  Starting that process (a fork of the fork server)
# costs little next to the job's own second or so.
LARGE_JOB_BYTES = 1_000_000
# Small jobs are sent in chunks of at most this much input (or one job), so
# that a worker holds no more than that of input at a time.
CHUNK_BYTES = 1_000_000

_T = TypeVar("_T")
_R = TypeVar("_R")


class Workers:
    def __init__(self, processes: int | None = None, preload: Sequence[str] = ()):
        self.processes = processes or os.cpu_count() or 1
        self.preload = list(preload)
        self._pool: ProcessPoolExecutor | None = None
        # Large jobs' pool: one process, which ends after each job.
        self._large_pool: ProcessPoolExecutor | None = None
        self._large_turn: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None

    async def map(
        self,
        function: Callable[[_T], _R],
        jobs: Sequence[_T],
        *,
        heavy: bool,
        weigh: Callable[[_T], int] | None = None,
        alone: bool = False,
    ) -> list[_R]:
        """``function`` over ``jobs``, in order; in the pool when ``heavy``.

        ``weigh`` is a job's input in bytes: a large job runs in a process
        of its own, one at a time (see the module's doc).  Without it, every
        job is small.  ``alone``: every job runs as a large one, whatever it
        weighs (one that a worker of the pool should not run, see
        :func:`outlives_its_jobs`).
        """
        if not jobs:
            return []
        weights = [weigh(job) for job in jobs] if weigh is not None else [0] * len(jobs)
        if alone:
            weights = [LARGE_JOB_BYTES] * len(jobs)
        large = [index for index, weight in enumerate(weights) if weight >= LARGE_JOB_BYTES]
        if not heavy and not large:
            return await asyncio.to_thread(_run_chunk, function, jobs)
        small = sorted(set(range(len(jobs))) - set(large))
        chunks = _chunks(small, weights, self.processes)
        loop = asyncio.get_running_loop()
        done_large, done_small = await asyncio.gather(
            asyncio.gather(*(self._run_large(function, jobs[i]) for i in large)),
            asyncio.gather(
                *(
                    loop.run_in_executor(
                        self._ensure_pool(), _run_chunk, function, [jobs[i] for i in chunk]
                    )
                    for chunk in chunks
                )
            ),
        )
        results: dict[int, _R] = dict(zip(large, done_large, strict=True))
        for chunk, chunk_results in zip(chunks, done_small, strict=True):
            results.update(zip(chunk, chunk_results, strict=True))
        return [results[index] for index in range(len(jobs))]

    async def _run_large(self, function: Callable[[_T], _R], job: _T) -> _R:
        """``function(job)`` in the large jobs' pool, once no other large job
        (of this call or another) is there.  Handed to the pool only then:
        a job queued in it would wait pickled, a copy of its input in this
        process, for as long as the one before it runs."""
        loop = asyncio.get_running_loop()
        if self._large_turn is None or self._large_turn[0] is not loop:
            # An asyncio lock belongs to one event loop; the workers may
            # outlive one (a lock with no waiters can be replaced).
            self._large_turn = (loop, asyncio.Lock())
        async with self._large_turn[1]:
            return await loop.run_in_executor(self._ensure_pool(large=True), function, job)

    def _ensure_pool(self, *, large: bool = False) -> ProcessPoolExecutor:
        pool = self._large_pool if large else self._pool
        if pool is None:
            # Imported here: a pass in which nothing changed starts no pool.
            import multiprocessing
            from concurrent.futures import ProcessPoolExecutor

            context = multiprocessing.get_context("forkserver")
            # Takes effect when the fork server starts, which is now unless
            # an earlier pool of this process started it.  Both pools share it.
            context.set_forkserver_preload([_GUARD, *self.preload])
            pool = ProcessPoolExecutor(
                max_workers=1 if large else self.processes,
                mp_context=context,
                initializer=_ignore_interrupts if large else _start_pool_worker,
                # One job per process in the large pool.  Exactly one: with
                # more, Python up to 3.15 can leave the pool without a process
                # (gh-115634), which cannot happen when every job is a last.
                max_tasks_per_child=1 if large else None,
            )
            if large:
                self._large_pool = pool
            else:
                self._pool = pool
        return pool

    def close(self) -> None:
        """Stop the pools once the jobs they are running are done."""
        for pool in self._take_pools():
            pool.shutdown(wait=True, cancel_futures=True)

    def terminate(self) -> None:
        """Stop the pools now: the jobs they are running are abandoned, their
        futures fail.  A later :meth:`map` starts new pools."""
        for pool in self._take_pools():
            # No public way to stop a running job before Python 3.14's
            # terminate_workers(); the pool's manager thread sees them die,
            # fails what they were running and joins them.
            for process in list((pool._processes or {}).values()):
                process.terminate()
            pool.shutdown(wait=True, cancel_futures=True)

    def _take_pools(self) -> list[ProcessPoolExecutor]:
        pools = [pool for pool in (self._pool, self._large_pool) if pool is not None]
        self._pool = self._large_pool = None
        return pools


def _chunks(indexes: list[int], weights: list[int], processes: int) -> list[list[int]]:
    """The jobs at ``indexes`` in chunks, in order: several per process, so
    one slow chunk does not leave the other cores idle at the end; chunks,
    so a job is not a round trip; each of at most :data:`CHUNK_BYTES` of
    input unless it is one job."""
    size = max(1, len(indexes) // (processes * 4))
    chunks: list[list[int]] = []
    chunk: list[int] = []
    chunk_bytes = 0
    for index in indexes:
        if chunk and (len(chunk) >= size or chunk_bytes + weights[index] > CHUNK_BYTES):
            chunks.append(chunk)
            chunk, chunk_bytes = [], 0
        chunk.append(index)
        chunk_bytes += weights[index]
    if chunk:
        chunks.append(chunk)
    return chunks


# True in a worker of the pool, which lives on after its jobs; False in the
# process that owns the pool and in the processes of large jobs.
_outlives_its_jobs = False


def outlives_its_jobs() -> bool:
    """Whether this process is a worker of the pool, which lives on after
    each job with whatever the job loaded (a model read once and kept), until
    the pool stops.  A job may leave something rare and large to a process
    that ends with it: see :meth:`Workers.map`'s ``alone``."""
    return _outlives_its_jobs


def _start_pool_worker() -> None:
    global _outlives_its_jobs
    _outlives_its_jobs = True
    _ignore_interrupts()


def _ignore_interrupts() -> None:
    """In each worker: Ctrl-C reaches every process of the terminal's group,
    but it is for the owner of the pool, which decides what becomes of the
    work (the daemon gives it its grace), not for the workers to die of it
    with a traceback each (as the fork server already does)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_chunk(function: Callable[[_T], _R], jobs: Sequence[_T]) -> list[_R]:
    return [function(job) for job in jobs]
