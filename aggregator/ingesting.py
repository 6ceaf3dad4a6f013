"""Fetch and ingest as the orchestrator sees them: batches of sources, polled
ahead of storing and ingested in the workers.

    poll_source (concurrently, ahead) -> Fetched (changed) -> IngestJob
      -> Workers.map(ingest) -> Ingested | SourceError, a batch at a time

:mod:`.ingest` is what the workers run (parsing, keys, features); this
module stays in the main process and imports it only when something
changed, since importing it (feedparser, lxml, numpy) would be
most of the time of a pass in which nothing did.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from typing import TYPE_CHECKING, TypeAlias

from .ahead import FetchAhead
from .config import Config, SourceConfig
from .errors import SourceError
from .fetch.fetcher import Fetcher
from .fetching import PollOutcome, body_bytes, poll_source, without_bodies
from .models import Fetched, SourceState
from .store import Store
from .workers import Workers

if TYPE_CHECKING:
    from datetime import datetime

    from .ingest import Ingested

__all__ = ["BATCH_SOURCES", "IngestedBatch", "Ingester"]

# Sources parsed and stored together, one commit each.  What the
# workers made of a batch waits in this process until it is stored, so
# smaller batches hold less: 32 rather than 64 sources held 25 MB less at the
# peak of the benchmark's cold pass, 16 rather than 32 another 12 MB (PSS 187
# against 199), in the same CPU (24.8 and 25.1 s) now that a commit costs
# little next to a batch's look-ups.  Fetching runs ahead of storing by at
# most this many bytes of bodies and this many batches (see :mod:`.ahead`):
# 3 batches rather than 8 held 9 MB less at that peak (PSS 216 against 225
# MB), in the same CPU and wall time (83 and 82 s, 45 s).
BATCH_SOURCES = 16
_AHEAD_BYTES = 8_000_000
_MAX_BATCHES_AHEAD = 3

# A batch's sources, their polls (bodies dropped) and what the workers made
# of those that changed.
IngestedBatch: TypeAlias = (
    "tuple[Sequence[SourceConfig], list[PollOutcome], dict[str, Ingested | SourceError]]"
)


class Ingester:
    """Polls sources through the fetcher and sends what changed to the workers."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher, workers: Workers):
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self.workers = workers

    async def batches(
        self,
        sources: Sequence[SourceConfig],
        states: Mapping[str, SourceState],
        now: datetime,
        *,
        concurrency: int | None = None,
    ) -> AsyncGenerator[IngestedBatch, None]:
        """Each batch of ``sources``, in order, polled and ingested.

        Polls run ``concurrency`` (``fetch.concurrency``) at a time, ahead of the batch being
        stored as far as :data:`_AHEAD_BYTES` and :data:`_MAX_BATCHES_AHEAD`
        allow, so the outcome is that of one stage after another.
        """

        async def fetch(index: int) -> PollOutcome:
            source = sources[index]
            return await poll_source(self.fetcher, source, states[source.name], now)

        async def ingest(index: int, fetched: Sequence[PollOutcome]) -> tuple[IngestedBatch, int]:
            batch = sources[index * BATCH_SOURCES : (index + 1) * BATCH_SOURCES]
            ingested = await self.ingest_batch(batch, fetched, now, waiting=ahead.held_bytes)
            polls = [without_bodies(f) for f in fetched]  # parsed: storing needs the rest
            return (batch, polls, ingested), sum(map(body_bytes, fetched))

        ahead = FetchAhead(
            len(sources),
            batch_size=BATCH_SOURCES,
            concurrency=concurrency or self.config.fetch.concurrency,
            ahead_bytes=_AHEAD_BYTES,
            max_batches_ahead=_MAX_BATCHES_AHEAD,
            fetch=fetch,
            weigh=body_bytes,
            work=ingest,
        )
        async with aclosing(ahead.batches()) as batches:
            async for batch in batches:
                yield batch

    async def ingest_batch(
        self,
        sources: Sequence[SourceConfig],
        fetched: Sequence[PollOutcome],
        now: datetime,
        *,
        waiting: int = 0,
    ) -> dict[str, Ingested | SourceError]:
        """Parse and prepare what changed, on every core (see :mod:`.ingest`).

        In the workers' processes when the batch's bodies or ``waiting`` (the
        bytes of every body fetched and not yet parsed) are worth it
        (:meth:`.workers.Workers.pooled`), once a thread of this process has
        done the first second of work or so (the workers' ``thread_seconds``):
        a batch small enough for that thread still goes to the workers when
        they run, so that the thread does not hold the event loop's turn.
        """
        changed = [f for f in fetched if isinstance(f, Fetched) and not f.not_modified]
        if not changed:
            return {}
        from .ingest import IngestJob, NeedsOwnProcess, ingest, ingest_lost

        by_name = {s.name: s for s in sources}
        jobs = []
        for outcome in changed:
            source = by_name[outcome.source]
            jobs.append(
                IngestJob(
                    outcome,
                    now,
                    local=source.path is not None,
                    max_items=self.config.fetch.max_items,
                    language=source.language,
                    stored=self.store.copy_hashes(source.name),
                    known=self.store.entry_digests(source.name),
                    filters=source.filters,
                )
            )
        size = sum(job.input_bytes() for job in jobs)
        # A source with nothing stored (its first poll) has every entry to
        # work on: its bytes are its work, and when they are worth the pool
        # it starts at once; so do a batch of first polls only and what
        # waits behind it (a first pass, of small feeds perhaps).  A source's
        # other polls work on its new entries only, which its bytes
        # overstate: they may run in this process's thread first (the
        # workers' thread_seconds).
        first_polls = sum(job.input_bytes() for job in jobs if not job.stored)
        certain = max(size, waiting) if first_polls == size else first_polls
        # Weighed, so that the largest each run in a process of their own,
        # and not all at once (see .workers).
        results = await self.workers.map(
            ingest,
            jobs,
            heavy=self.workers.pooled(max(size, waiting)),
            weigh=IngestJob.input_bytes,
            rent=not self.workers.pooled(certain),
            lost=ingest_lost,
        )
        # Read again, each in a process of its own: see NeedsOwnProcess.
        again = [i for i, result in enumerate(results) if isinstance(result, NeedsOwnProcess)]
        if again:
            redone = await self.workers.map(
                ingest, [jobs[index] for index in again], heavy=True, alone=True, lost=ingest_lost
            )
            for index, result in zip(again, redone, strict=True):
                results[index] = result
        done: dict[str, Ingested | SourceError] = {}
        for job, result in zip(jobs, results, strict=True):
            # A process of its own loads what it needs (.workers.outlives_its_jobs).
            assert not isinstance(result, NeedsOwnProcess), result
            done[job.fetched.source] = result
        return done
