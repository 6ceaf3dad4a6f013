"""One update pass, wiring the stages; it makes no decisions of its own.

    fetch (ahead) | ingest (all cores) | decide + store (a commit a batch) | full text | publish

* fetch (:mod:`.fetching`): each source due, ``fetch.concurrency`` at a time,
  as far ahead of storing as memory allows (:mod:`.ahead`);
* ingest (:mod:`.ingesting`): what changed, parsed and its keys made in the workers;
* decide + store (:mod:`.storing`): what each poll means, its entries
  through the dedup stage, the intent to the store, one transaction a batch;
* full text (:mod:`.fulltext.stage`): the pages of truncated items;
* publish (:mod:`.publishing`): when what the output depends on changed, the
  latest items summarized first (in the workers; only what is published is).

A failing source, or a bug met on one source, is a value (a
:class:`SourceResult` with its error) and leaves what it had stored as it
was; only a failure that is not one source's (the store is gone) ends a pass.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from contextlib import aclosing
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from .config import Config, SourceConfig
from .fetch.fetcher import Fetcher, SourceFetcher
from .fulltext.stage import FullTextStage
from .ingest import WORKER_MODULES
from .ingesting import Ingester
from .memory import release_memory
from .publishing import Publisher
from .results import PassReport, SourceResult
from .store import StatesInOrder, Store, open_store
from .storing import PollStorer, StoredResult
from .websub import Notices
from .workers import POOL_AFTER_THREAD_SECONDS, POOL_MIN_BYTES, Workers

if TYPE_CHECKING:
    from .publish import PublishReport

__all__ = ["PassReport", "Pipeline", "SourceResult", "run_once", "utc_now"]


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

    ``--once`` runs :meth:`update` over every source, then
    :meth:`publish_if_changed`; the daemon, for each source when it is due.
    The store is touched from the event loop's thread only; parsing, the
    entries' keys and publishing's summaries run in the workers.  Tests pass
    a fake fetcher and workers.
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
            # Over a store that waits on a server, every poll's work goes to
            # the worker processes, however small: the event loop's thread
            # waits for the server's answers many times a poll, and a thread
            # parsing beside it would hold the interpreter's lock at each
            # answer, for up to its switch interval (5 ms) each.  A cluster's
            # polls are jobs of one source each, always "small": in threads,
            # the benchmark's 1,000-feed cold pass over PostgreSQL took 44.3
            # and 44.9 s, in the pool 37.7 and 39.3 s (alternating runs).
            remote = store.remote
            workers = Workers(
                preload=WORKER_MODULES,
                min_pool_bytes=0 if remote else POOL_MIN_BYTES,
                thread_seconds=0.0 if remote else POOL_AFTER_THREAD_SECONDS,
            )
        self._workers = workers
        self._notices = Notices()  # WebSub pings, kept across reconfigure
        self.reconfigure(config)

    def reconfigure(self, config: Config) -> None:
        """Work under ``config`` from the next update on (SIGHUP); the fetcher and workers stay."""
        self.config = config
        self._ingester = Ingester(config, self.store, self._fetcher, self._workers)
        self._storer = PollStorer(config, self.store, self.jitter)
        self._full_text = FullTextStage(config, self.store, self._fetcher, self._workers)
        self._publisher = Publisher(config, self.store, self._workers, notices=self._notices)
        self.store.sync_sources((s.name, s.location, s.section) for s in config.sources)

    async def __aenter__(self) -> Pipeline:
        await self._fetcher.__aenter__()
        return self

    async def __aexit__(self, error: type[BaseException] | None, *exc_info: object) -> None:
        await self._fetcher.__aexit__(None, None, None)
        if error is None:
            self._workers.close()
            await self._notices.finish()
        else:  # failed or interrupted (Ctrl-C): what the workers run is of no use
            self._workers.terminate()
            await self._notices.drop()

    def stop_workers(self) -> None:
        """Stop the worker processes now; what they run is abandoned (the daemon's stop)."""
        self._workers.terminate()

    async def update(
        self,
        sources: Sequence[SourceConfig],
        now: datetime,
        progress: Callable[[str], None] | None = None,
        *,
        fetch_concurrency: int | None = None,
        on_stored: StoredResult | None = None,
    ) -> PassReport:
        """Fetch, parse and store the given sources; every result is a value.

        Storing is in source order, so however far fetching runs ahead the
        outcome is that of one stage after another.  Fetches run
        ``fetch_concurrency`` at a time (``fetch.concurrency`` when None).
        ``on_stored``: see :meth:`.storing.PollStorer.store_batch`."""
        report = PassReport()
        names = [s.name for s in sources]
        states = StatesInOrder(self.store, names)
        self._storer.begin_pass()
        try:
            fetching = self._ingester.batches(sources, states, now, concurrency=fetch_concurrency)
            async with aclosing(fetching) as batches:
                async for batch, fetched, ingested in batches:
                    parsed = len(ingested)
                    report.parsed += parsed
                    stored = self._storer.store_batch(
                        batch, states, fetched, ingested, now, on_stored=on_stored
                    )
                    for source, result in zip(batch, stored, strict=True):
                        report.add(result)
                        if progress is not None:
                            progress(source.name)
                    del fetched, ingested, stored  # the next batch's wait is long enough to matter
                    if parsed:
                        # What the batch's look-ups and parsed feeds freed, handed
                        # back: left to the C library it stays the process's, more
                        # of it the longer the pass (4 MB more at 10,000 feeds than
                        # at 1,000, of 9 MB).  Under a millisecond a batch, but a
                        # batch of 304s frees little and costs less than that.
                        release_memory()
        finally:
            self._storer.end_pass()
        await self.full_text(sources, report, now)  # none asked for: nothing to do
        return report

    async def full_text(
        self, sources: Sequence[SourceConfig], report: PassReport, now: datetime
    ) -> None:
        """The article pages ``sources`` want (``full_text``), each source's
        counted in its result in ``report``: the last step of :meth:`update`,
        and a retried job's for the sources its failed attempt stored."""
        await self._full_text.run_for(sources, report, now)

    async def publish_if_changed(self) -> tuple[int, PublishReport | None]:
        """See :meth:`.publishing.Publisher.publish_if_changed`."""
        return await self._publisher.publish_if_changed()
