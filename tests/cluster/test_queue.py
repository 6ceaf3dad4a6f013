"""The job queue's handler of errors no task retrieved (no database needed)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from procrastinate import exceptions as procrastinate_errors

from aggregator.cluster.queue import quiet_lost_job_updates


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
