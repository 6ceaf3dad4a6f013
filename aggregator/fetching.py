"""The fetch stage as the orchestrator sees it: one source's poll as a value.

    state, now -> skip_poll (pure) -> Skipped
                                   -> Fetcher.fetch -> Fetched | SourceError

A source's failure, and a bug met while fetching it, come back as values
(:class:`SourceError`, :class:`ProcessingError`), kept until its batch is
stored; only a failure that is not the source's (the store) is raised.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TypeAlias

from .config import SourceConfig
from .decide import Skipped, skip_poll
from .errors import ProcessingError, SourceError, StoreError
from .fetch.fetcher import Fetcher
from .models import Fetched, SourceState

__all__ = ["PollOutcome", "body_bytes", "poll_source", "without_bodies"]

# A source as polled: its bytes, why it was not polled, or its error.
PollOutcome: TypeAlias = Fetched | SourceError | Skipped


async def poll_source(
    fetcher: Fetcher, source: SourceConfig, state: SourceState, now: datetime
) -> PollOutcome:
    """The source's bytes, or why it was not polled, or its error (a value)."""
    skipped = skip_poll(state, now)
    if skipped is not None:
        return skipped
    try:
        return await fetcher.fetch(source, state)
    except SourceError as error:
        # Kept as a value until its batch is stored: its traceback's frames
        # would keep the response's buffers alive that long (12 MB of the
        # hostile benchmark's peak).
        return error.with_traceback(None)
    except StoreError:
        raise  # not this source's: it surfaces with its batch
    except Exception as exc:
        return ProcessingError.of(source.name, "fetching", exc)


def body_bytes(outcome: PollOutcome) -> int:
    """The bytes of the bodies a poll holds (what fetching ahead weighs)."""
    return sum(len(d.body) for d in outcome.documents) if isinstance(outcome, Fetched) else 0


def without_bodies(outcome: PollOutcome) -> PollOutcome:
    """The poll once parsed: storing needs the rest, not the bodies."""
    if isinstance(outcome, Fetched) and outcome.documents:
        return replace(outcome, documents=())
    return outcome
