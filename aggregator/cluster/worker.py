"""``aggregate worker``: run whatever jobs are due, until SIGTERM or SIGINT.

Start any number, on any number of machines, with the same configuration
(or at least the same ``store:``).  Each one ticks (queues the polls that are
due) and runs jobs, ``--concurrency`` at a time.

The first connection failing is the command's error (one line, exit 1): a
wrong URL should not be retried forever.  Once running, a lost connection is
logged and the worker reconnects, waiting twice as long each time (1 s to
60 s); the jobs it was running are retried by the others (or by itself,
once back) when its heartbeat goes stale.

SIGHUP reads the configuration again, as the SQLite daemon does (see
:func:`aggregator.config.reloaded`): the jobs after it run under the new
one (a source added is polled when due, one removed is not polled again),
and a publish is queued.  Send it to every daemon and worker: each process
reads its own copy of the file.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Callable
from contextlib import suppress

from ..config import Config, load_config, read_again
from ..errors import StoreError
from ..pipeline import Pipeline
from ..store import Store, open_store
from .node import Node
from .queue import JobQueue, quiet_lost_job_updates

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_FIRST_BACKOFF, _MAX_BACKOFF = 1.0, 60.0


def run_worker(
    config: Config,
    *,
    concurrency: int,
    stop_grace: float,
    reload: Callable[[], Config] | None = None,
) -> int:
    return asyncio.run(Worker(config, concurrency, stop_grace, reload=reload).run())


class Worker:
    def __init__(
        self,
        config: Config,
        concurrency: int,
        stop_grace: float,
        *,
        signals: bool = True,
        reload: Callable[[], Config] | None = None,
        started_with: Config | None = None,
        publish_first: bool = False,
    ):
        self.config = config
        # What SIGHUP compares the file with (the daemon's, before its port was known).
        self._started_with = started_with or config
        self._reload = reload or (lambda: load_config(config.path))
        self._node: Node | None = None
        self._after_reload: set[asyncio.Task[None]] = set()
        self.signals = signals  # False: the caller stops it (sets ``stopping``)
        # A daemon's: queue a publish on connecting, for the daemon to serve
        # (see _publish_first).
        self.publish_first = publish_first
        self.running = False  # connected and running jobs
        self.concurrency = concurrency
        self.stop_grace = stop_grace
        self.timing = config.cluster
        self.stopping = asyncio.Event()
        self.name = f"{socket.gethostname()}:{os.getpid()}"

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        quiet_lost_job_updates(loop)
        if self.signals:
            for signum in _STOP_SIGNALS:
                loop.add_signal_handler(signum, self.stopping.set)
            loop.add_signal_handler(signal.SIGHUP, self.hang_up)
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
                node = self._node = Node(self.config, store, queue, pipeline)
                queue.register(poll=node.poll, publish=node.publish)
                log.warning("worker %s: running jobs from %s", self.name, self.config.store)
                if self.publish_first:
                    await self._publish_first(store, queue)
                await self._until_stopped(node, queue)
        finally:
            self._node = None
            with suppress(StoreError):
                store.close()

    def hang_up(self) -> None:
        """SIGHUP: read the configuration again; the next jobs run under it."""
        config = read_again(self.config, self._started_with, self._reload)
        if config is None:
            return
        self.config = config
        node = self._node
        if node is not None:  # else: the next connection's node is made with it
            node.reconfigure(config)
            task = asyncio.ensure_future(self._publish_after_reload(node))
            self._after_reload.add(task)
            task.add_done_callback(self._after_reload.discard)
        log.warning("SIGHUP: configuration reloaded: %d sources polled", len(config.polled_sources))

    async def _publish_after_reload(self, node: Node) -> None:
        # Sources gone or back change what is published.
        try:
            await node.queue.defer_publish()
        except Exception as error:  # the database: the next change publishes
            log.warning("SIGHUP: no publish queued: %s", error)

    async def _publish_first(self, store: Store, queue: JobQueue) -> None:
        """Queue a publish as the daemon connects, unless one is waiting, as the
        SQLite daemon publishes as it starts.  A fresh cluster would otherwise
        publish only after its first polls that change something (none, if
        every source fails), and its daemons have no feed to serve: a
        publish of no items makes feeds without entries, valid ones.  And a
        daemon restarted after feeds.yaml's title or sections were edited, or
        the program upgraded, publishes what they change; where nothing
        changed, the publish writes nothing (Publisher.publish_if_changed)."""
        try:
            if not await queue.publish_waiting():
                await queue.defer_publish()
                never = store.published_state() is None
                log.info(
                    "worker %s: publish queued%s",
                    self.name,
                    " (nothing published yet)" if never else "",
                )
        except Exception as error:  # the database: the first change publishes
            log.warning("worker %s: no first publish queued: %s", self.name, error)

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
