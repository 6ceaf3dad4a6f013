"""``aggregate worker``: run whatever jobs are due, until SIGTERM or SIGINT.

Start any number, on any number of machines, with the same configuration
(or at least the same ``store:``).  Each one ticks (queues the polls that are
due) and runs jobs, ``--concurrency`` at a time.

The first connection failing is the command's error (one line, exit 1): a
wrong URL should not be retried forever.  Once running, a lost connection is
logged and the worker reconnects, waiting twice as long each time (1 s to
60 s); the jobs it was running are retried by the others (or by itself,
once back) when its heartbeat goes stale.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from contextlib import suppress

from ..config import Config
from ..errors import StoreError
from ..pipeline import Pipeline
from ..store import open_store
from .node import Node
from .queue import JobQueue

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_FIRST_BACKOFF, _MAX_BACKOFF = 1.0, 60.0


def run_worker(
    config: Config,
    *,
    concurrency: int,
    stop_grace: float,
) -> int:
    return asyncio.run(Worker(config, concurrency, stop_grace).run())


class Worker:
    def __init__(
        self, config: Config, concurrency: int, stop_grace: float, *, signals: bool = True
    ):
        self.config = config
        self.signals = signals  # False: the caller stops it (sets ``stopping``)
        self.running = False  # connected and running jobs
        self.concurrency = concurrency
        self.stop_grace = stop_grace
        self.timing = config.cluster
        self.stopping = asyncio.Event()
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        if self.signals:
            for signum in _STOP_SIGNALS:
                loop.add_signal_handler(signum, self.stopping.set)
            loop.add_signal_handler(signal.SIGHUP, lambda: log.warning("SIGHUP: ignored"))
        try:
            await self._serve()  # the first failure is the command's error
            backoff = _FIRST_BACKOFF
            while not self.stopping.is_set():
                log.warning("worker %s: reconnecting in %g s", self.name, backoff)
                with suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), backoff)
                if self.stopping.is_set():
                    break
                try:
                    await self._serve()
                    backoff = _FIRST_BACKOFF
                except StoreError as error:
                    log.warning("worker %s: %s", self.name, error)
                    backoff = min(backoff * 2, _MAX_BACKOFF)
        finally:
            if self.signals:
                for signum in (*_STOP_SIGNALS, signal.SIGHUP):
                    loop.remove_signal_handler(signum)
        return 0

    async def _serve(self) -> None:
        """Run jobs and ticks until stopped (returns) or the database fails
        once running (logs it and returns, to reconnect)."""
        store = open_store(self.config.store)
        try:
            async with (
                JobQueue.of(self.config) as queue,
                Pipeline(self.config, store) as pipeline,
            ):
                node = Node(self.config, store, queue, pipeline)
                queue.register(poll=node.poll, publish=node.publish)
                log.warning("worker %s: running jobs from %s", self.name, self.config.store)
                await self._until_stopped(node, queue)
        finally:
            with suppress(StoreError):
                store.close()

    async def _until_stopped(self, node: Node, queue: JobQueue) -> None:
        jobs = asyncio.create_task(
            queue.run_worker(
                concurrency=self.concurrency,
                wait=True,
                name=self.name,
                stall_timeout=self.timing.stall_timeout,
                stop_grace=self.stop_grace,
            )
        )
        ticks = asyncio.create_task(node.keep_ticking())
        stop = asyncio.create_task(self.stopping.wait())
        failed = asyncio.create_task(node.store_failed.wait())
        self.running = True
        try:
            await asyncio.wait({jobs, ticks, stop, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.running = False
            for task in (ticks, stop, failed):
                task.cancel()
            jobs.cancel()  # procrastinate stops gracefully: jobs under way may finish
            results = await asyncio.gather(jobs, ticks, return_exceptions=True)
        for result in results:
            if isinstance(result, StoreError):
                log.warning("worker %s: %s", self.name, result)
            elif isinstance(result, BaseException) and not isinstance(
                result, asyncio.CancelledError
            ):
                raise result
        if node.store_failed.is_set() and not self.stopping.is_set():
            log.warning("worker %s: the database failed under a job", self.name)
