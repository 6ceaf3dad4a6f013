"""The daemon: every source polled on its own schedule, the merged feed served.

One asyncio event loop runs three things: an APScheduler 3.x
``AsyncIOScheduler`` with one job per source, the HTTP server feed readers
subscribe to, and a debounced publish job.  The store is used from the loop's
thread only, so no two jobs write at once; CPU work goes to worker threads.

Each source's job has an interval trigger (the fallback if anything goes
wrong), and after every poll its next run time is set to what
:func:`aggregator.schedule.next_due` decided from the response: cache hints,
back-off, Retry-After.  ``max_instances=1`` keeps one fetch per source at a
time; ``coalesce`` folds missed runs into one.

On SIGTERM or SIGINT it stops taking new work, lets the polls and publishing
under way finish for up to ``stop_grace`` seconds (a fetch that answers in
that time is stored), then cancels what is left (every store write is one
transaction, so a cancelled poll leaves nothing half-written) and stops the
worker processes that were parsing for it, publishes, and returns 0.  The
final publish has what is left of the same grace: past it, it is abandoned
(each file is replaced whole, and the next start publishes what is stored).
A second SIGTERM or SIGINT during the grace ends it at once: what runs is
cancelled and nothing more is published.
SIGHUP re-reads the configuration (``systemctl reload``): sources added,
removed, paused or changed take effect at once (their jobs are added, removed
or replaced; a publish follows, so a removed source leaves the feeds), and so
do the other settings but those made at start (see
:func:`aggregator.config.reloaded`), which are logged as needing a restart.
An invalid file is logged as one error line and the running configuration kept.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from .config import Config, SourceConfig, load_config, read_again
from .errors import PublishError, StoreError
from .models import SourceState
from .pipeline import Pipeline, utc_now
from .publishing import sources_opml
from .redact import redact_text, redact_url
from .schedule import Timing, first_due, is_failing
from .serve import Limits, Server, create_app
from .store import Store, open_store
from .websub import feed_link_header

log = logging.getLogger(__name__)

# Publishing waits this long after a change, so a burst of sources finishing
# together is published once; changes meanwhile do not postpone it further
# (see Daemon.request_publish).
PUBLISH_DELAY = timedelta(seconds=1)
# How long in-flight polls may finish after a stop signal before they are cancelled.
STOP_GRACE_SECONDS = 3.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
# Descriptors the server leaves to the rest of the daemon (the store, worker
# processes' pipes, logs) besides one per outgoing fetch: the server's
# connections get what the descriptor limit leaves over.
DESCRIPTORS_KEPT = 64


class Daemon:
    def __init__(
        self,
        config: Config,
        *,
        stop_grace: float = STOP_GRACE_SECONDS,
        reload: Callable[[], Config] | None = None,
    ):
        self.config = config
        self._started_with = config
        # Reads the configuration again, with the command line's overrides.
        self._reload = reload or (lambda: load_config(config.path))
        self.stop_grace = stop_grace
        self.stopping = asyncio.Event()
        self._hurry = asyncio.Event()  # a second stop signal: no more grace
        self._inflight: set[asyncio.Task[object]] = set()
        self._publish_lock = asyncio.Lock()
        # Publishes started but waiting for the lock: they have not read the store yet.
        self._publishes_waiting = 0
        self._store: Store | None = None
        self._pipeline: Pipeline | None = None
        self._scheduler: AsyncIOScheduler | None = None
        self._published = False  # since this start (see published())

    async def run(self) -> int:
        loop = asyncio.get_running_loop()
        for signum in _STOP_SIGNALS:
            loop.add_signal_handler(signum, self.stop)
        loop.add_signal_handler(signal.SIGHUP, self._hang_up)
        store = self._store = open_store(self.config.store)
        server = serving(self)
        try:
            await server.start(self.config.serve.host, self.config.serve.port)
            if self.config.configured_base_url is None:
                # Port 0 picked a free port: the self links must name it.
                self.config = replace(
                    self.config, serve=replace(self.config.serve, port=server.port)
                )
            async with Pipeline(self.config, store) as pipeline:
                self._pipeline = pipeline
                scheduler = self._scheduler = _new_scheduler(loop)
                self._schedule_sources(scheduler, store)
                scheduler.start()
                # Publish what is stored at once: a restart must not leave
                # readers waiting for the first change.
                self.request_publish(delay=timedelta(0))
                log.warning(
                    "serving %s on http://%s:%d/ (%d sources)",
                    self.config.title,
                    self.config.serve.host,
                    server.port,
                    len(self.config.sources),
                )
                try:
                    await self.stopping.wait()
                finally:
                    log.warning("stopping")
                    deadline = loop.time() + self.stop_grace
                    # Paused, not shut down: shutting down APScheduler's
                    # asyncio executor cancels the jobs running in it at once.
                    scheduler.pause()
                    if await self._finish_inflight(deadline):
                        # What the workers were parsing for them is abandoned too.
                        pipeline.stop_workers()
                    scheduler.shutdown(wait=False)
                    if not await self._final_publish(deadline):
                        pipeline.stop_workers()
        finally:
            await server.stop()
            for signum in (*_STOP_SIGNALS, signal.SIGHUP):
                loop.remove_signal_handler(signum)
            store.close()
        return 0

    def stop(self) -> None:
        if self.stopping.is_set() and not self._hurry.is_set():
            log.warning("stopping now: a second stop signal")
            self._hurry.set()
        self.stopping.set()

    def _hang_up(self) -> None:
        """SIGHUP: read the configuration again and apply it (see the module's docstring)."""
        scheduler, pipeline = self._scheduler, self._pipeline
        if scheduler is None or pipeline is None or self.stopping.is_set():
            log.warning("SIGHUP: ignored while starting or stopping")
            return
        config = read_again(self.config, self._started_with, self._reload)
        if config is None:
            return
        before = {s.name: s for s in self.config.polled_sources}
        after = {s.name: s for s in config.polled_sources}
        self.config = config
        pipeline.reconfigure(config)  # rows for new sources, before they are scheduled
        for name in before.keys() - after.keys():
            job = scheduler.get_job(_job_id(name))
            if job is not None:
                job.remove()
        changed = [s for name, s in after.items() if before.get(name) != s]
        states = {s.name: s for s in self._store.source_states(counts=False)} if self._store else {}
        now = utc_now()
        for source in changed:
            job = scheduler.get_job(_job_id(source.name))
            if job is not None:
                job.remove()
            if source.name in states:
                self._schedule(scheduler, source, states[source.name], now)
        # Sources gone or back change what is published: publish now.
        self.request_publish(delay=timedelta(0))
        added = sorted(after.keys() - before.keys())
        removed = sorted(before.keys() - after.keys())
        log.warning(
            "SIGHUP: configuration reloaded: %d sources polled (%d added, %d stopped, %d changed)",
            len(after),
            len(added),
            len(removed),
            len(changed) - len(added),
        )

    def healthy(self) -> bool:
        return (
            self._scheduler is not None and self._scheduler.running and not self.stopping.is_set()
        )

    # -- scheduling ---------------------------------------------------------

    def _timing(self, source: SourceConfig) -> Timing:
        return Timing(source.interval, self.config.min_interval, self.config.max_interval)

    def _schedule_sources(self, scheduler: AsyncIOScheduler, store: Store) -> None:
        states = {s.name: s for s in store.source_states()}
        now = utc_now()
        for source in self.config.polled_sources:
            self._schedule(scheduler, source, states[source.name], now)

    def _schedule(
        self, scheduler: AsyncIOScheduler, source: SourceConfig, state: SourceState, now: datetime
    ) -> None:
        if state.disabled:
            log.warning("%s: not polled: %s", source.name, state.disabled)
            return
        stored = max((t for t in (state.next_due, state.retry_after) if t), default=None)
        timing = self._timing(source)
        scheduler.add_job(
            self.poll,
            trigger="interval",
            seconds=timing.clamp(source.interval),
            next_run_time=first_due(now, timing, source.name, stored),
            id=_job_id(source.name),
            name=source.name,
            args=[source],
        )

    async def poll(self, source: SourceConfig) -> None:
        """Poll one source, then set when it is next due."""
        await self._as_job(self._poll(source), f"{source.name}: poll")

    async def _poll(self, source: SourceConfig) -> None:
        assert self._pipeline is not None
        report = await self._pipeline.update([source], utc_now())
        result = report.results[0]
        if result.error is not None:
            log.warning("%s", result.error)
        else:
            log.info("%s", result.line())
        if report.output_changed:  # items already summarized by update()
            self.request_publish()
        self._reschedule(source, result.next_due)

    async def _as_job(self, work: Awaitable[None], what: str) -> None:
        """Run a scheduled job's work: a stop waits for it, for a while.

        A bug raises on, for APScheduler to log once with its traceback and
        the job's name (the source's); the scheduler and every other job go
        on.  The store or the disk failing is one line (see :func:`_reported`).
        """
        task = asyncio.current_task()
        assert task is not None
        self._inflight.add(task)
        try:
            await _reported(work, what)
        except asyncio.CancelledError:
            if not self.stopping.is_set():
                raise
            # Cancelled by the stop, its grace over: nothing to report but
            # that (APScheduler would log it with a traceback, as an error).
            log.warning("%s abandoned, not done %g s after the stop signal", what, self.stop_grace)
        finally:
            self._inflight.discard(task)

    def _reschedule(self, source: SourceConfig, due: datetime | None) -> None:
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running:
            return
        job = scheduler.get_job(_job_id(source.name))
        if job is None:
            return
        if due is None:  # gone: never again
            job.remove()
        else:
            job.modify(next_run_time=max(due, utc_now()))

    async def _finish_inflight(self, deadline: float) -> bool:
        """Let the jobs under way finish, until the grace's ``deadline`` (the
        event loop's time) or a second stop signal; cancel the rest.  True if
        any was cancelled."""
        # A job started by the scheduler just before the stop registers at
        # its first step.
        await asyncio.sleep(0)
        pending: set[asyncio.Future[Any]] = {t for t in self._inflight if not t.done()}
        if not pending:
            return False
        still = await self._within_grace(pending, deadline)
        for task in still:
            task.cancel()
        if still:
            await asyncio.wait(still, timeout=1.0)
        return bool(still)

    async def _final_publish(self, deadline: float) -> bool:
        """Publish what the stop left, within what is left of the grace;
        False if it was abandoned (or a second stop signal came first)."""
        if self._hurry.is_set():
            return False

        async def final_publish() -> None:
            # Made here, not passed in: a task cancelled before it starts
            # would leave a coroutine never awaited.
            await _reported(self.publish(), "the final publish")

        publishing: asyncio.Future[Any] = asyncio.ensure_future(final_publish())
        if not await self._within_grace({publishing}, deadline):
            return True
        publishing.cancel()
        await asyncio.wait({publishing}, timeout=1.0)
        log.warning(
            "the final publish abandoned, not done %g s after the stop signal", self.stop_grace
        )
        return False

    async def _within_grace(
        self, tasks: set[asyncio.Future[Any]], deadline: float
    ) -> set[asyncio.Future[Any]]:
        """Wait for ``tasks`` until they are done, the event loop's time is
        ``deadline`` or a second stop signal comes; those not done."""
        loop = asyncio.get_running_loop()
        hurry: asyncio.Future[Any] = asyncio.ensure_future(self._hurry.wait())
        try:
            while tasks and not self._hurry.is_set():
                left = deadline - loop.time()
                if left <= 0:
                    break
                await asyncio.wait({*tasks, hurry}, timeout=left, return_when="FIRST_COMPLETED")
                tasks = {task for task in tasks if not task.done()}
        finally:
            hurry.cancel()
        return tasks

    # -- publishing ---------------------------------------------------------

    def request_publish(
        self, delay: timedelta = PUBLISH_DELAY, *, now: datetime | None = None
    ) -> None:
        """Publish ``delay`` from ``now`` (the clock's), unless a publish that
        has not begun yet is due by then: one that waits is never postponed,
        and never joined by a second.

        Were each change to postpone it, publishing would wait for a second
        without a change, and with sources changing more often than that (a
        cold pass over many sources; benchmarks/soak.py's 200 sources due
        every second, 20 of them changed each time) nothing would be
        published for as long as the changes go on.  A request made while a
        publish runs is the next publish's, as the one running may have read
        the store already; but a publish that waits for the running one to
        end reads the store after it, and takes the change too.  Were a job
        added for each such request, a publish that takes longer than the
        delay would be followed by more and more of them, each waiting for
        the lock (48 waited when one took 10 s, in a soak run under
        tracemalloc).
        """
        scheduler = self._scheduler
        if scheduler is None or not scheduler.running or self._publishes_waiting:
            return
        due = (now or datetime.now(UTC)) + delay
        waiting = scheduler.get_job(_PUBLISH_JOB)
        if waiting is not None and waiting.next_run_time <= due:
            return
        scheduler.add_job(
            self._publish_job,
            trigger="date",
            run_date=due,
            id=_PUBLISH_JOB,
            name="publish",
            replace_existing=True,
            # The lock below serializes runs; a run requested while one is
            # going must wait for it, not be dropped as a misfire.  No more
            # than one waits (see above).
            max_instances=100,
        )

    async def _publish_job(self) -> None:
        await self._as_job(self.publish(), "publishing")

    async def publish(self) -> None:
        self._publishes_waiting += 1
        try:
            await self._publish_lock.acquire()
        finally:
            self._publishes_waiting -= 1
        try:
            if self._pipeline is None:
                return
            _summarized, report = await self._pipeline.publish_if_changed()
            self._published = True
            if report is not None and report.written:
                log.info("published %s", ", ".join(report.written))
        finally:
            self._publish_lock.release()

    def published(self) -> bool:
        """Whether a publish ended since the start: until then a file missing
        from the output directory may be there in a moment (see create_app)."""
        return self._published

    # -- what the server shows ------------------------------------------------

    def status(self) -> Mapping[str, object]:
        assert self._store is not None
        scheduler = self._scheduler

        def next_due(name: str) -> datetime | bool | None:
            job = scheduler.get_job(_job_id(name)) if scheduler else None
            return job.next_run_time if job is not None else False

        return sources_status(self.config, self._store, self.healthy(), next_due)

    def opml(self) -> bytes:
        assert self._store is not None
        return sources_opml(self.config, self._store)


class Served(Protocol):
    """A daemon as its HTTP server sees it (this module's and the cluster's)."""

    config: Config

    def status(self) -> Mapping[str, object]: ...

    def healthy(self) -> bool: ...

    def opml(self) -> bytes: ...

    def published(self) -> bool: ...


def serving(daemon: Served) -> Server:
    """The server of a daemon: its output directory, ``/status``, ``/healthz``,
    the OPML and the WebSub ``Link`` headers, under its configuration of the
    moment (SIGHUP may replace it)."""
    return Server(
        create_app(
            daemon.config.output.dir,
            status=daemon.status,
            healthy=daemon.healthy,
            opml=daemon.opml,
            feed_link=lambda path: feed_link_header(daemon.config, path),
            published=daemon.published,
        ),
        limits=Limits(reserve_descriptors=DESCRIPTORS_KEPT + daemon.config.fetch.concurrency),
    )


def sources_status(
    config: Config,
    store: Store,
    healthy: bool,
    next_due: Callable[[str], datetime | bool | None] = lambda _name: False,
) -> Mapping[str, object]:
    """What ``/status`` shows: every source's health; ``next_due`` overrides the
    stored next due time of a source (False: it does not)."""
    states = {s.name: s for s in store.source_states()}
    sources = []
    for source in config.sources:
        state = states.get(source.name)
        if state is None:
            continue
        scheduled = next_due(source.name) if source.enabled else None
        due = state.next_due if scheduled is False else scheduled
        sources.append(
            {
                "name": source.name,
                "section": source.section,
                "url": redact_url(state.url or source.location),
                "last_fetch": _iso(state.last_fetch),
                "last_success": _iso(state.last_success),
                "last_error": state.last_error and redact_text(state.last_error, source.url),
                "consecutive_failures": state.consecutive_failures,
                "failing": is_failing(state.consecutive_failures),
                "disabled": state.disabled,
                "paused": not source.enabled,  # enabled: false
                "next_due": _iso(due if isinstance(due, datetime) else None),
                "items_stored": state.items_stored,
            }
        )
    return {"healthy": healthy, "sources": sources}


async def _reported(work: Awaitable[None], what: str) -> None:
    """``work``, its database or disk failing logged as one error line, not raised.

    A full disk, a database gone read-only or away, an output directory that
    cannot be written: the operator's to fix, not a bug, so no traceback.  And
    said here once: raised on, APScheduler would log it again, with the
    traceback, every interval for every source.  The next run tries again.
    """
    try:
        await work
    except (StoreError, PublishError) as error:
        log.error("%s failed: %s", what, error)


def _new_scheduler(loop: asyncio.AbstractEventLoop) -> AsyncIOScheduler:
    """The daemon's scheduler, on ``loop``: a job late or still running when
    next due runs once, however late."""
    return AsyncIOScheduler(
        event_loop=loop,
        timezone=UTC,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None},
    )


# The one publish job waiting, if any (one that runs is no longer in the job store).
_PUBLISH_JOB = "publish"


def _job_id(name: str) -> str:
    return f"source:{name}"


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def run_daemon(
    config: Config,
    *,
    stop_grace: float = STOP_GRACE_SECONDS,
    reload: Callable[[], Config] | None = None,
) -> int:
    """Run the daemon until stopped; ``reload`` reads the configuration again on SIGHUP."""
    return asyncio.run(Daemon(config, stop_grace=stop_grace, reload=reload).run())
