"""``aggregate --once`` with a PostgreSQL store: one poll of every source, by
this process and by any worker running, then one publish, then the report.

    open a run (a heartbeat), drop what runs killed outright left queued
    defer the poll jobs (this run's id)           -> run jobs here until none is waiting
    wait for those that other workers took         -> defer publishing, the same way
    read each job's result, kept in the store under the run's id -> the report

The lines and the exit code are those of a single-process pass: each poll's
result is stored by whichever process ran it and read back here.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
from collections.abc import Callable, Coroutine, Mapping, Sequence
from typing import Any

from ..config import Config
from ..errors import SourceError, StoreError
from ..pipeline import Pipeline
from ..results import PassReport, SourceResult
from ..store import Store, open_store
from .node import RUN_PREFIX, Node, result_of, run_key
from .queue import JobQueue, QueueError, quiet_lost_job_updates

log = logging.getLogger(__name__)

# How often to look whether jobs that other workers took have ended.
_WAIT_STEP = 0.2
# The job queue's connection lost this many times in a row ends the pass
# (waiting 0.8, 3.2 and 12.8 s between): the database is gone.
_QUEUE_RETRIES = 3


def run_once_cluster(
    config: Config, *, progress: Callable[[str], None] | None = None, concurrency: int = 8
) -> PassReport:
    """Raises KeyboardInterrupt when interrupted by Ctrl-C or SIGTERM, once
    the polls of the pass no one took are cancelled."""
    store = open_store(config.store)
    try:
        return asyncio.run(_stoppable(_run_once(config, store, progress, concurrency)))
    finally:
        store.close()


async def _stoppable(work: Coroutine[Any, Any, PassReport]) -> PassReport:
    """``work``, cancelled by SIGTERM as asyncio cancels it on Ctrl-C, so
    that it can leave the queue clean either way."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(work)
    terminated = False

    def terminate() -> None:
        nonlocal terminated
        terminated = True
        task.cancel()

    loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        return await task
    except asyncio.CancelledError:
        if terminated:
            raise KeyboardInterrupt from None
        raise
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


async def _run_once(
    config: Config, store: Store, progress: Callable[[str], None] | None, concurrency: int
) -> PassReport:
    names = [s.name for s in config.polled_sources]
    quiet_lost_job_updates(asyncio.get_running_loop())
    stall_timeout = config.cluster.stall_timeout
    async with (
        JobQueue.of(config) as queue,
        Pipeline(config, store) as pipeline,
    ):
        node = Node(config, store, queue, pipeline)
        queue.register(poll=node.poll, publish=node.publish)
        run = node.own_run = await queue.open_run()
        beating = asyncio.ensure_future(_beating(queue, run, stall_timeout))
        try:
            await _drop_abandoned_runs(queue, store, stall_timeout)
            batches = node.poll_batches(names)
            polls = await queue.defer_polls(batches, scheduled=False, run=run)
            polled = {job: batch.sources for job, batch in zip(polls, batches, strict=True)}
            try:
                await _until_done(
                    queue, polled, concurrency, progress, stall_timeout, node.interrupted
                )
            except BaseException:
                # Interrupted (Ctrl-C, SIGTERM) or failed: the polls no one took
                # would be run by the next pass or any worker, for a report no
                # one reads.  One statement: a second Ctrl-C cuts it short.
                await _cancel_the_rest(queue, store, run, polls)
                raise
            publish = await queue.defer_publish(run=run)
            await _until_done(queue, {publish: ()}, 1, None, stall_timeout)
        finally:
            beating.cancel()
            await queue.close_run(run)
    return _report(store, run, names)


async def _beating(queue: JobQueue, run: str, stall_timeout: float) -> None:
    """Keep ``run`` alive for the other processes (see JobQueue.open_run)."""
    while True:
        await asyncio.sleep(max(stall_timeout / 4, 0.2))
        try:
            await queue.beat(run)
        except QueueError as error:  # the pass's own waits say what became of the database
            log.debug("%s", error)


async def _drop_abandoned_runs(queue: JobQueue, store: Store, stall_timeout: float) -> None:
    """What earlier runs stopped outright (SIGKILL, the OOM killer) left: their
    polls still queued, and the results of those that ran, that no one reads."""
    cancelled = await queue.cancel_abandoned(stall_timeout)
    if cancelled:
        log.warning(
            "%d polls queued by an earlier --once that was stopped are cancelled", cancelled
        )
    runs = {key.split(":", 2)[1] for key in store.read_meta(RUN_PREFIX)}
    for ended in runs - await queue.live_runs(runs, stall_timeout):
        store.take_meta(f"{RUN_PREFIX}{ended}:")


async def _cancel_the_rest(queue: JobQueue, store: Store, run: str, polls: Sequence[int]) -> None:
    """Best effort: the database may be what failed."""
    try:
        # Those no one took, and this process's own stopped under way (sent
        # back to the queue to be retried); the polls other workers run go on.
        cancelled = await queue.cancel_waiting(polls)
        store.take_meta(f"run:{run}:")  # the results of the polls that ran
    except (QueueError, StoreError) as error:
        log.warning("the polls of this pass not done are left queued: %s", error)
        return
    if cancelled:
        log.warning("%d polls of this pass not done are cancelled", cancelled)


async def _until_done(
    queue: JobQueue,
    jobs: Mapping[int, Sequence[str]],
    concurrency: int,
    progress: Callable[[str], None] | None,
    stall_timeout: float,
    interrupted: asyncio.Event | None = None,
) -> None:
    """Run jobs here until every one of ``jobs`` (id -> the sources it polls,
    for ``progress``) has ended, wherever it ran.

    Cancelled (Ctrl-C, SIGTERM), it sets ``interrupted`` first: the jobs
    under way here stop (see Node._unless_interrupted), where procrastinate
    would wait for each to poll the rest of its sources.

    Jobs whose worker stopped are sent back to the queue meanwhile, as a
    daemon's tick does: this run's own, among them, when the database's
    connections were cut as one of its jobs ended, so that its status was
    never saved (it would stay "doing", and this wait with it, for good)."""
    waiting = set(jobs)
    lost = 0  # the queue's connections lost in a row
    while waiting:
        try:
            await _interruptible(
                queue.run_worker(
                    concurrency=concurrency,
                    wait=False,
                    name="once",
                    stall_timeout=stall_timeout,
                    stop_grace=None,
                ),
                interrupted,
            )
            await queue.retry_stalled(stall_timeout)
            statuses = await queue.statuses(waiting)
        except QueueError as error:
            # Its pool makes new connections: the jobs go on where they
            # were, unless the database stays away.
            lost += 1
            if lost > _QUEUE_RETRIES:
                raise
            pause = _WAIT_STEP * 4**lost
            log.warning("%s; trying again in %g s", error, pause)
            await asyncio.sleep(pause)
            continue
        lost = 0
        ended = {i for i in waiting if queue.is_final(statuses.get(i, "succeeded"))}
        if progress is not None:
            for job_id in ended:
                for name in jobs[job_id]:
                    progress(name)
        waiting -= ended
        if waiting:  # taken by other workers, or waiting on a lock they hold
            await asyncio.sleep(_WAIT_STEP)


async def _interruptible(
    work: Coroutine[Any, Any, None], interrupted: asyncio.Event | None
) -> None:
    """Await ``work``; cancelled, set ``interrupted`` before cancelling it."""
    task = asyncio.ensure_future(work)
    try:
        await asyncio.shield(task)
    except asyncio.CancelledError:
        if interrupted is not None:
            interrupted.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        raise


def _report(store: Store, run: str, names: Sequence[str]) -> PassReport:
    records = store.take_meta(f"run:{run}:")
    report = PassReport()
    for name in names:
        record = records.get(run_key(run, name))
        if record is None:  # the job failed after its retries: the store failed under it
            report.add(SourceResult(name, error=SourceError(name, "the poll job failed")))
            continue
        result, parsed = result_of(record)
        report.add(result)
        report.parsed += parsed
    published = records.get(run_key(run, "/published"))
    outcome = json.loads(published) if published is not None else {}
    report.summarized = int(outcome.get("summarized", 0))
    written = outcome.get("written")
    if written is not None:  # None: nothing had changed since the last publish
        from ..publish import PublishReport

        report.published = PublishReport(written=written)
    return report
