"""One update pass, wiring the stages; it makes no decisions of its own.

    fetch every source (concurrently)  |  parse what changed (all cores)
      |  deduplicate + store (one transaction per source)
      |  summarize what has no cached summary (all cores)  |  publish

A failing source is a value (:class:`SourceResult` with its error), recorded
in the store; the pass goes on with the others.  Anything else that goes
wrong is a bug and surfaces.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

from .config import Config, SourceConfig
from .errors import FetchError, ParseError, SourceError
from .fetch.http import HttpFetcher
from .fetch.local import read_local
from .models import Entry, Fetched, ParsedFeed, ParsedItem, SourceState, Summary
from .schedule import Timing, judge_redirect, next_due
from .store import Store, StoredItem, open_store
from .workers import Workers

if TYPE_CHECKING:
    from .publish import PublishReport

# Parsing (feedparser), deduplicating (numpy), summarizing (sumy, NLTK) and
# publishing (feedgen, Jinja2) are imported where they are first used: a
# pass in which nothing changed needs none of them, and importing them
# would be most of its time.

log = logging.getLogger(__name__)

# Sources fetched, parsed, stored and summarized together.  The next batch is
# fetched while this one is worked on; only two batches' bodies are held at
# once, which bounds memory whatever the number of sources.
BATCH_SOURCES = 64
# Below this much text to parse or summarize, worker processes cost more to
# start (each imports feedparser, sumy and numpy: about a second) than they
# save; the work runs in a thread instead.  Measured: about 1 ms of CPU per
# item either way, so 4 MB is a few seconds of work.
_POOL_MIN_BYTES = 4_000_000
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


@dataclass(frozen=True, slots=True)
class SummaryJob:
    """What one summary depends on; ``key`` names it in the summary cache."""

    html: str
    sentences: int
    max_sentences: int
    words_per_sentence: int
    algorithm: str
    language: str
    key: str

    @classmethod
    def of(
        cls,
        html: str,
        *,
        sentences: int,
        max_sentences: int,
        words_per_sentence: int,
        algorithm: str,
        language: str,
    ) -> SummaryJob:
        from .summarize import summary_cache_key
        from .summarize.language import resolve_language

        # Resolved once, here: the worker that summarizes gets a known language
        # and does not detect it again (detection is a sixth of a summary's cost).
        language = resolve_language(language, html)
        key = summary_cache_key(
            html,
            sentences=sentences,
            max_sentences=max_sentences,
            words_per_sentence=words_per_sentence,
            algorithm=algorithm,
            language=language,
        )
        return cls(html, sentences, max_sentences, words_per_sentence, algorithm, language, key)

    def run(self) -> Summary:
        from .summarize import summarize_html

        return summarize_html(
            self.html,
            sentences=self.sentences,
            max_sentences=self.max_sentences,
            words_per_sentence=self.words_per_sentence,
            algorithm=self.algorithm,
            language=self.language,
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
        self._workers = Workers()
        store.sync_sources((s.name, s.location, s.section) for s in config.sources)

    async def __aenter__(self) -> Pipeline:
        await self._http.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.__aexit__(None, None, None)
        self._workers.close()

    async def update(
        self,
        sources: Sequence[SourceConfig],
        now: datetime,
        progress: Callable[[str], None] | None = None,
    ) -> PassReport:
        """Fetch, parse, store and summarize the given sources; every result is a value.

        The stages overlap, batch by batch: while this process stores batch
        i, batch i+1 is parsed and batch i-1 summarized by the workers, and
        batch i+2 is fetched.  Storing stays in this process and in source
        order, so the outcome is the same as one stage after another.
        """
        report = PassReport()
        states = {s.name: s for s in self.store.source_states()}
        batches = [sources[i : i + BATCH_SOURCES] for i in range(0, len(sources), BATCH_SOURCES)]
        if not batches:
            return report

        def fetch(index: int) -> asyncio.Future[list[Fetched | SourceError | Skipped]]:
            return asyncio.ensure_future(self._fetch_all(batches[index], states, now))

        async def parse(
            index: int, fetching: asyncio.Future[list[Fetched | SourceError | Skipped]]
        ) -> tuple[list[Fetched | SourceError | Skipped], dict[str, ParsedFeed | ParseError]]:
            fetched = await fetching
            return fetched, await self._parse_all(batches[index], fetched)

        parsing = asyncio.ensure_future(parse(0, fetch(0)))
        fetching = fetch(1) if len(batches) > 1 else None
        summarizing: list[asyncio.Future[int]] = []
        for index, batch in enumerate(batches):
            fetched, parsed = await parsing
            if fetching is not None:
                parsing = asyncio.ensure_future(parse(index + 1, fetching))
                fetching = fetch(index + 2) if index + 2 < len(batches) else None
            report.parsed += len(parsed)
            touched: list[int] = []
            # One commit per batch: a commit is most of the cost of storing a
            # source that did not change, and a crash loses at most this batch,
            # which the next pass fetches again.
            with self.store.transaction():
                for source, outcome in zip(batch, fetched, strict=True):
                    state = states[source.name]
                    if isinstance(outcome, Skipped):
                        result = SourceResult(source.name, skipped=outcome, next_due=state.next_due)
                    else:
                        result = self._store_source(
                            source, state, outcome, parsed.get(source.name), touched, now
                        )
                    report.results.append(result)
                    if progress is not None:
                        progress(source.name)
            report.touched.extend(touched)
            summarizing.append(asyncio.ensure_future(self.summarize(touched)))
            # Let the summaries fall behind by a batch at most: they hold the
            # items' text in memory until done.
            if len(summarizing) > 1:
                report.summarized += await summarizing.pop(0)
        for pending in summarizing:
            report.summarized += await pending
        return report

    async def _fetch_all(
        self, sources: Sequence[SourceConfig], states: dict[str, SourceState], now: datetime
    ) -> list[Fetched | SourceError | Skipped]:
        return list(await asyncio.gather(*(self._fetch(s, states[s.name], now) for s in sources)))

    async def _parse_all(
        self, sources: Sequence[SourceConfig], fetched: Sequence[Fetched | SourceError | Skipped]
    ) -> dict[str, ParsedFeed | ParseError]:
        changed = [f for f in fetched if isinstance(f, Fetched) and not f.not_modified]
        local = {s.name: s.path is not None for s in sources}
        size = sum(len(d.body) for f in changed for d in f.documents)
        results = await self._workers.map(
            _parse_one,
            [(f, local[f.source], self.config.fetch.max_items) for f in changed],
            heavy=size > _POOL_MIN_BYTES,
        )
        return {f.source: p for f, p in zip(changed, results, strict=True)}

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
            return await asyncio.to_thread(
                read_local,
                source.name,
                source.path,
                state.fetch_state,
                max_bytes=self.config.fetch.max_bytes,
            )
        except SourceError as error:
            return error

    def _store_source(
        self,
        source: SourceConfig,
        stored: SourceState,
        fetched: Fetched | SourceError,
        parsed: ParsedFeed | ParseError | None,
        touched: list[int],
        now: datetime,
    ) -> SourceResult:
        result = SourceResult(source.name)
        error = fetched if isinstance(fetched, SourceError) else parsed
        broken = None
        if isinstance(fetched, Fetched):
            if isinstance(parsed, ParseError):
                broken = fetched.state
            elif (
                fetched.not_modified
                and stored.broken_hash is not None
                and fetched.state.content_hash == stored.broken_hash
            ):
                # The same bytes that did not parse last time: the same error,
                # without parsing them again.
                error = ParseError(source.name, (stored.last_error or "").split(": ", 1)[-1])
                broken = fetched.state
        with self.store.transaction():
            if isinstance(error, SourceError):
                result.error = error
                retry_after = error.retry_after if isinstance(error, FetchError) else None
                self.store.record_failure(source.name, now, str(error), broken, retry_after)
                log.warning("%s", error)
            else:
                assert isinstance(fetched, Fetched)
                self._store_items(source, stored, fetched, parsed, result, touched, now)
            failure = error if isinstance(error, SourceError) else None
            result.next_due = self._schedule(source, stored, fetched, parsed, failure, now)
        return result

    def _store_items(
        self,
        source: SourceConfig,
        stored: SourceState,
        fetched: Fetched,
        parsed: ParsedFeed | ParseError | None,
        result: SourceResult,
        touched: list[int],
        now: datetime,
    ) -> None:
        if fetched.not_modified or parsed is None:
            result.not_modified = True
            self.store.record_not_modified(source.name, now, fetched.state)
            return
        assert isinstance(parsed, ParsedFeed)
        from .dedup.exact import Outcome
        from .dedup.merge import merge_item
        from .parse.normalize import plain_text

        result.warning = parsed.warning
        for item in parsed.items:
            if source.language and not item.language:
                item = replace(item, language=source.language)
            item = _clamp_dates(item, now)
            outcome, item_id = merge_item(
                self.store,
                source.name,
                source.section,
                item,
                plain_text(item.content_html),
                now,
                self.config.dedup,
            )
            if outcome is Outcome.NEW:
                result.new += 1
            elif outcome is Outcome.MERGED:
                result.merged += 1
            elif outcome is Outcome.UPDATED:
                result.updated += 1
            else:
                result.unchanged += 1
            if outcome is not Outcome.UNCHANGED:
                touched.append(item_id)
        if result.changed or (parsed.title, parsed.link) != (stored.title, stored.site_link):
            self.store.bump_generation()
        self.store.record_success(
            source.name, now, fetched.state, parsed.title, parsed.link, parsed.ttl_seconds
        )

    def _schedule(
        self,
        source: SourceConfig,
        stored: SourceState,
        fetched: Fetched | SourceError,
        parsed: ParsedFeed | ParseError | None,
        error: SourceError | None,
        now: datetime,
    ) -> datetime | None:
        """Apply the scheduling rules of :mod:`.schedule` to this poll's outcome."""
        timing = Timing(source.interval, self.config.min_interval, self.config.max_interval)
        gone = isinstance(error, FetchError) and error.status == 410
        if gone:
            self.store.disable_source(source.name, "gone (HTTP 410): no longer polled")
            log.warning("%s: HTTP 410 Gone; the source is disabled", source.name)
        if error is not None:
            due = next_due(
                now,
                timing,
                failures=stored.consecutive_failures + 1,
                retry_after=error.retry_after if isinstance(error, FetchError) else None,
                gone=gone,
                jitter=self.jitter(),
            )
        else:
            assert isinstance(fetched, Fetched)
            ttl = parsed.ttl_seconds if isinstance(parsed, ParsedFeed) else stored.feed_ttl
            hints = [h for h in (fetched.cache_seconds, ttl) if h]
            due = next_due(now, timing, cache_seconds=max(hints) if hints else None)
        redirect = fetched.permanent_redirect if isinstance(fetched, Fetched) else None
        verdict = judge_redirect(redirect, stored.redirect_target, stored.redirect_count)
        if verdict.move_to is not None and verdict.move_to != (stored.url or source.url):
            self.store.move_source(source.name, verdict.move_to)
            log.warning(
                "%s: moved permanently from %s to %s",
                source.name,
                stored.url or source.url,
                verdict.move_to,
            )
        self.store.record_schedule(source.name, due, verdict.pending_target, verdict.seen_count)
        return due

    def summary_job(self, item: StoredItem) -> SummaryJob:
        settings = self.config.summary
        source = self._sources.get(item.lead_source)
        return SummaryJob.of(
            item.content_html,
            sentences=settings.sentences,
            max_sentences=settings.max_sentences,
            words_per_sentence=settings.words_per_sentence,
            algorithm=(source.algorithm if source else None) or settings.algorithm,
            language=item.language or settings.language,
        )

    async def summarize(self, item_ids: Iterable[int]) -> int:
        """Summarize the given items that have no summary for today's settings yet."""
        ids = sorted(set(item_ids))
        if not ids:
            return 0
        return await self._summarize_jobs(list(map(self.summary_job, self.store.items_by_id(ids))))

    async def _summarize_jobs(self, jobs: Sequence[SummaryJob]) -> int:
        by_key = {job.key: job for job in jobs}
        known = self.store.summaries(list(by_key))
        missing = [job for key, job in by_key.items() if key not in known]
        if not missing:
            return 0
        size = sum(len(job.html) for job in missing)
        summaries = await self._workers.map(_summarize_one, missing, heavy=size > _POOL_MIN_BYTES)
        with self.store.transaction():
            self.store.save_summaries(
                {job.key: s for job, s in zip(missing, summaries, strict=True)}
            )
            self.store.bump_generation()
        return len(missing)

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
        return publish(merged, meta, self.config.output.dir)

    def _publish_state(self) -> str:
        """Everything the published files depend on, as one hash: the store's
        generation, the settings that shape the output, and this program's version."""
        config = self.config
        facts = {
            "generation": self.store.get_meta("generation"),
            "format": _PUBLISH_FORMAT,
            "version": _package_version(),
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


def _package_version() -> str:
    try:
        return version("aggregator")
    except PackageNotFoundError:
        return "unknown"


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


# A date further ahead than this is a mistake or a trick (it would pin the
# entry to the top of every feed for years): it becomes the time it was seen.
_FUTURE_SLACK = timedelta(days=1)


def _clamp_dates(item: ParsedItem, now: datetime) -> ParsedItem:
    limit = now + _FUTURE_SLACK
    published = item.published if item.published is None or item.published <= limit else now
    updated = item.updated if item.updated is None or item.updated <= limit else now
    if (published, updated) == (item.published, item.updated):
        return item
    return replace(item, published=published, updated=updated)


def _parse_one(job: tuple[Fetched, bool, int]) -> ParsedFeed | ParseError:
    from .parse import parse_fetched

    fetched, local, max_items = job
    try:
        return parse_fetched(fetched, local=local, max_items=max_items)
    except ParseError as error:
        return error
    except RecursionError:
        return ParseError(fetched.source, "document nested too deeply to read")
    except Exception as exc:
        log.exception("parser failed on %s", fetched.source)
        return ParseError(fetched.source, f"parser failed: {type(exc).__name__}: {exc}")


def _summarize_one(job: SummaryJob) -> Summary:
    return job.run()
