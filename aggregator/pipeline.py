"""One update pass, wiring the stages; it makes no decisions of its own.

    fetch (ahead, concurrently) | ingest (all cores) | decide + store (a commit a batch) | publish

* fetch: each source due (:func:`.decide.skip_poll`), through the fetcher,
  ``fetch.concurrency`` at a time, as far ahead of storing as memory allows
  (:mod:`.ahead`);
* ingest: what changed is parsed, keyed and summarized in the workers
  (:mod:`.ingest`);
* decide + store (:mod:`.storing`): what each poll means
  (:func:`.decide.decide_poll`), its entries through the dedup stage
  (:mod:`.dedup.merge`), the intent to the store (``Store.apply_poll``), one
  transaction a batch, a source's bug undoing that source's writes only;
* publish: when what the output depends on changed (:mod:`.publishing`).

A failing source is a value (:class:`SourceResult` with its error), recorded
in the store; the pass goes on with the others.  So is a bug met while
fetching or storing one source (a :class:`ProcessingError`, its traceback in
the log at debug level): what the source had stored is left as it was.  Only
a failure that is not one source's (the store is gone) ends the pass.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Sequence
from contextlib import aclosing
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, TypeAlias

from .ahead import FetchAhead
from .config import Config, SourceConfig
from .decide import Skipped, skip_poll
from .errors import ProcessingError, SourceError, StoreError
from .fetch.fetcher import Fetcher, SourceFetcher
from .models import Fetched, SourceState
from .publishing import Publisher
from .results import PassReport, SourceResult
from .store import Store, open_store
from .storing import PollStorer
from .workers import POOL_MIN_BYTES, Workers

if TYPE_CHECKING:
    from .ingest import Ingested
    from .publish import PublishReport

# A source as polled; a batch as the workers made it: its sources as polled
# (bodies dropped) and what the workers made of those that changed.
_Outcome: TypeAlias = "Fetched | SourceError | Skipped"
_Batch: TypeAlias = "tuple[list[_Outcome], dict[str, Ingested | SourceError]]"

# Parsing (feedparser), deduplicating (numpy), summarizing (punkt, numpy) and
# publishing (feedgen, Jinja2) are imported where they are first used: a
# pass in which nothing changed needs none of them, and importing them
# would be most of its time.  Parsing is imported by the worker processes
# only, unless a batch is too small to send them.

log = logging.getLogger(__name__)

# Sources parsed, stored and summarized together, one commit each.  What the
# workers made of a batch waits in this process until it is stored, so
# smaller batches hold less: 32 rather than 64 sources held 25 MB less at the
# peak of the benchmark's cold pass.  Fetching runs ahead of storing by at
# most this many bytes of bodies and this many batches (see :mod:`.ahead`).
BATCH_SOURCES = 32
_AHEAD_BYTES = 8_000_000
_MAX_BATCHES_AHEAD = 8

__all__ = ["BATCH_SOURCES", "PassReport", "Pipeline", "SourceResult", "run_once", "utc_now"]


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def run_once(
    config: Config, *, now: datetime | None = None, progress: Callable[[str], None] | None = None
) -> PassReport:
    """Poll every source once, store what is new, summarize it and publish."""
    store = open_store(config.store)
    try:
        return asyncio.run(_run_once(config, store, now or utc_now(), progress))
    finally:
        store.close()


async def _run_once(
    config: Config, store: Store, now: datetime, progress: Callable[[str], None] | None
) -> PassReport:
    async with Pipeline(config, store) as pipeline:
        report = await pipeline.update(config.polled_sources, now, progress)
        summarized, report.published = await pipeline.publish_if_changed()
        report.summarized += summarized
    return report


class Pipeline:
    """The stages over one open store, one fetcher and one pool of workers.

    ``aggregate --once`` runs :meth:`update` (fetch, parse, store, summarize)
    over every source, then :meth:`publish_if_changed`; the daemon runs
    :meth:`update` for one source whenever it is due and
    :meth:`publish_if_changed` after changes.  The store is only touched
    from the event loop's thread; CPU-bound work (parsing, summarizing) runs
    in worker threads or processes and never sees it.  The fetcher and the
    workers are made from the configuration unless given (tests give fakes).
    """

    def __init__(
        self,
        config: Config,
        store: Store,
        *,
        fetcher: Fetcher | None = None,
        workers: Workers | None = None,
        jitter: Callable[[], float] = random.random,
    ):
        self.config = config
        self.store = store
        self.jitter = jitter
        self._fetcher = fetcher or SourceFetcher(config.fetch)
        if workers is None:
            from .ingest import WORKER_MODULES

            workers = Workers(preload=WORKER_MODULES)
        self._workers = workers
        self._publisher = Publisher(config, store, workers)
        self._storer = PollStorer(config, store, jitter)
        store.sync_sources((s.name, s.location, s.section) for s in config.sources)

    def reconfigure(self, config: Config) -> None:
        """Work under ``config`` from the next update and publish on (the
        daemon's SIGHUP): its sources, summary, dedup and output settings.  The
        fetcher and the workers, made at start, stay as they are."""
        self.config = config
        self._publisher = Publisher(config, self.store, self._workers)
        self._storer = PollStorer(config, self.store, self.jitter)
        self.store.sync_sources((s.name, s.location, s.section) for s in config.sources)

    async def __aenter__(self) -> Pipeline:
        await self._fetcher.__aenter__()
        return self

    async def __aexit__(self, error: type[BaseException] | None, *exc_info: object) -> None:
        await self._fetcher.__aexit__(None, None, None)
        if error is None:
            self._workers.close()
        else:  # failed or interrupted (Ctrl-C): what the workers run is of no use
            self._workers.terminate()

    def stop_workers(self) -> None:
        """Stop the worker processes now; what they run is abandoned (the daemon's stop)."""
        self._workers.terminate()

    async def update(
        self,
        sources: Sequence[SourceConfig],
        now: datetime,
        progress: Callable[[str], None] | None = None,
    ) -> PassReport:
        """Fetch, parse, summarize and store the given sources; every result is a value.

        Storing stays in this process and in source order, so the outcome is
        the same as one stage after another, however far fetching runs ahead.
        """
        report = PassReport()
        names = [s.name for s in sources]
        states = {s.name: s for s in self.store.source_states(counts=False, names=names)}

        async def fetch(index: int) -> _Outcome:
            return await self._fetch(sources[index], states[sources[index].name], now)

        async def ingest(index: int, fetched: Sequence[_Outcome]) -> tuple[_Batch, int]:
            batch = sources[index * BATCH_SOURCES : (index + 1) * BATCH_SOURCES]
            # The bodies fetched for the batches after it count too: a batch
            # small enough for a thread of this process still goes to the
            # workers when they will be needed anyway, so that this process
            # does not load what they load (the parser, the summarizer's models).
            ingested = await self._ingest_all(batch, fetched, now, waiting=ahead.held_bytes)
            # The bodies are parsed: storing needs the rest, not them.
            return ([_without_bodies(f) for f in fetched], ingested), sum(map(_body_bytes, fetched))

        ahead = FetchAhead(
            len(sources),
            batch_size=BATCH_SOURCES,
            concurrency=self.config.fetch.concurrency,
            ahead_bytes=_AHEAD_BYTES,
            max_batches_ahead=_MAX_BATCHES_AHEAD,
            fetch=fetch,
            weigh=_body_bytes,
            work=ingest,
        )
        position = 0
        async with aclosing(ahead.batches()) as batches:
            async for fetched, ingested in batches:
                report.parsed += len(ingested)
                batch = sources[position : position + len(fetched)]
                position += len(fetched)
                stored = self._storer.store_batch(batch, states, fetched, ingested, now)
                for source, result in zip(batch, stored, strict=True):
                    report.add(result)
                    if progress is not None:
                        progress(source.name)
                del fetched, ingested, stored  # the next batch's wait is long enough to matter
        if any(s.full_text != "off" for s in sources):
            await self._full_text(sources, report, now)
        return report

    async def _full_text(
        self, sources: Sequence[SourceConfig], report: PassReport, now: datetime
    ) -> None:
        """The article pages of the sources' new or changed items (see
        :mod:`.fulltext`), after their polls are stored; each source's result
        counts its pages.  A page's failure is stored as its reason, never the
        source's error; only the store failing ends the pass."""
        from .fulltext.stage import FullTextStage

        stage = FullTextStage(self.config, self.store, self._fetcher, self._workers)
        try:
            counts = await stage.run(sources, now)
        except StoreError:
            raise
        except Exception:
            # A bug of the stage, not of a source: the sources are stored and
            # their items keep the feed's text; the next pass tries again.
            log.exception("full text: the pages of this pass were not stored")
            return
        by_name = {result.source: result for result in report.results}
        for name, count in counts.items():
            report.articles += count.fetched - count.failed
            if name in by_name:
                by_name[name].pages = count.fetched
                by_name[name].pages_failed = count.failed

    async def publish_if_changed(self) -> tuple[int, PublishReport | None]:
        """See :meth:`.publishing.Publisher.publish_if_changed`."""
        return await self._publisher.publish_if_changed()

    async def _fetch(self, source: SourceConfig, state: SourceState, now: datetime) -> _Outcome:
        """The source's bytes, or why it was not polled, or its error (a value)."""
        skipped = skip_poll(state, now)
        if skipped is not None:
            return skipped
        try:
            return await self._fetcher.fetch(source, state)
        except SourceError as error:
            # Kept as a value until its batch is stored: its traceback's frames
            # would keep the response's buffers alive that long (12 MB of the
            # hostile benchmark's peak).
            return error.with_traceback(None)
        except StoreError:
            raise  # not this source's: it surfaces with its batch
        except Exception as exc:
            return ProcessingError.of(source.name, "fetching", exc)

    async def _ingest_all(
        self,
        sources: Sequence[SourceConfig],
        fetched: Sequence[_Outcome],
        now: datetime,
        *,
        waiting: int = 0,
    ) -> dict[str, Ingested | SourceError]:
        """Parse, prepare and summarize what changed, on every core (see :mod:`.ingest`).

        In the workers' processes when ``fetched`` or ``waiting`` (the bytes
        of every body fetched and not yet parsed) is over :data:`POOL_MIN_BYTES`.
        """
        changed = [f for f in fetched if isinstance(f, Fetched) and not f.not_modified]
        if not changed:
            # Importing .ingest (feedparser, numpy, sumy) would be most of the
            # time of a pass in which nothing changed.
            return {}
        from .ingest import IngestJob, NeedsOwnProcess, ingest

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
                    summary=self.config.summary,
                    algorithm=source.algorithm,
                    filters=source.filters,
                )
            )
        size = sum(job.input_bytes() for job in jobs)
        # Weighed, so that the largest each run in a process of their own,
        # and not all at once (see .workers).
        results = await self._workers.map(
            ingest, jobs, heavy=max(size, waiting) > POOL_MIN_BYTES, weigh=IngestJob.input_bytes
        )
        # Read again, each in a process of its own: see NeedsOwnProcess.
        again = [i for i, result in enumerate(results) if isinstance(result, NeedsOwnProcess)]
        if again:
            redone = await self._workers.map(
                ingest, [jobs[index] for index in again], heavy=True, alone=True
            )
            for index, result in zip(again, redone, strict=True):
                results[index] = result
        done: dict[str, Ingested | SourceError] = {}
        for job, result in zip(jobs, results, strict=True):
            # A process of its own loads what it needs (.workers.outlives_its_jobs).
            assert not isinstance(result, NeedsOwnProcess), result
            done[job.fetched.source] = result
        return done


def _body_bytes(outcome: _Outcome) -> int:
    return sum(len(d.body) for d in outcome.documents) if isinstance(outcome, Fetched) else 0


def _without_bodies(outcome: _Outcome) -> _Outcome:
    if isinstance(outcome, Fetched) and outcome.documents:
        return replace(outcome, documents=())
    return outcome
