"""One process's share of a cluster: the jobs it runs and the tick it keeps.

    tick (every few seconds, in every daemon and worker)
        store.claim_due(now)            due sources, each claimed by one tick only
        -> queue.defer_polls            poll jobs of up to POLLS_PER_JOB sources that share
                                        their host slot's lock (poll_lock, poll_batches)
        -> queue.retry_stalled          jobs of workers that stopped sending heartbeats
    poll job (any worker)
        superseded?  (decide.superseded: polled since, or gone) -> left out
        -> Pipeline.update(sources)     fetch (one at a time), parse, dedup, store
        -> queue.defer_publish          when items changed, unless one is waiting
    publish job (one at a time, the "publish" lock)
        -> Pipeline.publish_if_changed  summarize the latest items, write every output

Each job is at-least-once: a worker killed mid-job leaves it "doing" until
its heartbeat is stale, then a tick sends it back to the queue.  Running it
again stores nothing twice (the store's writes are idempotent, and a
scheduled poll that finds its source polled since does nothing).

A poll or publish run on behalf of ``aggregate --once`` carries the run's id;
its result is kept in the store under that id, for the process that asked:
each source's in the transaction that stores its poll, so that a job tried
again after storing some of its sources polls only the others.
"""

from __future__ import annotations

import asyncio
import json
import logging
import zlib
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import urlsplit

from ..config import Config, SourceConfig
from ..decide import superseded
from ..errors import StoreError
from ..pipeline import Pipeline, utc_now
from ..results import PassReport, SourceResult
from ..store import Store
from .queue import JobQueue, PollBatch

log = logging.getLogger(__name__)

_T = TypeVar("_T")

# A claimed source is claimed again after this, if its poll never ended (the
# job was lost before it was queued); a duplicate poll finds it superseded.
CLAIM_LEASE = timedelta(minutes=10)
# Sources claimed per tick, at most: the rest wait for the next tick.
CLAIMS_PER_TICK = 1000
# Sources one poll job polls at most, of those that share a lock (a host's
# slot).  A job costs some round trips to the queue and a commit of its
# own besides its polls' work: a warm pass over PostgreSQL, where nearly
# every poll is a 304, was mostly that, one source a job.  More per job
# and a worker killed under one has more of them polled again, and a job
# that waits for a slow server keeps the rest of its batch waiting.
POLLS_PER_JOB = 16
# Publishing waits this long after a change, so that a burst of polls
# finishing together is published once.
PUBLISH_DELAY_SECONDS = 1.0
# --once runs whose liveness a node keeps at most (a few run at once).
_RUNS_KEPT = 16


def poll_lock(source: SourceConfig, per_host: int) -> str:
    """The lock of every poll of ``source``: one of ``per_host`` slots of its host.

    A source always gets the same slot, so that two polls of it never run
    at once anywhere; the host's sources share ``per_host`` slots, so that
    no more than ``fetch.per_host`` polls of one host run at once in the
    whole cluster, as in one process.
    """
    host = (urlsplit(source.url).hostname or "") if source.url else "local files"
    slot = zlib.crc32(source.name.encode()) % per_host
    return f"host:{host}:{slot}"


def poll_batches(
    sources: Iterable[SourceConfig], per_host: int, size: int = POLLS_PER_JOB
) -> list[PollBatch]:
    """The poll jobs of ``sources``: those of one lock (see :func:`poll_lock`)
    together, ``size`` at most a job, in the order of their first source.

    A job polls its sources one after another, under its lock: never more
    than ``per_host`` polls of one host at once in the cluster, as with a
    job per source."""
    by_lock: dict[str, list[str]] = {}
    for source in sources:
        by_lock.setdefault(poll_lock(source, per_host), []).append(source.name)
    return [
        PollBatch(lock, tuple(names[start : start + size]))
        for lock, names in by_lock.items()
        for start in range(0, len(names), size)
    ]


RUN_PREFIX = "run:"


def run_key(run: str, name: str) -> str:
    """Where a run's result for ``name`` is kept (meta key)."""
    return f"{RUN_PREFIX}{run}:{name}"


class RunRecords:
    """A ``--once`` run's result for each source its jobs poll, kept in the
    store for the process that asked (see :func:`run_key`): each recorded by
    :meth:`.storing.PollStorer.store_batch` in the transaction that stores
    the poll, so that the two are stored together or not at all."""

    def __init__(self, store: Store, run: str):
        self.store = store
        self.run = run
        self._parsed: dict[str, bool] = {}

    def __call__(self, result: SourceResult, parsed: bool) -> None:
        """Record ``result`` (a :data:`.storing.StoredResult`)."""
        self._parsed[result.source] = parsed
        values = {**result.to_record(), "parsed": int(parsed)}
        self.store.set_meta(run_key(self.run, result.source), json.dumps(values))

    def recorded(self) -> dict[str, SourceResult]:
        """The run's results so far (this job's earlier attempts' among them), by source."""
        prefix = run_key(self.run, "")
        results = {}
        for key, record in self.store.read_meta(prefix).items():
            result, parsed = result_of(record)
            results[key[len(prefix) :]] = result
            self._parsed.setdefault(result.source, bool(parsed))
        return results

    def add_pages(self, results: Iterable[SourceResult]) -> None:
        """Record again the results whose articles were fetched (full text),
        which counts their pages once they are stored."""
        paged = [result for result in results if result.pages or result.pages_failed]
        if paged:
            with self.store.transaction():
                for result in paged:
                    self(result, self._parsed.get(result.source, False))


class Node:
    """The jobs and the tick of one process, over its store, queue and pipeline."""

    def __init__(
        self,
        config: Config,
        store: Store,
        queue: JobQueue,
        pipeline: Pipeline,
        *,
        clock: Callable[[], datetime] = utc_now,
    ):
        self.config = config
        self.store = store
        self.queue = queue
        self.pipeline = pipeline
        self.timing = config.cluster
        self.clock = clock
        self._sources = {s.name: s for s in config.polled_sources}  # paused ones: never polled
        # Set when the store fails under a job: the process reconnects.
        self.store_failed = asyncio.Event()
        # Set when this process's --once is interrupted: its poll jobs under
        # way stop, and are retried elsewhere (or dropped with the run).
        self.interrupted = asyncio.Event()
        # --once runs last seen alive (see _run_alive): run -> when.
        self._runs_alive: dict[str, datetime] = {}
        # The --once run this process is, if it is one: alive while it runs,
        # whatever its heartbeat says (a loop held up past the stall timeout
        # must not drop its own polls).
        self.own_run: str | None = None

    def reconfigure(self, config: Config) -> None:
        """Run the next jobs and ticks under ``config`` (a SIGHUP's): a poll of a
        source it no longer lists is dropped, one it adds is polled when due."""
        self.pipeline.reconfigure(config)
        self.config = config
        self._sources = {s.name: s for s in config.polled_sources}

    # -- jobs -------------------------------------------------------------

    async def poll(
        self, names: Sequence[str], scheduled: bool, run: str | None, retried: bool = False
    ) -> None:
        """A poll job: ``names`` polled (in one process, one after another);
        ``retried``: an earlier attempt of this job failed (or its worker
        stopped), after storing some of them perhaps."""
        try:
            await self._poll(names, scheduled, run, retried)
        except StoreError:
            self.store_failed.set()
            raise

    async def _poll(
        self, names: Sequence[str], scheduled: bool, run: str | None, retried: bool
    ) -> None:
        sources = []
        for name in names:
            source = self._sources.get(name)
            if source is None:
                # Removed from this node's configuration since it was queued.
                log.info("%s: not in the configuration; poll dropped", name)
            else:
                sources.append(source)
        if not sources:
            return
        now = self.clock()
        if run is not None and not await self._run_alive(run, now):
            # Its --once was stopped outright: no one would read the result.
            for source in sources:
                log.info(
                    "%s: the --once run that queued this poll has ended; poll dropped", source.name
                )
            return
        if scheduled:
            states = self.store.source_states(counts=False, names=[s.name for s in sources])
            due = {state.name for state in states if not superseded(state, now)}
            for source in sources:
                if source.name not in due:
                    log.debug("%s: polled since this poll was queued; nothing to do", source.name)
            sources = [source for source in sources if source.name in due]
            if not sources:
                return
        records = None if run is None else RunRecords(self.store, run)
        if records is not None and retried:
            sources = await self._after_earlier_attempt(records, sources, now)
            if not sources:
                return
        # One at a time: the job holds one of its host's per_host slots.
        report = await self._unless_interrupted(
            self.pipeline.update(sources, now, fetch_concurrency=1, on_stored=records)
        )
        for result in report.results:
            if result.error is not None:
                log.warning("%s", result.error)
            else:
                log.info("%s", result.line())
        if records is not None:
            records.add_pages(report.results)
        elif report.output_changed and not await self.queue.publish_waiting():
            await self.queue.defer_publish(delay=PUBLISH_DELAY_SECONDS)

    async def _after_earlier_attempt(
        self, records: RunRecords, sources: list[SourceConfig], now: datetime
    ) -> list[SourceConfig]:
        """Those of a retried job's ``sources`` still to poll.

        What an earlier attempt stored, it recorded with it: that result
        stands (polled again, a source that had new items would say it had
        none).  The pages those sources want are fetched now: the attempt
        may have failed before it fetched them."""
        done = records.recorded()
        stored = [source for source in sources if source.name in done]
        for source in stored:
            log.info("%s: polled by an earlier attempt of this job", source.name)
        if stored:
            earlier = PassReport()
            for source in stored:
                earlier.add(done[source.name])
            await self._unless_interrupted(self.pipeline.full_text(stored, earlier, now))
            records.add_pages(earlier.results)
        return [source for source in sources if source.name not in done]

    async def _unless_interrupted(self, polling: Awaitable[_T]) -> _T:
        """What ``polling`` gives; cancelled when this process's --once is
        interrupted, and the job with it (procrastinate retries it).  A job
        polls its sources one after another: waiting for the rest of them
        would hold up the interrupted run for as many polls."""
        work = asyncio.ensure_future(polling)
        stop = asyncio.ensure_future(self.interrupted.wait())
        try:
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            # The job itself cancelled (its worker stopping after the grace
            # period, or an abort): its polls stop with it, rather than go on
            # fetching and storing behind a worker that closes its store.
            await _cancelled(work)
            raise
        finally:
            stop.cancel()
        if not work.done():
            await _cancelled(work)
            raise asyncio.CancelledError("the --once run was interrupted")
        return work.result()

    async def _run_alive(self, run: str, now: datetime) -> bool:
        """Whether the ``--once`` run ``run`` still waits for its jobs.  Asked of
        the queue at most every quarter of the stall timeout per run: a
        statement per poll was a seventh of a warm pass."""
        if run == self.own_run:
            return True
        seen = self._runs_alive.get(run)
        if seen is not None and now - seen < timedelta(seconds=self.timing.stall_timeout / 4):
            return True
        if not await self.queue.live_runs([run], self.timing.stall_timeout):
            self._runs_alive.pop(run, None)
            return False
        if len(self._runs_alive) >= _RUNS_KEPT:  # runs come and go: forget the oldest
            del self._runs_alive[min(self._runs_alive, key=self._runs_alive.__getitem__)]
        self._runs_alive[run] = now
        return True

    async def publish(self, run: str | None) -> None:
        try:
            summarized, report = await self.pipeline.publish_if_changed()
        except StoreError:
            self.store_failed.set()
            raise
        written = report.written if report is not None else None
        if report is not None:
            self._share(report.written + report.unchanged)
        if written:
            log.info("published %s", ", ".join(written))
        if run is not None:
            with self.store.transaction():
                outcome = {"written": written, "summarized": summarized}
                self.store.set_meta(run_key(run, "/published"), json.dumps(outcome))

    def _share(self, names: list[str]) -> None:
        """Keep the files just published in the store, for every daemon to serve
        (:meth:`.daemon.ClusterDaemon.mirror`): this node's output directory is
        not theirs."""
        out = self.config.output.dir
        files = {name: out.joinpath(*name.split("/")).read_bytes() for name in names}
        state = self.store.get_meta("published")
        if state is not None:
            with self.store.transaction():
                self.store.save_published(state, files)

    # -- the tick -----------------------------------------------------------

    async def tick(self) -> int:
        """Queue a poll of every source due, and retry the jobs of stopped
        workers; how many polls were queued."""
        now = self.clock()
        with self.store.transaction():
            due = self.store.claim_due(now, lease=CLAIM_LEASE, limit=CLAIMS_PER_TICK)
        await self.queue.defer_polls(self.poll_batches(due), scheduled=True)
        await self.queue.retry_stalled(self.timing.stall_timeout)
        return len(due)

    def poll_batches(self, names: Iterable[str]) -> list[PollBatch]:
        """The poll jobs of those of ``names`` configured here (see :func:`poll_batches`)."""
        return poll_batches(
            (self._sources[name] for name in names if name in self._sources),
            self.config.fetch.per_host,
        )

    async def keep_ticking(self) -> None:
        """Tick every ``timing.tick`` seconds until cancelled; a store failure ends it."""
        while True:
            try:
                await self.tick()
            except StoreError:
                self.store_failed.set()
                raise
            await asyncio.sleep(self.timing.tick)


async def _cancelled(work: asyncio.Future[Any]) -> None:
    """Cancel ``work`` and wait for it to end; what it raised is retrieved
    (the job raises its own cancellation instead), never logged as lost."""
    work.cancel()
    await asyncio.wait({work})
    if not work.cancelled():
        work.exception()


def result_of(record: str) -> tuple[SourceResult, int]:
    """A run's stored result for one source, and whether its bytes were parsed."""
    values = json.loads(record)
    return SourceResult.from_record(values), int(values.get("parsed", 0))
