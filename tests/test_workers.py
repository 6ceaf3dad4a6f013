"""The worker pool: stopped at once when asked, and never outliving the process that owns it."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from aggregator.workers import (
    CHUNK_BYTES,
    LARGE_JOB_BYTES,
    POOL_MIN_BYTES,
    WORKER_NICENESS,
    Workers,
    _chunks,
    outlives_its_jobs,
)
from tests.processes import Process, tree
from tests.waiting import wait_until

# A process that starts a pool of two workers and keeps them busy; a `-c`
# script, so that the workers do not import it as their __main__.
BUSY_POOL = """
import asyncio, time
from aggregator.workers import CHUNK_BYTES, LARGE_JOB_BYTES, Workers, _chunks, outlives_its_jobs

asyncio.run(Workers(processes=2).map(time.sleep, [60.0] * 4, heavy=True))
"""

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def test_workers_die_with_a_killed_parent() -> None:
    owner = subprocess.Popen([sys.executable, "-c", BUSY_POOL])
    started: list[Process] = []
    try:
        # The resource tracker, the fork server and its two workers.
        assert wait_until(lambda: len(tree(owner.pid)) >= 5, 30), tree(owner.pid)
        started = [p for p in tree(owner.pid) if p.pid != owner.pid]
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        assert wait_until(lambda: not any(p.running() for p in started), 10), [
            p for p in started if p.running()
        ]
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        for process in started:  # left behind when the test fails
            if process.running():
                os.kill(process.pid, signal.SIGKILL)


# A process that handles a signal (SIGNAL), as the daemon does SIGHUP and
# SIGTERM, with a pool busy when it comes: it prints what the jobs returned,
# then the answers of jobs sent after it.
SIGNALLED_POOL = """
import asyncio, signal, time
from aggregator.workers import Workers

async def main():
    signalled = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGNAL, signalled.set)
    workers = Workers(processes=2)
    busy = asyncio.ensure_future(workers.map(time.sleep, [2.0, 2.0], heavy=True))
    await signalled.wait()
    print(await busy, await workers.map(abs, [-1, -2], heavy=True), flush=True)
    workers.close()

asyncio.run(main())
"""


@pytest.mark.parametrize("signum", [signal.SIGHUP, signal.SIGTERM])
def test_a_signal_sent_to_the_process_group_is_the_owners_alone(signum: signal.Signals) -> None:
    """A terminal closed or `kill -HUP -PGID` (SIGHUP), `systemctl stop`
    (SIGTERM to every process of the service): the owner decides."""
    owner = subprocess.Popen(
        [sys.executable, "-c", SIGNALLED_POOL.replace("SIGNAL", signum.name)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    started: list[Process] = []
    try:
        # The resource tracker, the fork server and its two workers.
        assert wait_until(lambda: len(tree(owner.pid)) >= 5, 30), tree(owner.pid)
        started = [p for p in tree(owner.pid) if p.pid != owner.pid]
        os.killpg(owner.pid, signum)
        out, err = owner.communicate(timeout=60)
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
    assert owner.returncode == 0, err
    assert out.strip() == "[None, None] [1, 2]"
    assert "Traceback" not in err and "died unexpectedly" not in err, err
    assert len(started) >= 4


def double_unless_negative(number: int) -> int:
    """A job for the pool that ends its process on a negative number, as the
    kernel's out-of-memory killer ends one that takes too much."""
    if number < 0:
        os._exit(1)
    return 2 * number


def test_a_job_that_ends_its_process_is_lost_alone(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> tuple[list[object], list[int]]:
        workers = Workers(processes=2)
        try:
            first = await workers.map(
                double_unless_negative, [1, -1, 2, 3], heavy=True, lost=lambda n, why: ("lost", n)
            )
            return first, await workers.map(double_unless_negative, [4, 5], heavy=True)
        finally:
            workers.close()

    first, after = asyncio.run(scenario())
    # The others ran again, each in a process of its own; the pool was replaced.
    assert first == [2, ("lost", -1), 4, 6]
    assert after == [8, 10]
    assert "a worker process ended abruptly" in caplog.text


def nap(seconds: float) -> float:
    """A job for the pool that takes ``seconds``: forever, as far as a pass can tell."""
    time.sleep(seconds)
    return seconds


def test_a_stuck_job_is_stopped_and_lost_alone(caplog: pytest.LogCaptureFixture) -> None:
    async def scenario() -> tuple[list[object], list[float], float]:
        workers = Workers(processes=2, job_seconds=1.0)
        try:
            started = time.monotonic()
            first = await workers.map(
                nap, [0.1, 3600.0, 0.2, 0.3], heavy=True, lost=lambda job, why: why
            )
            seconds = time.monotonic() - started
            return first, await workers.map(nap, [0.0, 0.0], heavy=True), seconds
        finally:
            workers.close()

    first, after, seconds = asyncio.run(scenario())
    assert first == [0.1, "ran for more than 1 s", 0.2, 0.3]
    assert after == [0.0, 0.0]  # a new pool
    assert seconds < 30  # stopped after its second (and again, alone), not waited for
    assert "a job ran for more than 1 s, its workers are stopped" in caplog.text


def say_pid_then_sleep(marker: Path) -> str:
    """A job for the pool: writes its process's pid, takes a second, and names itself."""
    marker.write_text(str(os.getpid()))
    time.sleep(1)
    return marker.name


def test_jobs_of_a_worker_killed_from_outside_run_again(tmp_path: Path) -> None:
    """SIGKILL, as the out-of-memory killer sends it, to a worker while it runs
    a job: that job and every other the pool held run again, and succeed."""
    markers = [tmp_path / "first", tmp_path / "second", tmp_path / "third"]

    async def scenario() -> tuple[list[str], int]:
        workers = Workers(processes=2)
        try:
            busy = asyncio.ensure_future(
                workers.map(say_pid_then_sleep, markers, heavy=True, lost=lambda m, why: "lost")
            )
            await job_started(markers[0])
            victim = int(markers[0].read_text())
            os.kill(victim, signal.SIGKILL)
            return await busy, victim
        finally:
            workers.close()

    results, victim = asyncio.run(scenario())
    assert results == ["first", "second", "third"]
    assert int(markers[0].read_text()) != victim  # the first job ran again, elsewhere


def test_a_worker_killed_between_jobs_costs_none(tmp_path: Path) -> None:
    """A worker ended while the pool is idle: the next jobs find the pool
    broken, maybe at once, and run all the same."""
    marker = tmp_path / "worker"

    async def scenario() -> list[object]:
        workers = Workers(processes=2)
        try:
            assert await workers.map(say_pid_then_sleep, [marker], heavy=True) == ["worker"]
            victim = next(p for p in tree(os.getpid()) if p.pid == int(marker.read_text()))
            os.kill(victim.pid, signal.SIGKILL)
            while victim.running():
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)  # the pool's manager thread sees it gone
            return await workers.map(double_unless_negative, [1, 2, 3], heavy=True)
        finally:
            workers.close()

    assert asyncio.run(scenario()) == [2, 4, 6]


def sleep_after_saying_so(marker: Path) -> None:
    """A job for the pool: says it runs, then takes a minute."""
    marker.touch()
    time.sleep(60)


def test_terminate_abandons_running_jobs_at_once(tmp_path: Path) -> None:
    markers = [tmp_path / "first", tmp_path / "second"]

    async def scenario() -> tuple[float, list[int]]:
        workers = Workers(processes=2)
        busy = asyncio.ensure_future(workers.map(sleep_after_saying_so, markers, heavy=True))
        try:
            deadline = time.monotonic() + 30
            while not all(m.exists() for m in markers) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert all(m.exists() for m in markers)
            busy.cancel()
            started = time.monotonic()
            workers.terminate()
            seconds = time.monotonic() - started
            # A pool is started afresh for the next jobs.
            return seconds, await workers.map(abs, [-1, -2], heavy=True)
        finally:
            workers.close()

    seconds, results = asyncio.run(scenario())
    assert seconds < 5
    assert results == [1, 2]


async def job_started(marker: Path) -> None:
    """Wait until a job of the scenarios below says it runs."""
    deadline = time.monotonic() + 30
    while not marker.exists() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert marker.exists(), "the job did not start"


def run_alone(script: str, *args: str) -> subprocess.CompletedProcess[str]:
    """A scenario in a process of its own: a stop that hangs there fails the
    test, by the timeout, instead of hanging the run."""
    return subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=Path(__file__).parent.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )


def send_half_a_result(marker: Path) -> None:
    """A job for the pool that leaves what a worker killed while sending a
    large result leaves: the start of a message on the pool's result pipe
    (its length, and a little of it), the rest never sent."""
    frame = sys._getframe()
    # The pool's worker loop holds the result queue (CPython's
    # concurrent.futures.process._process_worker).
    while frame.f_back is not None and "result_queue" not in frame.f_locals:
        frame = frame.f_back
    writer = frame.f_locals["result_queue"]._writer
    os.write(writer.fileno(), struct.pack("!i", 1 << 20) + b"x" * 1000)
    marker.touch()
    time.sleep(60)


# Stops a pool whose worker sent half a result (see run_alone).
HALF_SENT_RESULT = """
import asyncio, sys, time
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from aggregator.workers import LARGE_JOB_BYTES, Workers
from tests.test_workers import job_started, send_half_a_result

marker, large = Path(sys.argv[1]), sys.argv[2] == "large"

async def scenario():
    workers = Workers(processes=1)
    weigh = (lambda _: LARGE_JOB_BYTES) if large else None
    running = asyncio.ensure_future(
        workers.map(send_half_a_result, [marker], heavy=True, weigh=weigh)
    )
    await job_started(marker)
    started = time.monotonic()
    workers.terminate()
    print(time.monotonic() - started)
    try:
        await running
    except BrokenProcessPool:
        print("broken")
    print(await workers.map(abs, [-1, -2], heavy=True, weigh=weigh))

asyncio.run(scenario())
"""


@pytest.mark.parametrize("pool", ["small", "large"])
def test_terminate_does_not_hang_on_a_result_cut_off_by_the_stop(tmp_path: Path, pool: str) -> None:
    # A worker stopped in the middle of sending its result (the daemon's
    # stop during a large feed's parse) once left terminate() waiting for
    # the rest of it for good.
    done = run_alone(HALF_SENT_RESULT, str(tmp_path / "started"), pool)
    assert done.returncode == 0, done.stderr
    seconds, broken, again = done.stdout.split("\n")[:3]
    assert float(seconds) < 5
    assert broken == "broken"  # the cut-off job failed, as an abandoned one does
    assert again == "[1, 2]"  # and a pool is started afresh for the next jobs
    assert "Traceback" not in done.stderr, done.stderr


def sleep_with_ballast(job: tuple[Path, bytes]) -> None:
    """A job for the pool with a large input: says it runs, then takes a minute."""
    job[0].touch()
    time.sleep(60)


# A caller cancelled, then the pool stopped (the daemon's stop after its
# grace); see run_alone.
CANCELLED_THEN_STOPPED = """
import asyncio, sys, time
from pathlib import Path
from aggregator.workers import Workers
from tests.test_workers import job_started, sleep_with_ballast

marker = Path(sys.argv[1])

async def scenario():
    # One worker: the first job runs; the second waits in the pool's job
    # queue, half written into its pipe (it is larger than the pipe holds);
    # the rest wait their turn and are cancelled with their caller.
    workers = Workers(processes=1)
    jobs = [(marker, bytes(500_000))] * 4
    running = asyncio.ensure_future(workers.map(sleep_with_ballast, jobs, heavy=True))
    await job_started(marker)
    running.cancel()
    try:
        await running
    except asyncio.CancelledError:
        print("cancelled")
    started = time.monotonic()
    workers.terminate()
    print(time.monotonic() - started)

asyncio.run(scenario())
"""


def test_a_stop_after_its_caller_was_cancelled_lets_the_process_exit(tmp_path: Path) -> None:
    started = time.monotonic()
    done = run_alone(CANCELLED_THEN_STOPPED, str(tmp_path / "started"))
    assert done.returncode == 0, done.stderr
    cancelled, seconds = done.stdout.split("\n")[:2]
    assert cancelled == "cancelled"
    assert float(seconds) < 5
    assert time.monotonic() - started < 30  # the exit did not wait for the jobs' minute
    assert "Traceback" not in done.stderr, done.stderr


# -- large jobs: each in a process of its own, one at a time ------------------


def pid_of(_job: object) -> int:
    """A job for the pool: which process ran it."""
    return os.getpid()


def test_each_large_job_runs_in_a_process_of_its_own() -> None:
    # Weights: each job is its own input size.
    jobs = [LARGE_JOB_BYTES, 1, LARGE_JOB_BYTES, 1, 1, 2 * LARGE_JOB_BYTES, 1]

    async def scenario() -> list[int]:
        workers = Workers(processes=2)
        try:
            return await workers.map(pid_of, jobs, heavy=True, weigh=lambda weight: weight)
        finally:
            workers.close()

    pids = asyncio.run(scenario())
    large = [pid for pid, weight in zip(pids, jobs, strict=True) if weight >= LARGE_JOB_BYTES]
    small = {pid for pid, weight in zip(pids, jobs, strict=True) if weight < LARGE_JOB_BYTES}
    assert len(set(large)) == len(large), pids  # a process ends with its large job
    assert not set(large) & small, pids
    assert os.getpid() not in set(pids)
    assert len(small) <= 2  # small jobs share the pool's long-lived processes


def test_small_jobs_are_chunked_within_the_chunk_bytes() -> None:
    weights = [CHUNK_BYTES // 2 + 1] * 3 + [1] * 40 + [CHUNK_BYTES * 3]
    chunks = _chunks(list(range(len(weights))), weights, processes=1)
    assert [index for chunk in chunks for index in chunk] == list(range(len(weights)))
    for chunk in chunks:
        assert len(chunk) == 1 or sum(weights[i] for i in chunk) <= CHUNK_BYTES, chunk
    # And still several per process when they are small: 44 jobs, one process.
    assert max(len(chunk) for chunk in chunks) == len(weights) // 4


def hold_a_lock(path: Path) -> bool:
    """A large job: whether it held the lock for a while, alone."""
    with path.open("a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # another job runs beside this one
        time.sleep(0.2)  # long enough for a job started beside it to try
        return True


def test_large_jobs_run_one_at_a_time(tmp_path: Path) -> None:
    lock = tmp_path / "lock"

    async def scenario() -> list[bool]:
        workers = Workers(processes=2)
        try:
            return await workers.map(
                hold_a_lock, [lock] * 3, heavy=True, weigh=lambda _: LARGE_JOB_BYTES
            )
        finally:
            workers.close()

    assert asyncio.run(scenario()) == [True, True, True]


class CountingExecutor(ThreadPoolExecutor):
    """An executor that counts the jobs handed to it and not yet done."""

    def __init__(self) -> None:
        super().__init__(max_workers=1)
        self.waiting = 0
        self.most_waiting = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.waiting += 1
        self.most_waiting = max(self.most_waiting, self.waiting)
        future = super().submit(fn, *args, **kwargs)
        future.add_done_callback(lambda _: self._done())
        return future

    def _done(self) -> None:
        self.waiting -= 1


def test_a_large_job_is_handed_to_its_pool_only_when_the_one_before_is_done() -> None:
    # A large job handed over early would wait pickled in the pool's queue:
    # a copy of its input, held in this process for the whole job before it.
    large_pool, small = CountingExecutor(), CountingExecutor()

    async def scenario() -> list[int]:
        workers = Workers(processes=2)
        workers._ensure_pool = (  # type: ignore[method-assign]
            lambda *, large=False: large_pool if large else small
        )
        first = workers.map(abs, [-1, -2, -3], heavy=True, weigh=lambda _: LARGE_JOB_BYTES)
        second = workers.map(abs, [-4, -5], heavy=True, weigh=lambda _: LARGE_JOB_BYTES)
        return [result for results in await asyncio.gather(first, second) for result in results]

    try:
        assert asyncio.run(scenario()) == [1, 2, 3, 4, 5]
    finally:
        large_pool.shutdown()
        small.shutdown()
    assert large_pool.most_waiting == 1


def where_it_ran(_job: object) -> tuple[int, bool]:
    """A job for the pool: its process, and whether that process outlives it."""
    return os.getpid(), outlives_its_jobs()


def test_only_the_pools_long_lived_workers_say_they_outlive_their_jobs() -> None:
    async def scenario() -> tuple[list[tuple[int, bool]], ...]:
        workers = Workers(processes=2)
        try:
            in_thread = await workers.map(where_it_ran, [1, 2], heavy=False)
            pooled = await workers.map(where_it_ran, [1, 2, 3], heavy=True)
            alone = await workers.map(where_it_ran, [1, 2], heavy=True, alone=True)
            return in_thread, pooled, alone
        finally:
            workers.close()

    in_thread, pooled, alone = asyncio.run(scenario())
    assert in_thread == [(os.getpid(), False)] * 2
    assert all(outlives for _pid, outlives in pooled), pooled
    assert not any(outlives for _pid, outlives in alone), alone
    # Each job given alone ran in a process of its own, none of the pool's.
    alone_pids = [pid for pid, _outlives in alone]
    assert len(set(alone_pids)) == 2
    assert not set(alone_pids) & {pid for pid, _outlives in pooled}


def niceness(_job: object) -> int:
    """A job for the pool: the niceness of the process (thread) that runs it."""
    return os.nice(0)


def test_worker_processes_yield_the_cores_to_their_owner() -> None:
    async def scenario() -> tuple[list[int], ...]:
        workers = Workers(processes=2)
        try:
            in_thread = await workers.map(niceness, [1], heavy=False)
            pooled = await workers.map(niceness, [1, 2, 3], heavy=True)
            alone = await workers.map(niceness, [1], heavy=True, alone=True)
            return in_thread, pooled, alone
        finally:
            workers.close()

    owner = os.nice(0)
    if owner >= 19:
        pytest.skip("this process runs at the lowest priority already")
    lower = min(owner + WORKER_NICENESS, 19)  # 19: the lowest there is
    in_thread, pooled, alone = asyncio.run(scenario())
    assert in_thread == [owner]  # this process's thread keeps its priority
    assert lower > owner
    assert pooled == [lower] * 3
    assert alone == [lower]


def test_work_goes_to_the_pool_above_its_threshold() -> None:
    assert not Workers().pooled(POOL_MIN_BYTES)
    assert Workers().pooled(POOL_MIN_BYTES + 1)
    assert Workers(min_pool_bytes=0).pooled(1)  # beside a store that waits on a server
    assert not Workers(min_pool_bytes=0).pooled(0)  # no input, nothing to send


def busy_for(seconds: float) -> int:
    """A job: ``seconds`` of CPU in the thread or process that runs it; which process."""
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass
    return os.getpid()


def test_large_work_runs_in_the_thread_until_it_has_cost_thread_seconds() -> None:
    """Rent or buy: until the thread has worked ``thread_seconds`` of CPU,
    large batches run in it as small ones do, and no pool is started; the
    jobs after the one that spends it go to the pool, and so does all large
    work once the pool exists."""

    async def scenario() -> tuple[list[int], ...]:
        workers = Workers(processes=1, thread_seconds=0.2)
        try:
            under = await workers.map(busy_for, [0.01] * 3, heavy=True)
            spending = await workers.map(busy_for, [0.05] * 8, heavy=True)
            assert workers.thread_seconds == 0
            after = await workers.map(busy_for, [0.0] * 2, heavy=True)
            small = await workers.map(busy_for, [0.0], heavy=False)
            return under, spending, after, small
        finally:
            workers.close()

    me = os.getpid()
    under, spending, after, small = asyncio.run(scenario())
    assert under == [me] * 3
    # 0.17 s left: the thread did three or four of the 0.05 s jobs, the pool the rest, in order.
    in_thread = spending.count(me)
    assert 3 <= in_thread <= 4, spending
    assert spending[:in_thread] == [me] * in_thread
    assert len(set(spending[in_thread:])) == 1, spending  # the one worker of the pool
    assert after == [spending[-1]] * 2
    assert small == [me]


def test_work_known_to_be_large_goes_to_the_pool_without_renting() -> None:
    async def scenario() -> tuple[list[int], float]:
        workers = Workers(processes=1, thread_seconds=10.0)
        try:
            done = await workers.map(busy_for, [0.0] * 2, heavy=True, rent=False)
            return done, workers.thread_seconds
        finally:
            workers.close()

    done, left = asyncio.run(scenario())
    assert os.getpid() not in done
    assert left == 10.0


def test_threads_that_run_at_once_share_the_thread_seconds() -> None:
    async def scenario() -> list[list[int]]:
        workers = Workers(processes=1, thread_seconds=0.2)
        try:
            batches = [workers.map(busy_for, [0.05] * 4, heavy=True) for _ in range(3)]
            return list(await asyncio.gather(*batches))
        finally:
            workers.close()

    me = os.getpid()
    done = asyncio.run(scenario())
    # Each thread stops once the three of them have spent 0.2 s in all: some
    # 4 jobs, and at most one more each, begun before the last one ended.
    in_thread = sum(batch.count(me) for batch in done)
    assert 4 <= in_thread <= 7, done
    for batch in done:  # what its thread did, then the pool
        here = batch.count(me)
        assert batch[:here] == [me] * here and me not in batch[here:], done


_FREED = threading.Event()


def double_or_hang(n: int) -> int:
    """A job: twice ``n``, or for a negative ``n`` stuck until the test frees it."""
    if n < 0:
        _FREED.wait(120)
    return 2 * n


def test_a_stuck_job_in_a_thread_is_lost_and_the_rest_go_to_the_pool(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def scenario(workers: Workers) -> list[object]:
        try:
            return await workers.map(
                double_or_hang, [1, -1, 2, 3], heavy=False, lost=lambda n, why: ("lost", n, why)
            )
        finally:
            workers.close()

    workers = Workers(processes=1, job_seconds=0.5)
    _FREED.clear()
    try:
        results = asyncio.run(scenario(workers))
        assert results == [2, ("lost", -1, "ran for more than 0.5 s"), 4, 6]
        assert workers.pooled(1)  # the stray thread holds its share of the lock: no more threads
        assert "a job ran for more than 0.5 s in a thread of this process" in caplog.text
    finally:
        _FREED.set()
    assert wait_until(
        lambda: not any(t.name == "workers-thread" for t in threading.enumerate()), 10
    )


def test_a_job_in_a_thread_raises_as_it_would_alone() -> None:
    with pytest.raises(ValueError, match="invalid literal"):
        asyncio.run(Workers().map(int, ["1", "x"], heavy=False))
    assert asyncio.run(Workers().map(int, ["1", "2"], heavy=False)) == [1, 2]


# A thread stuck for good does not hold the process's exit.
STUCK_THREAD = """
import asyncio, time
from aggregator.workers import Workers

workers = Workers(job_seconds=0.5)
print(asyncio.run(workers.map(time.sleep, [3600.0], heavy=False, lost=lambda job, why: why)))
"""


def test_a_thread_stuck_for_good_does_not_hold_the_exit() -> None:
    done = subprocess.run(
        [sys.executable, "-c", STUCK_THREAD], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "['ran for more than 0.5 s']"


def test_a_job_whose_pool_lost_a_worker_the_pool_cannot_see_is_broken_at_once() -> None:
    """A worker killed while sending its result leaves the pool's manager
    thread waiting for good (see workers._watched): the job's wait looks at
    the workers itself, and fails as broken instead of waiting the limit."""
    from concurrent.futures import BrokenExecutor
    from types import SimpleNamespace
    from typing import Any, cast

    from aggregator.workers import WATCH_SECONDS, _watched

    pool = SimpleNamespace(
        _processes={1: SimpleNamespace(exitcode=None), 2: SimpleNamespace(exitcode=None)}
    )

    async def scenario() -> tuple[float, bool]:
        loop = asyncio.get_running_loop()
        running: asyncio.Future[int] = loop.create_future()  # never answered
        loop.call_later(0.1, lambda: setattr(pool._processes[2], "exitcode", -9))
        started = loop.time()
        with pytest.raises(BrokenExecutor):
            await _watched(cast(Any, pool), running, 300)
        return loop.time() - started, running.cancelled()

    waited, cancelled = asyncio.run(scenario())
    assert waited < 2 * WATCH_SECONDS + 0.5 and not cancelled


def test_a_job_past_its_time_limit_is_cancelled_even_while_watched() -> None:
    from types import SimpleNamespace
    from typing import Any, cast

    from aggregator.workers import _watched

    pool = SimpleNamespace(_processes={1: SimpleNamespace(exitcode=0)})  # finished: no death

    async def scenario() -> bool:
        running: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        with pytest.raises(TimeoutError):
            await _watched(cast(Any, pool), running, 0.2)
        return running.cancelled()

    assert asyncio.run(scenario())
