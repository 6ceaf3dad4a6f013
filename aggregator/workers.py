"""CPU-bound work off the event loop: parsing and summarizing.

Small batches run in a thread of this process: a worker process costs more
to start than a few feeds cost to parse (but see ``min_pool_bytes``: not
beside a store that waits on a server).  Large batches go to a pool of
worker processes, one per core, created on first need and kept for the rest
of the pass, so parsing and summarizing share it and pay its start-up once.
Until the pool exists, large batches too may run in the thread, for as long
as its work in all stays under ``thread_seconds`` of CPU (rent or buy: see
:data:`POOL_AFTER_THREAD_SECONDS`), and the rest of them in the pool.
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

A worker that dies under its jobs (the out-of-memory killer) or runs one
past :data:`JOB_SECONDS` breaks the pool: what the pool held runs again, each
job in a process of its own, and only a job that fails so again is lost, as
the value the caller's ``lost`` makes of it (its source's error).  A job run
in a thread past that limit is lost at once and left to its thread, which
cannot be stopped; from then on all work goes to the pool.

The pool's processes die with the process that owns it, even by SIGKILL
(:mod:`.fork_server_guard`).  On Linux that ties them to the thread that
started the fork server (the first to use a pool in this process): use the
pool from the event loop's thread only.  Signals sent to the owner's process
group (a hangup, the SIGTERM of ``systemctl stop``, Ctrl-C) are the owner's
alone: it stops the workers itself, with SIGKILL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from .memory import release_memory

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing.context import BaseContext

log = logging.getLogger(__name__)

# First in the fork server's preload, so that it holds before the slow imports.
_GUARD = "aggregator.fork_server_guard"

# Below this much input, work runs in a thread of this process rather than
# in the worker processes: the workers' fork server imports the parser and
# summarizer once (half a second, on another core), and every job's bytes
# and results cross between processes.  A feed is about 1 ms of CPU per
# kilobyte, so this is a quarter of a second of work.
POOL_MIN_BYTES = 256_000

# Rent or buy: large batches run in the thread too, until the thread has
# worked this many seconds of CPU in all, and in the pool once it has, or
# once the pool exists.  Starting the pool costs some 0.5 s of CPU (the fork
# server's imports, then every job's bytes and results pickled across);
# input in bytes overstates a pass in which feeds changed by a few items
# (the items already stored are not worked on), and work that stays under
# twice that cost is done for less CPU in the thread, for a wall time at
# most some 0.5 s longer.  The benchmark's changed round (100 of 1,000 feeds
# with three new items each: 0.8 s of work) took 2.2 s of CPU in all, against
# 2.8 s with the pool (medians of five alternating runs).  Work whose input
# says its size (a source's first poll) does not rent: see Workers.map.
POOL_AFTER_THREAD_SECONDS = 1.0

# A job with this much input runs in a process of its own, one at a time
# (see the module's doc): a tenth of the largest body accepted by default,
# ten times a large feed.  Starting that process (a fork of the fork server)
# costs little next to the job's own second or so.
LARGE_JOB_BYTES = 1_000_000
# Small jobs are sent in chunks of at most this much input (or one job), so
# that a worker holds no more than that of input at a time.
CHUNK_BYTES = 1_000_000
# A job of the pool that runs this long is taken for stuck (a document the
# parser loops on): its process is stopped and the job lost, as if it had
# ended its process.  Thirty times what a job of the largest body accepted
# by default takes here (10 MB: some 10 s of parsing); a chunk may run as
# long per job it holds.  A job run in a thread of this process (a small
# batch beside SQLite) cannot be stopped: past the limit it is lost and left
# to run (see Workers._run_in_thread).
JOB_SECONDS = 300.0
# The workers' niceness above this process's: they yield a core to it.  The
# thread that stores is a pass's one serial stage, and the workers only work
# ahead of it; when every core was busy, the scheduler shared one between
# them evenly, and that thread waited for a core 37 to 44 s of a 173 to 203 s
# cold pass of 10,000 feeds (its run-queue time, from /proc).  Niced, the
# workers take what the storing thread leaves (as they do what the user's
# other programs leave): it waited 13 to 15 s, and the passes took 158 and
# 171 s (the two alternating).  At 1,000 feeds, where the workers set the
# pace, the same.  Raising one's niceness needs no privilege; a pass run
# niced keeps the order, down to the lowest priority (19).
WORKER_NICENESS = 10
# Seconds between two looks at whether a worker of the pool has died while
# its job is awaited (see _watched).
WATCH_SECONDS = 0.5

_T = TypeVar("_T")
_R = TypeVar("_R")


class Workers:
    def __init__(
        self,
        processes: int | None = None,
        preload: Sequence[str] = (),
        *,
        min_pool_bytes: int = POOL_MIN_BYTES,
        thread_seconds: float = 0.0,
        job_seconds: float = JOB_SECONDS,
    ):
        """``min_pool_bytes``: work of more input than this goes to the pool
        (:meth:`pooled`); 0 sends all of it there.  ``thread_seconds``: until
        the pool exists, such work runs in the thread all the same, until the
        thread has worked that many seconds of CPU in all (see
        :data:`POOL_AFTER_THREAD_SECONDS`); 0 sends it to the pool at once.
        ``job_seconds``: see :data:`JOB_SECONDS`."""
        self.processes = processes or os.cpu_count() or 1
        self.preload = list(preload)
        self.min_pool_bytes = min_pool_bytes
        self._rent = _Rent(thread_seconds)
        self.job_seconds = job_seconds
        self._pool: ProcessPoolExecutor | None = None
        # Large jobs' pool: one process, which ends after each job.
        self._large_pool: ProcessPoolExecutor | None = None
        self._large_turn: tuple[asyncio.AbstractEventLoop, asyncio.Lock] | None = None
        # Pools dropped because a worker ended under them, or was stopped as
        # stuck (see _drop_broken).
        self._broken: weakref.WeakSet[ProcessPoolExecutor] = weakref.WeakSet()

    @property
    def thread_seconds(self) -> float:
        """Seconds of CPU the thread may still work before large batches go to the pool."""
        return self._rent.seconds

    def pooled(self, size: int) -> bool:
        """Whether work of ``size`` bytes of input is worth the pool's
        processes: what :meth:`map`'s ``heavy`` should be for it."""
        return size > self.min_pool_bytes

    async def map(
        self,
        function: Callable[[_T], _R],
        jobs: Sequence[_T],
        *,
        heavy: bool,
        weigh: Callable[[_T], int] | None = None,
        alone: bool = False,
        rent: bool = True,
        lost: Callable[[_T, str], _R] | None = None,
    ) -> list[_R]:
        """``function`` over ``jobs``, in order; in the pool when ``heavy``
        (but see ``rent``).

        ``weigh`` is a job's input in bytes: a large job runs in a process
        of its own, one at a time (see the module's doc).  Without it, every
        job is small.  ``alone``: every job runs as a large one, whatever it
        weighs (one that a worker of the pool should not run, see
        :func:`outlives_its_jobs`).  ``rent``: heavy work may run in the
        thread while :attr:`thread_seconds` are left, until the pool exists;
        False for work known to be as large as its input says, which goes to
        the pool at once.

        ``lost(job, why)``: the result of a job whose process ended under it
        (the kernel's out-of-memory killer, a crash in a C extension) or that
        ran for more than ``job_seconds``; ``why`` says which, to follow "the
        process ...".  Without it, the job raises BrokenProcessPool or
        TimeoutError.  A worker that ends (or is stopped as stuck) breaks its
        pool, and every job the pool held fails with it: each of those runs
        again in a process of its own, so that only a job that ends its
        process (or runs too long) again is lost, and the pool is replaced
        for the jobs after.
        """
        if not jobs:
            return []
        weights = [weigh(job) for job in jobs] if weigh is not None else [0] * len(jobs)
        if alone:
            weights = [LARGE_JOB_BYTES] * len(jobs)
        large = [index for index, weight in enumerate(weights) if weight >= LARGE_JOB_BYTES]
        if not heavy and not large:
            return await self._run_in_thread(function, jobs, lost)
        if rent and not large and self._pool is None and self.thread_seconds > 0:
            # Rent before buying: the jobs the thread does not reach within
            # what is left of thread_seconds go to the pool.
            done = await self._run_in_thread(function, jobs, lost, within_rent=True)
            if len(done) == len(jobs):
                return done
            rest = await self.map(function, jobs[len(done) :], heavy=True, weigh=weigh, lost=lost)
            return [*done, *rest]
        small = sorted(set(range(len(jobs))) - set(large))
        chunks = _chunks(small, weights, self.processes)
        done_large, done_small = await asyncio.gather(
            asyncio.gather(*(self._run_large(function, jobs[i], lost) for i in large)),
            asyncio.gather(
                *(self._run_in_pool(function, [jobs[i] for i in chunk], lost) for chunk in chunks)
            ),
        )
        results: dict[int, _R] = dict(zip(large, done_large, strict=True))
        for chunk, chunk_results in zip(chunks, done_small, strict=True):
            results.update(zip(chunk, chunk_results, strict=True))
        return [results[index] for index in range(len(jobs))]

    async def _run_in_thread(
        self,
        function: Callable[[_T], _R],
        jobs: Sequence[_T],
        lost: Callable[[_T, str], _R] | None,
        *,
        within_rent: bool = False,
    ) -> list[_R]:
        """``function`` over ``jobs``, one after another in a thread of this
        process, each within ``job_seconds``.  Every second of CPU the thread
        works is taken off :attr:`thread_seconds`; ``within_rent``: the
        thread stops after the job that spends what is left of it (in this
        thread or another), and the results of the jobs done so far, a prefix
        of ``jobs``, are returned.

        A thread cannot be stopped.  One whose job runs past the limit is
        left to it, as a daemon thread (it does not hold the process's
        exit); the job is lost, the jobs after it run in the pool, and so
        does all work from then on (:attr:`min_pool_bytes` 0): the stray
        thread takes its share of the interpreter's lock for as long as it
        runs, and a thread beside it would wait on it.
        """
        loop = asyncio.get_running_loop()
        finished: asyncio.Future[None] = loop.create_future()
        run = _ThreadRun(function, jobs, loop, finished, self._rent, within_rent=within_rent)
        threading.Thread(target=run, name="workers-thread", daemon=True).start()
        while True:
            _index, started = run.current
            wait = max(0.0, self.job_seconds - (time.monotonic() - started))
            try:
                await asyncio.wait_for(asyncio.shield(finished), wait)
                return run.result()
            except TimeoutError:
                stuck = run.abandon_if_stuck(self.job_seconds)
                if stuck is not None:
                    break
        self.min_pool_bytes = 0
        self._rent.spend_all()
        log.warning(
            "a job ran for more than %g s in a thread of this process, which cannot be "
            "stopped: it is lost and the work from now on goes to the worker processes; "
            "restart to get the thread's share of the CPU back",
            self.job_seconds,
        )
        if lost is None:
            raise TimeoutError(f"a job ran for more than {self.job_seconds:g} s")
        why = f"ran for more than {self.job_seconds:g} s"
        rest = await self.map(function, jobs[stuck + 1 :], heavy=True, lost=lost)
        return [*run.results[:stuck], lost(jobs[stuck], why), *rest]

    async def _run_in_pool(
        self, function: Callable[[_T], _R], jobs: list[_T], lost: Callable[[_T, str], _R] | None
    ) -> list[_R]:
        """``function`` over ``jobs`` in a worker of the pool; if the pool
        breaks meanwhile, each job again in a process of its own (see :meth:`map`)."""
        pool = self._ensure_pool()
        try:
            # Inside: a pool found broken since its last job refuses this one at once.
            running = asyncio.get_running_loop().run_in_executor(pool, _run_chunk, function, jobs)
            return await _watched(pool, running, self.job_seconds * len(jobs))
        except BrokenExecutor:
            if not self._drop_broken(pool):
                raise
        except TimeoutError:
            self._drop_broken(pool, stuck=True)
        return [await self._run_large(function, job, lost) for job in jobs]

    async def _run_large(
        self, function: Callable[[_T], _R], job: _T, lost: Callable[[_T, str], _R] | None
    ) -> _R:
        """``function(job)`` in the large jobs' pool, once no other large job
        (of this call or another) is there.  Handed to the pool only then:
        a job queued in it would wait pickled, a copy of its input in this
        process, for as long as the one before it runs.  ``lost(job, why)``
        if its process ends under it or it runs too long (see :meth:`map`)."""
        loop = asyncio.get_running_loop()
        if self._large_turn is None or self._large_turn[0] is not loop:
            # An asyncio lock belongs to one event loop; the workers may
            # outlive one (a lock with no waiters can be replaced).
            self._large_turn = (loop, asyncio.Lock())
        async with self._large_turn[1]:
            pool = self._ensure_pool(large=True)
            try:
                running = loop.run_in_executor(pool, function, job)
                return await _watched(pool, running, self.job_seconds)
            except BrokenExecutor:
                if not self._drop_broken(pool) or lost is None:
                    raise
                return lost(job, "ended abruptly (out of memory?)")
            except TimeoutError:
                self._drop_broken(pool, stuck=True)
                if lost is None:
                    raise
                return lost(job, f"ran for more than {self.job_seconds:g} s")

    def _drop_broken(self, pool: ProcessPoolExecutor, *, stuck: bool = False) -> bool:
        """Whether ``pool`` broke (a worker ended under it, or ``stuck``: one
        ran a job too long) rather than being stopped (:meth:`close`,
        :meth:`terminate`: its jobs are abandoned).  A broken pool is stopped
        and forgotten, so that the next job starts a new one: by whichever
        of its jobs finds it broken first."""
        if pool is self._pool:
            self._pool = None
            log.warning(
                "%s: the jobs the pool held run again, each in a process of its own",
                f"a job ran for more than {self.job_seconds:g} s, its workers are stopped"
                if stuck
                else "a worker process ended abruptly (out of memory?)",
            )
        elif pool is self._large_pool:
            self._large_pool = None  # its one job is lost: the caller says which
        else:
            return pool in self._broken
        self._broken.add(pool)
        # Not cancelling what it holds: the jobs of a pool stopped as stuck
        # fail as broken, and run again (_run_in_pool).
        _terminate(pool, cancel_futures=False)
        return True

    def _ensure_pool(self, *, large: bool = False) -> ProcessPoolExecutor:
        pool = self._large_pool if large else self._pool
        if pool is None:
            # Imported here: a pass in which nothing changed starts no pool.
            import multiprocessing

            context = multiprocessing.get_context("forkserver")
            _start_resource_tracker()
            # Takes effect when the fork server starts, which is now unless
            # an earlier pool of this process started it.  Both pools share it.
            context.set_forkserver_preload([_GUARD, *self.preload])
            pool = _stoppable_pool(
                max_workers=1 if large else self.processes,
                mp_context=context,
                initializer=_start_worker if large else _start_pool_worker,
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
            _terminate(pool)

    def _take_pools(self) -> list[ProcessPoolExecutor]:
        pools = [pool for pool in (self._pool, self._large_pool) if pool is not None]
        self._pool = self._large_pool = None
        return pools


def _stoppable_pool(
    *,
    max_workers: int,
    mp_context: BaseContext,
    initializer: Callable[[], None],
    max_tasks_per_child: int | None,
) -> ProcessPoolExecutor:
    """A ProcessPoolExecutor that :func:`_terminate` can stop at any moment.
    Its classes are made here, on the first pool: a pass in which nothing
    changed imports no part of concurrent.futures' process pool."""
    from concurrent.futures import InvalidStateError, ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool, _ExecutorManagerThread

    class ManagerThread(_ExecutorManagerThread):
        def terminate_broken(self, cause: str) -> None:
            # Python stops the other workers of a broken pool with SIGTERM,
            # then waits for them; but they ignore it (see .fork_server_guard),
            # and would be waited for until their jobs end, or for good.
            for process in list(self.processes.values()):
                process.kill()
            if sys.version_info < (3, 12):
                # Python 3.11 fails every job of a broken pool, a cancelled
                # one too, which raises InvalidStateError and ends this thread
                # before it closes the pool's job queue: the interpreter's exit
                # then waits for good for that queue's feeder, stuck writing a
                # job no worker will read (gh-107219, fixed in 3.12).  A job
                # whose caller was cancelled (the daemon's stop) is one of them.
                broken = BrokenProcessPool("a worker process ended abruptly")
                for item in self.pending_work_items.values():
                    with contextlib.suppress(InvalidStateError):
                        item.future.set_exception(broken)
                self.pending_work_items.clear()
            super().terminate_broken(cause)

    class StoppablePool(ProcessPoolExecutor):
        """A pool that :func:`_terminate` can stop while its workers run."""

        def _adjust_process_count(self) -> None:
            # The pool's manager thread replaces a worker that ended (the
            # large pool's, after every job) by this, holding the shutdown
            # lock.  Once stopping, no new worker: it would be left out of
            # what _terminate() stops, and could not be started without
            # the result pipe's end that _terminate() closes.
            if not self._shutdown_thread:
                super()._adjust_process_count()

        def _start_executor_manager_thread(self) -> None:
            super()._start_executor_manager_thread()
            thread: object = self._executor_manager_thread
            if type(thread) is _ExecutorManagerThread:
                thread.__class__ = ManagerThread

    return StoppablePool(
        max_workers=max_workers,
        mp_context=mp_context,
        initializer=initializer,
        max_tasks_per_child=max_tasks_per_child,
    )


async def _watched(pool: ProcessPoolExecutor, running: asyncio.Future[_R], seconds: float) -> _R:
    """``running``'s result, a job of ``pool``; TimeoutError (``running``
    cancelled) past ``seconds``, and BrokenExecutor once a worker of the pool
    has died, even where the pool cannot tell.

    A worker killed while it sends its result (the out-of-memory killer)
    dies holding the result queue's lock and leaves half a message in its
    pipe: the pool's manager thread waits for the rest for good, and each
    other worker for the lock, so the pool neither ends the job nor finds
    itself broken; the pass waited for the time limit (300 s a job) to
    stop it.  A look at the workers every WATCH_SECONDS finds the dead one;
    the caller then stops the pool (:func:`_terminate` ends that wait)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    while True:
        step = min(WATCH_SECONDS, max(0.0, end - loop.time()))
        try:
            return await asyncio.wait_for(asyncio.shield(running), step)
        except asyncio.CancelledError:
            # The caller's cancel (Ctrl-C, the daemon's stop) is the job's, as
            # a plain wait_for makes it; one done meanwhile keeps its outcome.
            if not running.cancel():
                running.add_done_callback(_retrieved)
            raise
        except TimeoutError:
            if _a_worker_died(pool):
                running.add_done_callback(_retrieved)  # it fails once the pool is stopped
                raise BrokenExecutor("a worker process ended abruptly") from None
            if loop.time() >= end:
                running.cancel()
                raise


def _a_worker_died(pool: ProcessPoolExecutor) -> bool:
    """Whether a worker of ``pool`` ended other than by finishing (exit code 0:
    the large pool's, after its one job)."""
    processes = list((pool._processes or {}).values())
    return any(process.exitcode not in (None, 0) for process in processes)


def _retrieved(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


def _terminate(pool: ProcessPoolExecutor, *, cancel_futures: bool = True) -> None:
    """Stop ``pool``'s workers now and shut it down; what they run is abandoned.

    There is no public way to stop a running job before Python 3.14's
    ``terminate_workers()``, and killing the workers alone leaves a knot: a
    worker killed while it was sending a result leaves the pool's manager thread
    blocked for good reading the rest of it, because this process holds
    the result pipe's write end too, so the read never sees an end of file;
    ``shutdown(wait=True)`` then waits for that thread for good (as does the
    interpreter's exit).  Once the workers are dead, this process's write end
    is the last one, and closing it ends that read: the manager thread finds
    the pool broken, fails its futures and ends.  ``cancel_futures``: the
    jobs it holds that no worker has begun are cancelled; else they fail
    as broken."""
    with pool._shutdown_lock:
        # No worker is added once this is set (see _stoppable_pool).
        pool._shutdown_thread = True
        processes = list((pool._processes or {}).values())
    for process in processes:
        process.kill()  # SIGTERM is the owner's alone (see .fork_server_guard)
    for process in processes:
        process.join()
    results = pool._result_queue
    if results is not None:
        results._writer.close()  # type: ignore[attr-defined]
    pool.shutdown(wait=True, cancel_futures=cancel_futures)


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
    _start_worker()


def _start_worker() -> None:
    """In each worker process, as it starts: the owner's signals ignored, a
    lower priority than the owner's (:data:`WORKER_NICENESS`)."""
    _ignore_interrupts()
    # Refused by a sandbox that forbids it: the worker runs as before.
    with contextlib.suppress(OSError):
        os.nice(WORKER_NICENESS)


def _start_resource_tracker() -> None:
    """Start multiprocessing's resource tracker, which every pool needs,
    unless it runs, with SIGHUP blocked, as Python starts it with Ctrl-C's
    signals blocked: the process keeps that mask.  A hangup sent to the
    process group (a terminal closed, ``kill -HUP -PGID``) would otherwise
    end it, and the tracker started again in its place would report, with a
    traceback each, every semaphore the pool then gives back."""
    from multiprocessing import resource_tracker

    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGHUP})
    try:
        resource_tracker.ensure_running()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _ignore_interrupts() -> None:
    """In each worker: Ctrl-C reaches every process of the terminal's group,
    but it is for the owner of the pool, which decides what becomes of the
    work (the daemon gives it its grace), not for the workers to die of it
    with a traceback each (as the fork server already does).  SIGHUP and
    SIGTERM they ignore already, as the fork server they are forked from
    does (:mod:`.fork_server_guard`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class _Rent:
    """Seconds of CPU that work may still take in this process's threads
    before the pool is worth starting (see :data:`POOL_AFTER_THREAD_SECONDS`):
    one account for every thread that runs jobs, at once or one after another."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self._lock = threading.Lock()

    def pay(self, seconds: float) -> bool:
        """Take ``seconds`` off; whether some are left."""
        with self._lock:
            self.seconds = max(0.0, self.seconds - seconds)
            return self.seconds > 0

    def spend_all(self) -> None:
        with self._lock:
            self.seconds = 0.0


class _ThreadRun(Generic[_T, _R]):
    """Jobs run one after another in a thread (see :meth:`Workers._run_in_thread`):
    what each gave, and which one runs since when."""

    def __init__(
        self,
        function: Callable[[_T], _R],
        jobs: Sequence[_T],
        loop: asyncio.AbstractEventLoop,
        finished: asyncio.Future[None],
        rent: _Rent,
        *,
        within_rent: bool,
    ):
        self.function = function
        self.jobs = jobs
        self.rent = rent  # what each job's CPU is taken off
        self.within_rent = within_rent  # no job begun once it is spent
        self.results: list[_R] = []
        self.current = (0, time.monotonic())  # the job running, since when
        self._loop = loop
        self._finished = finished
        self._error: BaseException | None = None
        self._abandoned = False
        self._stopped = False  # within the rent, before the last job
        self._lock = threading.Lock()

    def __call__(self) -> None:
        release_memory()  # as _run_chunk does
        try:
            for index, job in enumerate(self.jobs):
                started = time.thread_time()
                try:
                    result = self.function(job)
                finally:
                    rent_left = self.rent.pay(time.thread_time() - started)
                with self._lock:
                    if self._abandoned:
                        return  # its caller has gone on without it
                    self.results.append(result)
                    self.current = (index + 1, time.monotonic())
                    if self.within_rent and not rent_left and index + 1 < len(self.jobs):
                        self._stopped = True  # the jobs after it are the pool's
                        break
        except BaseException as error:  # the caller's to raise, as to_thread would
            with self._lock:
                if self._abandoned:
                    return
                self._error = error
        with contextlib.suppress(RuntimeError):  # the loop is closed: no one waits
            self._loop.call_soon_threadsafe(_settle, self._finished)

    def result(self) -> list[_R]:
        if self._error is not None:
            raise self._error
        return self.results

    def abandon_if_stuck(self, seconds: float) -> int | None:
        """The index of the job running if it started ``seconds`` ago or
        more, and the thread given up on; None if it is not stuck."""
        with self._lock:
            index, started = self.current
            if self._error is not None or self._stopped or index >= len(self.jobs):
                return None  # done: its result is on its way
            if time.monotonic() - started < seconds:
                return None
            self._abandoned = True
            return index


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _run_chunk(function: Callable[[_T], _R], jobs: Sequence[_T]) -> list[_R]:
    # What the chunk before freed (its documents, its parse trees), handed
    # back first: a worker lives for the pass, and its heap would otherwise
    # keep the most any chunk fragmented.
    release_memory()
    return [function(job) for job in jobs]
