"""One update pass, wiring the stages; it makes no decisions of its own.

    fetch every source (concurrently)
      |  ingest what changed (all cores): parse, dedup keys and features,
         summaries of new text                              (.ingest)
      |  deduplicate + store (this process; one commit per batch)
      |  publish, summarizing what is published but has no summary yet

A failing source is a value (:class:`SourceResult` with its error), recorded
in the store; the pass goes on with the others.  So is a bug met while
fetching or storing one source (a :class:`ProcessingError`, its traceback in
the log at debug level): what the source had stored is left as it was.  Only
a failure that is not one source's (the store is gone) ends the pass.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, TypeAlias

from . import __version__
from .config import Config, SourceConfig
from .decide import decide_poll
from .errors import (
    ProcessingError,
    SourceError,
    StoreError,
    bug_details,
    bug_message,
)
from .fetch.http import HttpFetcher
from .models import Entry, Fetched, SourceState, Summary
from .schedule import Timing
from .store import Store, StoredItem, open_store
from .workers import Workers

if TYPE_CHECKING:
    from .ingest import Ingested
    from .publish import PublishReport
    from .summarize.job import SummaryJob

    # A source as polled; a batch's sources as polled (bodies dropped), what the
    # workers made of those that changed, and the bytes of the bodies.
    _Outcome: TypeAlias = "Fetched | SourceError | Skipped"
    _BatchWork = tuple[list[_Outcome], dict[str, "Ingested | SourceError"], int]

# Parsing (feedparser), deduplicating (numpy), summarizing (punkt, numpy) and
# publishing (feedgen, Jinja2) are imported where they are first used: a
# pass in which nothing changed needs none of them, and importing them
# would be most of its time.  Parsing is imported by the worker processes
# only, unless a batch is too small to send them.

log = logging.getLogger(__name__)

# Sources parsed, stored and summarized together, one commit each.  Sources
# are fetched ``fetch.concurrency`` at a time, without waiting for a batch to
# finish, as far ahead of storing as this many bytes of bodies fetched and
# not yet stored allow, and at most this many batches ahead: that bounds
# memory whatever the number of sources.  What the workers made of a batch
# waits in this process until it is stored, so smaller batches hold less:
# 32 rather than 64 sources held 25 MB less at the peak of the benchmark's
# cold pass.
BATCH_SOURCES = 32
_AHEAD_BYTES = 8_000_000
_MAX_BATCHES_AHEAD = 8
# Below this much to parse, the work runs in a thread of this process rather
# than in the worker processes: the workers' fork server imports the parser
# and summarizer once (half a second, on another core), and every job's
# bytes and results cross between processes.  A feed is about 1 ms of CPU
# per kilobyte, so this is a quarter of a second of work.
_POOL_MIN_BYTES = 256_000
# Changes whenever what is published from the same stored state changes.
_PUBLISH_FORMAT = 1


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source not polled this time, and why."""

    status: str  # "disabled" (410 Gone) or "deferred" (Retry-After)
    reason: str


@dataclass(slots=True)
class SourceResult:
    source: str
    new: int = 0
    merged: int = 0
    updated: int = 0
    unchanged: int = 0
    not_modified: bool = False
    error: SourceError | None = None
    warning: str | None = None
    skipped: Skipped | None = None
    next_due: datetime | None = None  # when the daemon polls it next; None: never
    touched: list[int] = field(default_factory=list)  # its items new or changed
    summarized: int = 0  # summaries it computed

    @property
    def changed(self) -> bool:
        return bool(self.new or self.merged or self.updated)

    @property
    def status(self) -> str:
        if self.skipped is not None:
            return self.skipped.status
        if self.error is not None:
            return "error"
        if self.new or self.merged:
            return "new"
        if self.updated:
            return "updated"
        return "unchanged"

    def line(self) -> str:
        """One status line, as the command line prints it."""
        if self.skipped is not None:
            return f"{self.status:<10} {self.source}: {self.skipped.reason}"
        if self.error is not None:
            return f"error      {self.error}"
        if self.not_modified:
            detail = "not modified"
        else:
            parts = [f"{self.new} new"]
            if self.merged:
                parts.append(f"{self.merged} merged into other sources' entries")
            parts += [f"{self.updated} updated", f"{self.unchanged} unchanged"]
            detail = ", ".join(parts)
        if self.warning:
            detail += f" (warning: {self.warning})"
        return f"{self.status:<10} {self.source}: {detail}"


@dataclass(slots=True)
class PassReport:
    results: list[SourceResult] = field(default_factory=list)
    touched: list[int] = field(default_factory=list)  # items new or changed in the pass
    parsed: int = 0  # sources whose bytes were parsed
    summarized: int = 0  # summaries computed (not taken from the cache)
    published: PublishReport | None = None

    @property
    def all_failed(self) -> bool:
        """Every source that was polled failed (sources skipped on purpose do not count)."""
        polled = [r for r in self.results if r.skipped is None]
        return bool(polled) and all(r.error is not None for r in polled)

    def total_line(self) -> str:
        failed = sum(r.error is not None for r in self.results)
        new = sum(r.new for r in self.results)
        merged = sum(r.merged for r in self.results)
        updated = sum(r.updated for r in self.results)
        written = len(self.published.written) if self.published else 0
        return (
            f"{len(self.results)} sources, {failed} failed; {new} new items, {merged} merged, "
            f"{updated} updated; {self.parsed} parsed, {self.summarized} summarized; "
            f"{written} files written"
        )


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
        report = await pipeline.update(config.sources, now, progress)
        summarized, report.published = await pipeline.publish_if_changed()
        report.summarized += summarized
    return report


class Pipeline:
    """The stages over one open store and one HTTP client.

    ``aggregate --once`` runs :meth:`update` (fetch, parse, store, summarize)
    over every source, then :meth:`publish_if_changed`; the daemon runs
    :meth:`update` for one source whenever it is due and
    :meth:`publish_if_changed` after changes.  The store is
    only touched from the event loop's thread; CPU-bound work (parsing,
    summarizing) runs in worker threads or processes and never sees it.
    """

    def __init__(
        self, config: Config, store: Store, *, jitter: Callable[[], float] = random.random
    ):
        self.config = config
        self.store = store
        self.jitter = jitter
        self._sources = {s.name: s for s in config.sources}
        self._http = HttpFetcher(config.fetch)
        from .ingest import WORKER_MODULES

        self._workers = Workers(preload=WORKER_MODULES)
        store.sync_sources((s.name, s.location, s.section) for s in config.sources)

    async def __aenter__(self) -> Pipeline:
        await self._http.__aenter__()
        return self

    async def __aexit__(self, error: type[BaseException] | None, *exc_info: object) -> None:
        await self._http.__aexit__(None, None, None)
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

        The stages overlap: requests are kept going while this process
        stores batch i and the workers parse and summarize the batches after
        it (:mod:`.ingest`), each queued for them as soon as all of it is
        fetched, so that no stage waits for another's slowest job; how far
        ahead fetching runs is bounded by the bytes the batches ahead hold.
        Storing stays in this process and in source order, so the outcome is
        the same as one stage after another.
        """
        report = PassReport()
        states = {s.name: s for s in self.store.source_states(counts=False)}
        batches = [sources[i : i + BATCH_SOURCES] for i in range(0, len(sources), BATCH_SOURCES)]
        if not batches:
            return report

        loop = asyncio.get_running_loop()
        # One future per source and per batch, each dropped once used: what
        # they hold (bodies, the workers' results) is the pass's memory.
        outcomes = {index: loop.create_future() for index in range(len(sources))}
        running: set[asyncio.Task[None]] = set()  # fetches started, not yet done
        limit = self.config.fetch.concurrency
        started = 0  # sources whose fetch has started, in order
        held = 0  # bytes of bodies fetched, in batches not yet stored
        stored = 0  # batches stored
        closing = False  # the pass is over (or failed): start nothing more

        async def fetch(index: int) -> None:
            nonlocal held
            source = sources[index]
            bug = None
            try:
                outcome = await self._fetch(source, states[source.name], now)
            except StoreError as exc:  # not this source's: it surfaces with its batch
                bug = exc
            except Exception as exc:
                outcome = ProcessingError.of(source.name, "fetching", exc)
            future = outcomes.get(index)
            if future is None or future.done():
                return  # cancelled with its batch: the pass is over
            if bug is not None:
                future.set_exception(bug)
                return
            held += _body_bytes(outcome)
            future.set_result(outcome)

        def top_up() -> None:
            """Keep ``fetch.concurrency`` requests going, as far ahead of
            storing as the bodies fetched allow: 304s hold nothing, so a pass
            in which few feeds changed runs well ahead, while changed feeds'
            bodies stay bounded.  The batch being stored is never held back."""
            nonlocal started
            while not closing and started < len(sources) and len(running) < limit:
                batch = started // BATCH_SOURCES
                if batch > stored and (
                    held >= _AHEAD_BYTES or batch >= stored + _MAX_BATCHES_AHEAD
                ):
                    return
                task = asyncio.ensure_future(fetch(started))
                running.add(task)
                task.add_done_callback(running.discard)
                task.add_done_callback(lambda _: top_up())  # one more may start now
                started += 1

        async def work(index: int) -> _BatchWork:
            """A batch, once all of it is fetched: handed to the workers at once."""
            first = index * BATCH_SOURCES
            mine = range(first, first + len(batches[index]))
            fetched = list(await asyncio.gather(*(outcomes[i] for i in mine)))
            for i in mine:
                del outcomes[i]
            ingested = await self._ingest_all(batches[index], fetched, now)
            # The bodies are parsed: storing needs the rest, not them.
            size = sum(_body_bytes(f) for f in fetched)
            return [_without_bodies(f) for f in fetched], ingested, size

        works = {index: asyncio.ensure_future(work(index)) for index in range(len(batches))}
        try:
            top_up()
            for index, batch in enumerate(batches):
                fetched, ingested, size = await works.pop(index)
                stored, held = index + 1, held - size
                top_up()
                report.parsed += len(ingested)
                # One commit per batch: a commit is most of the cost of storing a
                # source that did not change, and a crash loses at most this batch,
                # which the next pass fetches again.
                with self.store.transaction():
                    for source, outcome in zip(batch, fetched, strict=True):
                        state = states[source.name]
                        if isinstance(outcome, Skipped):
                            result = SourceResult(
                                source.name, skipped=outcome, next_due=state.next_due
                            )
                        else:
                            result = self._store_isolated(
                                source, state, outcome, ingested.get(source.name), now
                            )
                        report.results.append(result)
                        report.touched += result.touched
                        report.summarized += result.summarized
                        if progress is not None:
                            progress(source.name)
                del fetched, ingested  # the next batch's wait is long enough to matter
        finally:
            closing = True
            for pending in [*running, *works.values()]:
                pending.cancel()
        return report

    async def _ingest_all(
        self,
        sources: Sequence[SourceConfig],
        fetched: Sequence[Fetched | SourceError | Skipped],
        now: datetime,
    ) -> dict[str, Ingested | SourceError]:
        """Parse, prepare and summarize what changed, on every core (see :mod:`.ingest`)."""
        changed = [f for f in fetched if isinstance(f, Fetched) and not f.not_modified]
        if not changed:
            # Importing .ingest (feedparser, numpy, sumy) would be most of the
            # time of a pass in which nothing changed.
            return {}
        from .ingest import IngestJob, ingest

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
                )
            )
        size = sum(len(d.body) for job in jobs for d in job.fetched.documents)
        results = await self._workers.map(ingest, jobs, heavy=size > _POOL_MIN_BYTES)
        return {job.fetched.source: result for job, result in zip(jobs, results, strict=True)}

    async def _fetch(
        self, source: SourceConfig, state: SourceState, now: datetime
    ) -> Fetched | SourceError | Skipped:
        if state.disabled:
            return Skipped("disabled", state.disabled)
        if state.retry_after is not None and state.retry_after > now:
            return Skipped(
                "deferred",
                f"the server asked for no request before {state.retry_after:%Y-%m-%d %H:%M:%SZ}",
            )
        try:
            if source.url is not None:
                return await self._http.fetch(
                    source.name,
                    state.url or source.url,
                    state.fetch_state,
                    allow_private=source.allow_private,
                )
            assert source.path is not None
            from .fetch.local import read_local

            return await asyncio.to_thread(
                read_local,
                source.name,
                source.path,
                state.fetch_state,
                max_bytes=self.config.fetch.max_bytes,
            )
        except SourceError as error:
            return error

    def _store_isolated(
        self,
        source: SourceConfig,
        stored: SourceState,
        fetched: Fetched | SourceError,
        ingested: Ingested | SourceError | None,
        now: datetime,
    ) -> SourceResult:
        """Store one source's poll in a savepoint of its batch; a bug in doing
        so undoes only this source's writes and is recorded as its error."""
        try:
            return self._store_source(source, stored, fetched, ingested, now)
        except StoreError:
            raise
        except Exception as exc:
            error = (
                exc
                if isinstance(exc, ProcessingError)
                else ProcessingError.of(source.name, "storing", exc)
            )
            try:
                return self._store_source(source, stored, error, None, now)
            except StoreError:
                raise
            except Exception as again:
                # Even recording the failure failed (scheduling it, say): the
                # line is still printed, and the stored state left as it was.
                log.debug("%s: recording the failure failed", source.name, exc_info=again)
                return SourceResult(source.name, error=error, next_due=stored.next_due)

    def _store_source(
        self,
        source: SourceConfig,
        stored: SourceState,
        fetched: Fetched | SourceError,
        ingested: Ingested | SourceError | None,
        now: datetime,
    ) -> SourceResult:
        """Decide what the poll means (:func:`.decide.decide_poll`), store the
        entries it read, then the intent, all in one savepoint."""
        parsed = (
            ingested.feed
            if ingested is not None and not isinstance(ingested, SourceError)
            else ingested
        )
        intent = decide_poll(
            stored,
            source.url,
            Timing(source.interval, self.config.min_interval, self.config.max_interval),
            fetched,
            parsed,
            now,
            jitter=self.jitter(),
        )
        result = SourceResult(
            source.name,
            error=intent.error,
            not_modified=intent.not_modified,
            next_due=intent.next_due,
        )
        with self.store.transaction():
            if intent.feed is not None:
                assert ingested is not None and not isinstance(ingested, SourceError)
                self._store_items(source, ingested, result, now)
                if result.changed or intent.feed_changed:
                    self.store.bump_generation()
                self.store.save_entry_digests(source.name, intent.feed.digests)
            self.store.apply_poll(intent)
        if intent.error is not None:
            if intent.error.details:
                log.debug("%s\n%s", intent.error, intent.error.details)
            log.warning("%s", intent.error)
        if intent.disable is not None:
            log.warning("%s: HTTP 410 Gone; the source is disabled", source.name)
        if intent.move_to is not None:
            log.warning(
                "%s: moved permanently from %s to %s",
                source.name,
                stored.url or source.url,
                intent.move_to,
            )
        return result

    def _store_items(
        self, source: SourceConfig, ingested: Ingested, result: SourceResult, now: datetime
    ) -> None:
        """The copies through the dedup stage: new, merged, updated or unchanged.

        One look-up, a decision per copy, one write (:func:`.dedup.merge.merge_copies`);
        a bug met on one copy is raised as this source's ProcessingError naming it.
        """
        from .dedup.merge import Outcome, merge_copies

        feed = ingested.feed
        result.warning = feed.warning
        result.unchanged = feed.unchanged  # not parsed: their bytes were there last time
        merged = merge_copies(
            self.store, source.name, source.section, ingested.copies, now, self.config.dedup
        )
        for outcome, item_id in merged:
            if outcome is Outcome.NEW:
                result.new += 1
            elif outcome is Outcome.MERGED:
                result.merged += 1
            elif outcome is Outcome.UPDATED:
                result.updated += 1
            else:
                result.unchanged += 1
            if outcome is not Outcome.UNCHANGED:
                result.touched.append(item_id)
        if ingested.summaries:
            self.store.save_summaries(dict(ingested.summaries))
            result.summarized += len(ingested.summaries)

    def summary_job(self, item: StoredItem) -> SummaryJob:
        from .summarize.job import SummaryJob

        source = self._sources.get(item.lead_source)
        return SummaryJob.of(
            item.content_html,
            item.language,
            self.config.summary,
            source.algorithm if source else None,
        )

    async def _summarize_jobs(self, jobs: Sequence[SummaryJob]) -> int:
        by_key = {job.key: job for job in jobs}
        known = self.store.summaries(list(by_key))
        missing = [job for key, job in by_key.items() if key not in known]
        if not missing:
            return 0
        size = sum(len(job.html) for job in missing)
        results = await self._workers.map(_summarize_one, missing, heavy=size > _POOL_MIN_BYTES)
        made = {}
        for job, result in zip(missing, results, strict=True):
            if isinstance(result, Summary):
                made[job.key] = result
            else:  # published without a summary; tried again next time
                log.error("cannot summarize an item (summary key %s): %s", job.key, result[0])
                log.debug("%s", result[1])
        with self.store.transaction():
            self.store.save_summaries(made)
            self.store.bump_generation()
        return len(made)

    async def publish_if_changed(self) -> tuple[int, PublishReport | None]:
        """Publish unless nothing that the output depends on changed since the last time.

        Returns how many summaries had to be made first (those of published
        items made under other settings) and the publish report, None when
        publishing was not needed.
        """
        if self.store.get_meta("published") == self._publish_state() and self._outputs_exist():
            return 0, None
        items = self.store.latest_items(self.config.output.max_entries)
        # One job per published item serves both steps: making a job resolves
        # the item's language and hashes its text, which is not free.
        jobs = [self.summary_job(item) for item in items]
        summarized = await self._summarize_jobs(jobs)
        report = self._publish(items, [job.key for job in jobs])
        with self.store.transaction():
            self.store.set_meta("published", self._publish_state())
        return summarized, report

    def _publish(self, items: Sequence[StoredItem], keys: Sequence[str]) -> PublishReport:
        """Render and write the given items (newest first), with their summaries by key."""
        from .models import FeedMeta
        from .publish import publish
        from .summarize.digest import build_digests

        summaries = self.store.summaries(keys)
        entries = [_entry(item, summaries.get(key)) for item, key in zip(items, keys, strict=True)]
        digests = build_digests(
            entries,
            window=timedelta(seconds=self.config.digest.window),
            sentences=self.config.digest.sentences,
            page_url=self.config.base_url,
        )
        # Newest first; a digest before the items of its window, as it sums them up.
        merged = sorted(
            [*entries, *digests], key=lambda e: (e.published, bool(e.digest), e.id), reverse=True
        )
        meta = FeedMeta(
            title=self.config.title, base_url=self.config.base_url, sections=self.config.sections
        )
        report = publish(merged, meta, self.config.output.dir)
        for _entry_left_out, error in report.left_out:
            log.error("%s", error)
            log.debug("%s", error.details)
        return report

    def _publish_state(self) -> str:
        """Everything the published files depend on, as one hash: the store's
        generation, the settings that shape the output, and this program's version."""
        config = self.config
        facts = {
            "generation": self.store.get_meta("generation"),
            "format": _PUBLISH_FORMAT,
            "version": __version__,
            "title": config.title,
            "base_url": config.base_url,
            "max_entries": config.output.max_entries,
            "summary": [
                config.summary.sentences,
                config.summary.max_sentences,
                config.summary.words_per_sentence,
                config.summary.algorithm,
                config.summary.language,
            ],
            "digest": [config.digest.window, config.digest.sentences],
            "sources": [[s.name, s.section, s.algorithm] for s in config.sources],
        }
        return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()

    def _outputs_exist(self) -> bool:
        out = self.config.output.dir
        return all((out / name).is_file() for name in _OUTPUT_FILES)


_OUTPUT_FILES = ("feed.atom", "feed.rss", "feed.json", "index.html")


def _entry(item: StoredItem, summary: Summary | None) -> Entry:
    return Entry(
        id=item.uid,
        title=item.title or "(untitled)",
        link=item.link,
        published=item.published,
        updated=max(item.updated, item.published),
        section=item.section,
        summary=summary or Summary(()),
        sources=item.sources,
        author=item.author,
        language=item.language,
    )


def _body_bytes(outcome: Fetched | SourceError | Skipped) -> int:
    return sum(len(d.body) for d in outcome.documents) if isinstance(outcome, Fetched) else 0


def _without_bodies(outcome: Fetched | SourceError | Skipped) -> Fetched | SourceError | Skipped:
    if isinstance(outcome, Fetched) and outcome.documents:
        return replace(outcome, documents=())
    return outcome


def _summarize_one(job: SummaryJob) -> Summary | tuple[str, str]:
    """The summary, or a bug's message and traceback: one item's, not the pass's."""
    try:
        return job.run()
    except Exception as exc:
        return bug_message("summarizing", exc), bug_details(exc)
