"""The job queue: its handler of errors no task retrieved (no database needed),
and what it asks of PostgreSQL's planner (the test server)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

import pytest
from procrastinate import exceptions as procrastinate_errors

from aggregator.cluster.once import _until_done
from aggregator.cluster.queue import ANALYZE_AFTER, JobQueue, PollBatch, quiet_lost_job_updates
from aggregator.config import Config, parse_config
from aggregator.errors import StoreError


def one_source(postgres_url: str, tmp_path: Path) -> Config:
    """A configuration of one source over the test server's store."""
    text = (
        f"store: '{postgres_url}'\n"
        "sources:\n  - {name: a, url: 'http://a.example/', section: S}\n"
    )
    return parse_config(text, tmp_path / "feeds.yaml")


async def no_publish(run: str | None) -> None:
    raise AssertionError("not deferred here")


def test_a_job_update_lost_with_the_connection_is_one_line_other_errors_go_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[dict[str, Any]] = []
    loop = asyncio.new_event_loop()
    try:
        loop.set_exception_handler(lambda _loop, context: seen.append(context))
        quiet_lost_job_updates(loop)
        lost = procrastinate_errors.ConnectorException("Database error.")
        lost.__cause__ = OSError("server closed the connection unexpectedly")
        with caplog.at_level(logging.WARNING, logger="aggregator.cluster.queue"):
            loop.call_exception_handler(
                {"message": "Task exception was never retrieved", "exception": lost}
            )
            other = ValueError("a bug")
            loop.call_exception_handler({"message": "never retrieved", "exception": other})
    finally:
        loop.close()
    [record] = caplog.records
    assert record.getMessage() == (
        "a job's status was not saved (retried as stalled): "
        "server closed the connection unexpectedly"
    )
    assert record.exc_info is None
    assert [context["exception"] for context in seen] == [other]


def test_polls_queued_by_the_hundred_are_sampled_for_the_planner(
    postgres_url: str, tmp_path: Path
) -> None:
    """procrastinate takes each job by a query planned on the table's last
    sample: with none since the table was empty, it scans every waiting job
    for each (quadratic in a pass's sources)."""
    config = one_source(postgres_url, tmp_path)

    async def sampled_rows_after(polls: int) -> float:
        async with JobQueue.of(config) as queue:
            batches = [PollBatch(f"lock {n}", (f"s{n}",)) for n in range(polls)]
            await queue.defer_polls(batches, scheduled=False)
            row = await queue._app.connector.execute_query_one_async(
                "SELECT reltuples FROM pg_class WHERE oid = 'procrastinate_jobs'::regclass"
            )
            return float(row["reltuples"])

    assert asyncio.run(sampled_rows_after(ANALYZE_AFTER)) == ANALYZE_AFTER


def test_once_sends_back_a_job_left_doing_when_its_status_was_lost(
    postgres_url: str, tmp_path: Path
) -> None:
    """The connection cut as a job ended: its status was never saved, and it
    stays "doing" under no worker.  ``--once`` waits for it to end: it must
    send it back to the queue, as a daemon's tick does, or wait for good."""
    config = one_source(postgres_url, tmp_path)
    ran: list[str] = []

    async def poll(sources: list[str], scheduled: bool, run: str | None, retried: bool) -> None:
        ran.extend(sources)

    async def scenario() -> None:
        async with JobQueue.of(config) as queue:
            queue.register(poll=poll, publish=no_publish)
            [job] = await queue.defer_polls([PollBatch("lock a", ("a",))], scheduled=False)
            await queue._app.connector.execute_query_async(
                "UPDATE procrastinate_jobs SET status = 'doing', worker_id = NULL "
                "WHERE id = %(id)s",
                id=job,
            )
            await asyncio.wait_for(_until_done(queue, {job: ("a",)}, 1, None, 30.0), 30)
            assert (await queue.statuses([job])).get(job, "deleted") == "deleted"  # succeeded

    asyncio.run(scenario())
    assert ran == ["a"]


def test_a_poll_job_tried_again_is_told_so(postgres_url: str, tmp_path: Path) -> None:
    """A job whose first attempt failed (the store failed under it) may have
    stored some of its polls: the next attempt is told it is one."""
    config = one_source(postgres_url, tmp_path)
    attempts: list[bool] = []

    async def poll(sources: list[str], scheduled: bool, run: str | None, retried: bool) -> None:
        attempts.append(retried)
        if len(attempts) == 1:
            raise StoreError("the connection was lost")

    async def scenario() -> None:
        async with JobQueue.of(config) as queue:
            queue.register(poll=poll, publish=no_publish)
            [job] = await queue.defer_polls([PollBatch("lock a", ("a",))], scheduled=False)
            await asyncio.wait_for(_until_done(queue, {job: ("a",)}, 1, None, 30.0), 60)

    asyncio.run(scenario())
    assert attempts == [False, True]


def test_a_poll_job_of_one_source_queued_before_batches_still_runs(
    postgres_url: str, tmp_path: Path
) -> None:
    """Workers upgraded while an older version's jobs wait: those name one
    ``source``, where jobs now name their ``sources``."""
    from procrastinate import jobs as procrastinate_jobs

    config = one_source(postgres_url, tmp_path)
    ran: list[list[str]] = []

    async def poll(sources: list[str], scheduled: bool, run: str | None, retried: bool) -> None:
        ran.append(sources)

    async def scenario() -> None:
        async with JobQueue.of(config) as queue:
            queue.register(poll=poll, publish=no_publish)
            old = procrastinate_jobs.Job(
                id=None,
                queue="polls",
                lock="lock a",
                queueing_lock=None,
                task_name="poll",
                task_kwargs={"source": "a", "scheduled": True, "run": None},
            )
            job = (await queue._app.job_manager.defer_job_async(old)).id
            [new] = await queue.defer_polls([PollBatch("lock b", ("b", "c"))], scheduled=False)
            assert job is not None
            await asyncio.wait_for(
                _until_done(queue, {job: ("a",), new: ("b", "c")}, 1, None, 30.0), 30
            )

    asyncio.run(scenario())
    assert sorted(ran) == [["a"], ["b", "c"]]
