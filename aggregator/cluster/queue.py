"""The job queue: procrastinate over the store's PostgreSQL database.

The one module that imports procrastinate.  It knows three tasks by name and
what each one's job looks like; what a job does is given by the caller
(:class:`~aggregator.cluster.node.Node`), so the queue decides nothing.

    polls     poll(source, scheduled, run)  lock "host:HOST:N"    one poll of one source
    publish   publish()                     lock "publish"      the merged feed, one node at a time

Why these choices (each was a failure of a prototype, caught by a kill test):

* No ``queueing_lock`` on any job.  A stalled job that is retried goes back
  to "todo"; if a newer job with the same queueing lock is already waiting,
  the retry hits procrastinate's unique index, and the source is jammed for
  good (the new job waits on the old one's lock, which never runs).  Polls
  are superseded instead by the schedule in the store: a poll that finds its
  source no longer due does nothing.  Publishing twice publishes nothing new.
* Stalled jobs are retried one at a time, each in its own statement, so that
  one that cannot be retried does not keep the others stuck.
* The tick that defers polls is not a job: it runs beside the worker in
  every process (:mod:`.node`), so it never waits behind a backlog of polls.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import procrastinate
from procrastinate import exceptions as procrastinate_errors
from procrastinate import jobs as procrastinate_jobs

from ..config import Config, PostgresURL
from ..errors import StoreError

log = logging.getLogger(__name__)

POLLS = "polls"
PUBLISH = "publish"
QUEUES = (POLLS, PUBLISH)
# Publishing goes before polls waiting in the same worker: readers see
# what is stored sooner, and it is one job against hundreds.
_PUBLISH_PRIORITY = 10
_FINAL = {"succeeded", "failed", "cancelled", "aborted"}
# Polls deferred at once from which the jobs' table is analyzed.  Fetching
# the next job, procrastinate plans its query on the table as PostgreSQL
# last sampled it: empty, when every earlier job was done and deleted.  So
# it scanned all the waiting jobs for each one it took, 3.5 ms a job with
# 1,000 waiting and more the more wait (a pass over N sources costs N
# squared; procrastinate's issue 1242).  Sampled once they are queued, the
# table is read by its index: 0.4 ms a job, however many wait.
ANALYZE_AFTER = 100

# The polls a job of the jobs' table stands for: a poll job's sources (one,
# for a job queued by a version before batches), one for any other job.
_POLLS_OF_JOB = "COALESCE(jsonb_array_length(j.args->'sources'), 1)"
# A worker (or a run, see JobQueue.open_run) that beat within the timeout.
_BEATING = "last_heartbeat >= now() - make_interval(secs => %(timeout)s)"

# (sources, scheduled, the --once run's id, retried: an earlier attempt failed)
PollJob = Callable[[list[str], bool, str | None, bool], Awaitable[None]]
PublishJob = Callable[[str | None], Awaitable[None]]

__all__ = ["POLLS", "PUBLISH", "JobCounts", "JobQueue", "PollBatch", "QueueError"]


@dataclass(frozen=True, slots=True)
class PollBatch:
    """What one poll job polls: sources that share its lock, one after another."""

    lock: str
    sources: tuple[str, ...]


class QueueError(StoreError):
    """The job queue's database failed (it is the store's database)."""


@dataclass(frozen=True, slots=True)
class JobCounts:
    """Jobs by queue and status, and the workers that sent a heartbeat lately."""

    by_status: dict[tuple[str, str], int]  # (queue, status) -> polls (publish: jobs)
    workers: list[tuple[int, datetime]]  # (worker id, last heartbeat)

    def count(self, queue: str, status: str) -> int:
        return self.by_status.get((queue, status), 0)


class _StoreFailuresOnOneLine(logging.Filter):
    """A job that raised because the database failed under it (a
    :class:`StoreError`: the connection lost, the disk full) is logged by
    procrastinate with its traceback, at each try: the error's one line says
    all there is to say, and a traceback reads as a bug.  Other errors keep
    theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, StoreError):
            record.msg, record.args = f"{record.getMessage()}: {error}", ()
            record.exc_info, record.exc_text = None, None
        return True


_JOB_LOG = logging.getLogger("procrastinate.worker")


class JobQueue:
    """procrastinate's app over the store's database, opened and closed with it."""

    def __init__(self, location: PostgresURL):
        if not any(isinstance(f, _StoreFailuresOnOneLine) for f in _JOB_LOG.filters):
            _JOB_LOG.addFilter(_StoreFailuresOnOneLine())
        self._shown_as = str(location)  # the password masked, for messages
        connector = procrastinate.PsycopgConnector(conninfo=location.url, min_size=1, max_size=4)
        self._app = procrastinate.App(connector=connector)
        self._registered = False
        self.created = False  # the job queue's tables were made on opening

    @classmethod
    def of(cls, config: Config) -> JobQueue:
        """The queue in the configured store's database (a PostgreSQL one)."""
        if config.shared_store is None:
            raise StoreError(f"{config.store}: a job queue needs a PostgreSQL store")
        return cls(config.shared_store)

    async def __aenter__(self) -> JobQueue:
        """Open it, creating its tables on first use."""
        try:
            await self._app.open_async()
        except Exception as exc:
            raise QueueError(f"cannot open the job queue at {self._shown_as}: {_why(exc)}") from exc
        try:
            self.created = await self.migrate()
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        try:
            await self._app.close_async()
        except Exception as exc:  # closing a pool whose server is gone
            log.debug("closing the job queue: %s", exc)

    async def migrate(self) -> bool:
        """Create procrastinate's tables unless they exist; True when created.

        procrastinate's schema is one script, run as one transaction: when two
        processes open a fresh database at once, one creates it and the
        other's attempt fails whole, and finds it made.
        """
        try:
            if await self._has_schema():
                return False
            try:
                await self._app.schema_manager.apply_schema_async()
            except Exception:
                if await self._has_schema():
                    return False  # made by another process meanwhile
                raise
        except Exception as exc:
            why = _why(exc)
            raise QueueError(f"cannot create the job queue at {self._shown_as}: {why}") from exc
        return True

    async def _has_schema(self) -> bool:
        row = await self._app.connector.execute_query_one_async(
            "SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS present"
        )
        return bool(row["present"])

    def register(self, *, poll: PollJob, publish: PublishJob) -> None:
        """What this process runs for each task (before :meth:`run_worker`)."""
        assert not self._registered
        self._registered = True

        async def poll_task(
            context: procrastinate.JobContext,
            sources: list[str] | None = None,
            scheduled: bool = False,
            run: str | None = None,
            source: str | None = None,
        ) -> None:
            # ``source``: a job of one source, as versions before 0.2 queued
            # them, still waiting when its workers were upgraded.
            names = sources if sources is not None else [source or ""]
            await poll(names, scheduled, run, context.job.attempts > 0)

        async def publish_task(run: str | None = None) -> None:
            await publish(run)

        # A job that raises (the store failed under it) is tried again
        # later; a source's own failure is a value and never raises.
        retry = procrastinate.RetryStrategy(max_attempts=5, exponential_wait=2)
        self._app.task(name="poll", queue=POLLS, retry=retry, pass_context=True)(poll_task)
        self._app.task(name="publish", queue=PUBLISH, retry=retry)(publish_task)

    async def defer_polls(
        self, polls: Sequence[PollBatch], *, scheduled: bool, run: str | None = None
    ) -> list[int]:
        """One poll job per batch (no two jobs with one lock run at once,
        anywhere); their ids, in order."""
        if not polls:
            return []
        jobs = [
            procrastinate_jobs.Job(
                id=None,
                queue=POLLS,
                lock=batch.lock,
                queueing_lock=None,
                task_name="poll",
                task_kwargs={"sources": list(batch.sources), "scheduled": scheduled, "run": run},
            )
            for batch in polls
        ]
        try:
            deferred = await self._app.job_manager.batch_defer_jobs_async(jobs)
        except Exception as exc:
            raise QueueError(f"{self._shown_as}: cannot queue polls: {_why(exc)}") from exc
        if len(jobs) >= ANALYZE_AFTER:
            await self._sample_jobs()
        return [job.id for job in deferred if job.id is not None]

    async def _sample_jobs(self) -> None:
        """ANALYZE the jobs' table (see ANALYZE_AFTER).  The polls are queued
        whatever becomes of it: only the speed of taking them is at stake.
        A table this user does not own is a warning of the server's."""
        try:
            await self._app.connector.execute_query_async("ANALYZE procrastinate_jobs")
        except Exception as exc:
            log.warning("%s: the job queue's table was not analyzed: %s", self._shown_as, _why(exc))

    async def defer_publish(self, *, run: str | None = None, delay: float = 0.0) -> int:
        job = procrastinate_jobs.Job(
            id=None,
            queue=PUBLISH,
            priority=_PUBLISH_PRIORITY,
            lock="publish",
            queueing_lock=None,
            task_name="publish",
            task_kwargs={"run": run},
            scheduled_at=datetime.now(UTC) + timedelta(seconds=delay) if delay else None,
        )
        try:
            deferred = await self._app.job_manager.defer_job_async(job)
            assert deferred.id is not None
            return deferred.id
        except Exception as exc:
            raise QueueError(f"{self._shown_as}: cannot queue publishing: {_why(exc)}") from exc

    async def publish_waiting(self) -> bool:
        """Whether a publish job is waiting to run (then another one is of no use)."""
        row = await self._app.connector.execute_query_one_async(
            "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs "
            "WHERE queue_name = %(queue)s AND status = 'todo') AS waiting",
            queue=PUBLISH,
        )
        return bool(row["waiting"])

    async def retry_stalled(self, stall_timeout: float) -> int:
        """Send the jobs of workers silent for ``stall_timeout`` seconds back to the
        queue, one at a time; how many went back."""
        manager = self._app.job_manager
        try:
            stalled = await manager.get_stalled_jobs(seconds_since_heartbeat=stall_timeout)
        except procrastinate_errors.ConnectorException as exc:
            raise QueueError(
                f"{self._shown_as}: cannot look for stalled jobs: {_why(exc)}"
            ) from exc
        retried = 0
        for job in stalled:
            try:
                await manager.retry_job(job)
            except Exception as exc:  # another node retried it first, or it ended
                log.debug("job %s not retried: %s", job.id, exc)
                continue
            retried += 1
            log.warning(
                "retrying job %s (%s %s): its worker stopped",
                job.id,
                job.task_name,
                _polled(job.task_kwargs),
            )
        return retried

    async def cancel_waiting(self, job_ids: Iterable[int]) -> int:
        """Delete those of ``job_ids`` that no worker has taken yet (or that
        went back to the queue to be retried), in one statement (as
        procrastinate's cancel with ``delete_job`` does each); how many polls
        they were.  Those under way run to their end."""
        ids = list(job_ids)
        if not ids:
            return 0
        try:
            rows = await self._app.connector.execute_query_all_async(
                "DELETE FROM procrastinate_jobs j WHERE j.id = ANY(%(ids)s) AND j.status = 'todo' "
                f"RETURNING {_POLLS_OF_JOB} AS polls",
                ids=ids,
            )
        except procrastinate_errors.ConnectorException as exc:
            raise QueueError(f"{self._shown_as}: cannot cancel jobs: {_why(exc)}") from exc
        return sum(int(row["polls"]) for row in rows)

    # -- runs: the jobs one ``aggregate --once`` queued for itself ----------
    #
    # A run is registered as a procrastinate worker, that runs no job of its
    # own: its heartbeat is how every process knows the run is still waiting
    # for its jobs, and its id names the run in them.  A run killed outright
    # (SIGKILL, the OOM killer, a lost machine) stops beating; its polls
    # still queued are then of use to no one (their report is never read),
    # and would double the next pass's work.

    async def open_run(self) -> str:
        """A new run's id, alive until :meth:`close_run` or its beats stop."""
        try:
            return str(await self._app.job_manager.register_worker())
        except procrastinate_errors.ConnectorException as exc:
            raise QueueError(f"{self._shown_as}: cannot start a run: {_why(exc)}") from exc

    async def beat(self, run: str) -> None:
        try:
            await self._app.job_manager.update_heartbeat(int(run))
        except procrastinate_errors.ConnectorException as exc:
            raise QueueError(f"{self._shown_as}: the run's heartbeat failed: {_why(exc)}") from exc

    async def close_run(self, run: str) -> None:
        """Best effort: a run not closed is taken for ended once its beats stop."""
        try:
            await self._app.job_manager.unregister_worker(int(run))
        except procrastinate_errors.ConnectorException as exc:
            log.debug("run %s not closed: %s", run, _why(exc))

    async def live_runs(self, runs: Iterable[str], stall_timeout: float) -> set[str]:
        """Those of ``runs`` whose heartbeat is under ``stall_timeout`` seconds old."""
        wanted = list(set(runs))
        if not wanted:
            return set()
        try:
            rows = await self._app.connector.execute_query_all_async(
                "SELECT id::text AS run FROM procrastinate_workers "
                f"WHERE id::text = ANY(%(runs)s) AND {_BEATING}",
                runs=wanted,
                timeout=stall_timeout,
            )
        except procrastinate_errors.ConnectorException as exc:
            raise QueueError(f"{self._shown_as}: cannot read the runs: {_why(exc)}") from exc
        return {str(row["run"]) for row in rows}

    async def cancel_abandoned(self, stall_timeout: float) -> int:
        """Delete the jobs waiting for a run that has ended without taking
        them (see above); how many polls they were.  Jobs under way run to
        their end."""
        try:
            rows = await self._app.connector.execute_query_all_async(
                "DELETE FROM procrastinate_jobs j WHERE j.status = 'todo' "
                "AND j.args->>'run' IS NOT NULL AND NOT EXISTS ("
                "SELECT 1 FROM procrastinate_workers w "
                f"WHERE w.id::text = j.args->>'run' AND {_BEATING}"
                f") RETURNING {_POLLS_OF_JOB} AS polls",
                timeout=stall_timeout,
            )
        except procrastinate_errors.ConnectorException as exc:
            raise QueueError(f"{self._shown_as}: cannot cancel jobs: {_why(exc)}") from exc
        return sum(int(row["polls"]) for row in rows)

    async def statuses(self, job_ids: Iterable[int]) -> dict[int, str]:
        """Job id -> its status, for those of ``job_ids`` that exist."""
        ids = list(job_ids)
        if not ids:
            return {}
        try:
            rows = await self._app.connector.execute_query_all_async(
                "SELECT id, status::text AS status FROM procrastinate_jobs WHERE id = ANY(%(ids)s)",
                ids=ids,
            )
        except procrastinate_errors.ConnectorException as exc:
            raise QueueError(
                f"{self._shown_as}: cannot read the jobs' status: {_why(exc)}"
            ) from exc
        return {int(row["id"]): str(row["status"]) for row in rows}

    @staticmethod
    def is_final(status: str) -> bool:
        return status in _FINAL

    async def counts(self, stall_timeout: float) -> JobCounts:
        connector = self._app.connector
        # Polls, not jobs, in the polls' queue: a job polls several sources.
        rows = await connector.execute_query_all_async(
            f"SELECT queue_name, status::text AS status, sum({_POLLS_OF_JOB}) AS n "
            "FROM procrastinate_jobs j GROUP BY queue_name, status"
        )
        workers = await connector.execute_query_all_async(
            f"SELECT id, last_heartbeat FROM procrastinate_workers WHERE {_BEATING} ORDER BY id",
            timeout=stall_timeout,
        )
        return JobCounts(
            {(str(r["queue_name"]), str(r["status"])): int(r["n"]) for r in rows},
            [(int(w["id"]), w["last_heartbeat"]) for w in workers],
        )

    async def run_worker(
        self,
        *,
        concurrency: int,
        wait: bool,
        name: str,
        stall_timeout: float,
        stop_grace: float | None,
        queues: Sequence[str] = QUEUES,
    ) -> None:
        """Run jobs until cancelled (``wait``) or until none is waiting.

        Cancelled, it stops taking jobs and lets those under way finish for
        ``stop_grace`` seconds.  A lost connection raises :class:`QueueError`.
        """
        options: dict[str, Any] = {
            "queues": list(queues),
            "concurrency": concurrency,
            "wait": wait,
            "name": name,
            "install_signal_handlers": False,
            # Heartbeats often enough that a worker is known dead after
            # ``stall_timeout``, and polling as a fallback to LISTEN/NOTIFY.
            "update_heartbeat_interval": max(stall_timeout / 4, 0.2),
            "stalled_worker_timeout": stall_timeout,
            "fetch_job_polling_interval": 1.0,
            "shutdown_graceful_timeout": stop_grace,
            # Finished jobs are of no further use; failed ones stay, for status.
            "delete_jobs": "successful",
        }
        try:
            await self._app.run_worker_async(**options)
        except procrastinate_errors.ProcrastinateException as exc:
            raise QueueError(f"{self._shown_as}: the job queue failed: {_why(exc)}") from exc


def quiet_lost_job_updates(loop: asyncio.AbstractEventLoop) -> None:
    """Make a job update lost with the database connection one warning line.

    procrastinate saves a finished job's status in a task of its own; when
    the connection is cut under it, the worker stops and reconnects (see
    :mod:`.worker`), and that task's error is never retrieved, which asyncio
    would log as a traceback.  The job is not lost: it is retried as
    stalled.  Any other unretrieved error goes to the handler there was.  It
    stays for the loop's life: the task may be collected after the worker ends.
    """
    previous = loop.get_exception_handler()

    def handle(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        error = context.get("exception")
        if isinstance(error, procrastinate_errors.ConnectorException):
            log.warning("a job's status was not saved (retried as stalled): %s", _why(error))
        elif previous is not None:
            previous(loop, context)
        else:
            loop.default_exception_handler(context)

    loop.set_exception_handler(handle)


def _polled(task_kwargs: Mapping[str, object]) -> str:
    """The sources a poll job polls, for a log line."""
    sources = task_kwargs.get("sources")
    if isinstance(sources, list):
        return ", ".join(map(str, sources))
    return str(task_kwargs.get("source", ""))


def _why(exc: BaseException) -> str:
    """The innermost cause's text, on one line."""
    while exc.__cause__ is not None:
        exc = exc.__cause__
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text
