"""The worker pool: stopped at once when asked, and never outliving the process that owns it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aggregator.workers import Workers
from tests.processes import Process, tree

# A process that starts a pool of two workers and keeps them busy; a `-c`
# script, so that the workers do not import it as their __main__.
BUSY_POOL = """
import asyncio, time
from aggregator.workers import Workers

asyncio.run(Workers(processes=2).map(time.sleep, [60.0] * 4, heavy=True))
"""

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")


def wait_for(condition: object, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return True
        time.sleep(0.05)
    return False


def test_workers_die_with_a_killed_parent() -> None:
    owner = subprocess.Popen([sys.executable, "-c", BUSY_POOL])
    started: list[Process] = []
    try:
        # The resource tracker, the fork server and its two workers.
        assert wait_for(lambda: len(tree(owner.pid)) >= 5, 30), tree(owner.pid)
        started = [p for p in tree(owner.pid) if p.pid != owner.pid]
        owner.send_signal(signal.SIGKILL)
        owner.wait()
        assert wait_for(lambda: not any(p.running() for p in started), 10), [
            p for p in started if p.running()
        ]
    finally:
        if owner.poll() is None:
            owner.kill()
            owner.wait()
        for process in started:  # left behind when the test fails
            if process.running():
                os.kill(process.pid, signal.SIGKILL)


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
