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
import logging
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TypeVar

from .config import Config, SourceConfig
from .dedup.exact import Outcome, merge_item
from .errors import ParseError, SourceError
from .fetch.http import HttpFetcher
from .fetch.local import read_local
from .models import Entry, FeedMeta, Fetched, ParsedFeed, ParsedItem, SourceState, Summary
from .parse import parse_fetched
from .parse.normalize import plain_text
from .publish import PublishReport, publish
from .store import Store, StoredItem, open_store
from .summarize import summarize_html, summary_cache_key

log = logging.getLogger(__name__)

# Below these sizes a worker pool costs more to start than it saves.
_POOL_MIN_BYTES = 2_000_000
_POOL_MIN_SUMMARIES = 40

_T = TypeVar("_T")
_R = TypeVar("_R")


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

    @property
    def status(self) -> str:
        if self.error is not None:
            return "error"
        if self.new or self.merged:
            return "new"
        if self.updated:
            return "updated"
        return "unchanged"

    def line(self) -> str:
        """One status line, as the command line prints it."""
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
    parsed: int = 0  # sources whose bytes were parsed
    summarized: int = 0  # summaries computed (not taken from the cache)
    published: PublishReport | None = None

    @property
    def all_failed(self) -> bool:
        return bool(self.results) and all(r.error is not None for r in self.results)

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
    """What one summary depends on; its key names it in the summary cache."""

    html: str
    sentences: int
    algorithm: str
    language: str

    @property
    def key(self) -> str:
        return summary_cache_key(
            self.html, sentences=self.sentences, algorithm=self.algorithm, language=self.language
        )


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def run_once(
    config: Config, *, now: datetime | None = None, progress: Callable[[str], None] | None = None
) -> PassReport:
    """Poll every source once, store what is new, summarize it and publish."""
    when = now or utc_now()
    store = open_store(config.store)
    try:
        return Pass(config, store, when, progress).run(list(config.sources))
    finally:
        store.close()


class Pass:
    """One pass over some sources against an open store."""

    def __init__(
        self,
        config: Config,
        store: Store,
        when: datetime,
        progress: Callable[[str], None] | None = None,
    ):
        self.config = config
        self.store = store
        self.when = when
        self.progress = progress or (lambda _name: None)

    def run(self, sources: Sequence[SourceConfig]) -> PassReport:
        report = PassReport()
        self.store.sync_sources((s.name, s.location, s.section) for s in self.config.sources)
        states = {s.name: s for s in self.store.source_states()}
        fetched = asyncio.run(self.fetch_all(sources, states))
        changed = [f for f in fetched if isinstance(f, Fetched) and not f.not_modified]
        by_source = {s.name: s for s in sources}
        parsed = dict(
            zip(
                (f.source for f in changed),
                _map(
                    _parse_one,
                    [(f, by_source[f.source].path is not None) for f in changed],
                    pool=sum(len(d.body) for f in changed for d in f.documents) > _POOL_MIN_BYTES,
                ),
                strict=True,
            )
        )
        report.parsed = len(changed)
        touched: list[int] = []
        for source, outcome in zip(sources, fetched, strict=True):
            result = self.store_source(
                source, states[source.name], outcome, parsed.get(source.name), touched
            )
            report.results.append(result)
            self.progress(source.name)
        report.summarized = self.summarize(touched)
        report.published = self.publish()
        return report

    async def fetch_all(
        self, sources: Sequence[SourceConfig], states: Mapping[str, SourceState]
    ) -> list[Fetched | SourceError]:
        async with HttpFetcher(self.config.fetch) as http:

            async def one(source: SourceConfig) -> Fetched | SourceError:
                state = states[source.name].fetch_state
                try:
                    if source.url is not None:
                        return await http.fetch(source.name, source.url, state)
                    assert source.path is not None
                    return await asyncio.to_thread(
                        read_local,
                        source.name,
                        source.path,
                        state,
                        max_bytes=self.config.fetch.max_bytes,
                    )
                except SourceError as error:
                    return error

            return list(await asyncio.gather(*(one(s) for s in sources)))

    def store_source(
        self,
        source: SourceConfig,
        stored: SourceState,
        fetched: Fetched | SourceError,
        parsed: ParsedFeed | ParseError | None,
        touched: list[int],
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
                and (fetched.state.content_hash == stored.broken_hash)
            ):
                # The same bytes that did not parse last time: the same error,
                # without parsing them again.
                error = ParseError(source.name, (stored.last_error or "").split(": ", 1)[-1])
                broken = fetched.state
        with self.store.transaction():
            if isinstance(error, SourceError):
                result.error = error
                self.store.record_failure(source.name, self.when, str(error), broken)
                log.warning("%s", error)
                return result
            assert isinstance(fetched, Fetched)
            if fetched.not_modified or parsed is None:
                result.not_modified = True
                self.store.record_not_modified(source.name, self.when, fetched.state)
                return result
            assert isinstance(parsed, ParsedFeed)
            result.warning = parsed.warning
            for item in parsed.items:
                if source.language and not item.language:
                    item = _with_language(item, source.language)
                outcome, item_id = merge_item(
                    self.store,
                    source.name,
                    source.section,
                    item,
                    plain_text(item.content_html),
                    self.when,
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
            self.store.record_success(
                source.name, self.when, fetched.state, parsed.title, parsed.link
            )
        return result

    def summary_job(self, item: StoredItem) -> SummaryJob:
        settings = self.config.summary
        return SummaryJob(
            item.content_html,
            settings.sentences,
            settings.algorithm,
            item.language or settings.language,
        )

    def summarize(self, touched: Iterable[int]) -> int:
        """Summarize the changed items and the published ones that lack a summary."""
        items = {i.id: i for i in self.store.latest_items(self.config.output.max_entries)}
        items.update((i.id, i) for i in self.store.items_by_id(sorted(set(touched))))
        jobs = {job.key: job for job in map(self.summary_job, items.values())}
        known = self.store.summaries(list(jobs))
        missing = [job for key, job in jobs.items() if key not in known]
        if not missing:
            return 0
        summaries = _map(_summarize_one, missing, pool=len(missing) >= _POOL_MIN_SUMMARIES)
        self.store.save_summaries({job.key: s for job, s in zip(missing, summaries, strict=True)})
        return len(missing)

    def publish(self) -> PublishReport:
        items = self.store.latest_items(self.config.output.max_entries)
        keys = [self.summary_job(item).key for item in items]
        summaries = self.store.summaries(keys)
        entries = [_entry(item, summaries.get(key)) for item, key in zip(items, keys, strict=True)]
        meta = FeedMeta(
            title=self.config.title, base_url=self.config.base_url, sections=self.config.sections
        )
        return publish(entries, meta, self.config.output.dir)


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


def _with_language(item: ParsedItem, language: str) -> ParsedItem:
    return replace(item, language=language)


def _parse_one(job: tuple[Fetched, bool]) -> ParsedFeed | ParseError:
    fetched, local = job
    try:
        return parse_fetched(fetched, local=local)
    except ParseError as error:
        return error
    except RecursionError:
        return ParseError(fetched.source, "document nested too deeply to read")
    except Exception as exc:
        log.exception("parser failed on %s", fetched.source)
        return ParseError(fetched.source, f"parser failed: {type(exc).__name__}: {exc}")


def _summarize_one(job: SummaryJob) -> Summary:
    return summarize_html(
        job.html, sentences=job.sentences, algorithm=job.algorithm, language=job.language
    )


def _map(function: Callable[[_T], _R], jobs: Sequence[_T], *, pool: bool) -> list[_R]:
    """``map`` over the jobs, in worker processes when it is worth their start-up."""
    workers = min(os.cpu_count() or 1, len(jobs))
    if not pool or workers < 2:
        return [function(job) for job in jobs]
    executor: Executor
    with ProcessPoolExecutor(max_workers=workers) as executor:
        return list(executor.map(function, jobs, chunksize=max(1, len(jobs) // (workers * 4))))
