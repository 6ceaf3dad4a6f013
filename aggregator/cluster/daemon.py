"""``aggregate`` (the daemon) with a PostgreSQL store: tick, run jobs, serve.

It is a worker (:mod:`.worker`) that also serves the published feed over
HTTP.  Any number may run, on any machines: each one's tick claims due
sources atomically, so none is polled twice for one due time, and each one
serves the same documents: whichever node publishes stores the files in the
database, and every daemon copies the latest into its own output directory
(byte for byte, so every daemon's ETag for them is the same).

A daemon queues a publish as it starts, unless one waits
(:attr:`.worker.Worker.publish_first`), as the SQLite daemon
publishes as it starts; until its first copy it answers 503 with
Retry-After for a file it does not have (see :func:`aggregator.serve.create_app`).
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable, Mapping
from contextlib import suppress
from dataclasses import replace
from pathlib import PurePosixPath

from ..config import Config
from ..daemon import serving, sources_status
from ..errors import AggregatorError, StoreError
from ..publish.writer import write_if_changed
from ..publishing import sources_opml
from ..store import Store, open_store
from .worker import Worker

log = logging.getLogger(__name__)

_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Seconds between two looks for the files published, until they are first
# found (then every cluster.tick): a fresh cluster publishes its first, empty
# feeds about a second after a daemon starts (Worker.publish_first).
FIRST_MIRROR_EVERY = 1.0


def run_cluster_daemon(
    config: Config, *, stop_grace: float, reload: Callable[[], Config] | None = None
) -> int:
    return asyncio.run(ClusterDaemon(config, stop_grace=stop_grace, reload=reload).run())


class ClusterDaemon:
    def __init__(
        self, config: Config, *, stop_grace: float, reload: Callable[[], Config] | None = None
    ):
        self.config = config
        self._reload = reload
        self.stop_grace = stop_grace
        self._store: Store | None = None
        self._mirrored: str | None = None
        self._worker: Worker | None = None

    async def run(self) -> int:
        # The store this process reads for /status, OPML and the mirror; the
        # worker has its own connection, which it may lose and reopen.
        store = self._store = open_store(self.config.store)
        server = serving(self)
        loop = asyncio.get_running_loop()
        try:
            await server.start(self.config.serve.host, self.config.serve.port)
            config = self.config
            if config.configured_base_url is None:
                config = replace(config, serve=replace(config.serve, port=server.port))
            worker = self._worker = Worker(
                config,
                config.cluster.concurrency,
                self.stop_grace,
                signals=False,
                reload=self._reload,
                started_with=self.config,
                publish_first=True,
            )
            for signum in _STOP_SIGNALS:
                loop.add_signal_handler(signum, worker.stopping.set)
            loop.add_signal_handler(signal.SIGHUP, self._hang_up)
            log.warning(
                "serving %s on http://%s:%d/ (%d sources, jobs from %s)",
                config.title,
                config.serve.host,
                server.port,
                len(config.sources),
                config.store,
            )
            mirror = asyncio.create_task(self._keep_mirroring(worker.stopping))
            try:
                await worker.run()
            finally:
                mirror.cancel()
                with suppress(asyncio.CancelledError, AggregatorError):
                    await mirror
        finally:
            await server.stop()
            for signum in (*_STOP_SIGNALS, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            with suppress(StoreError):
                (self._store or store).close()
        return 0

    def _hang_up(self) -> None:
        """SIGHUP: the worker reads the configuration again; /status and OPML follow it."""
        worker = self._worker
        assert worker is not None
        worker.hang_up()
        self.config = replace(worker.config, serve=self.config.serve)

    def healthy(self) -> bool:
        worker = self._worker
        return worker is not None and worker.running and not worker.stopping.is_set()

    def status(self) -> Mapping[str, object]:
        assert self._store is not None
        return sources_status(self.config, self._store, self.healthy())

    def opml(self) -> bytes:
        assert self._store is not None
        return sources_opml(self.config, self._store)

    def published(self) -> bool:
        """Whether this daemon has copied the files some node published: until
        then a file missing from its output directory may be there in a moment
        (see create_app)."""
        return self._mirrored is not None

    # -- the published files, from the store ---------------------------------

    async def _keep_mirroring(self, stopping: asyncio.Event) -> None:
        while not stopping.is_set():
            try:
                self.mirror()
            except StoreError as error:  # the connection is gone: a new one next time
                log.warning("%s", error)
                self._reopen()
            except AggregatorError as error:  # the disk: next time
                log.warning("%s", error)
            # Often until a first copy: meanwhile a file missing is a 503.
            every = self.config.cluster.tick
            if self._mirrored is None:
                every = min(every, FIRST_MIRROR_EVERY)
            with suppress(TimeoutError):
                await asyncio.wait_for(stopping.wait(), every)

    def _reopen(self) -> None:
        with suppress(StoreError):
            if self._store is not None:
                self._store.close()
            self._store = open_store(self.config.store)

    def mirror(self) -> bool:
        """Copy the files last published (by any node) into this node's output
        directory, if they changed since the last copy; True if they did."""
        assert self._store is not None
        state, files = self._store.published_files(unless=self._mirrored)
        if state is None or state == self._mirrored:
            return False
        out = self.config.output.dir
        for name, data in files.items():
            relative = PurePosixPath(name)
            if relative.is_absolute() or ".." in relative.parts:
                continue  # written by this program; never outside the output directory
            path = out.joinpath(*relative.parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            write_if_changed(path, data)
        self._mirrored = state
        return True
