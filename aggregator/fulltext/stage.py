"""The full-text stage: fetch the pages the decider chose, extract, store.

    Store.pages_wanted(sources, now, their selectors)  -> plan_pages (pure)  -> PagePlan
      -> each page through the feeds' HTTP client, conditionally, at most
         PAGES_PER_HOST per host at once               -> Fetched, or PageFailure
      -> extract_page in the workers (trafilatura, or the source's
         full_text_selector), PAGE_BYTES_AT_ONCE
         of pages at a time as they come               -> article HTML, or why none
      -> Store.save_pages                              one transaction

A page that cannot be fetched or gives no article is stored with its reason
(``aggregate status`` shows it) and leaves the item as the feed gave it; it
is never the source's error.  One whose fetch may succeed later (a timeout,
a 503) is stored with when to try it again (:func:`.decide.next_try`).
Summaries of the articles are made when the items are published, like those
of any item whose text has none yet.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import AsyncGenerator, Mapping, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar
from urllib.parse import urlsplit

from ..config import Config, SourceConfig
from ..errors import FetchError, StoreError
from ..fetch.fetcher import Fetcher
from ..models import Fetched, FetchState, Record
from ..redact import redact_url
from ..results import PassReport
from ..store import Store
from ..store.pages import PageWrite
from ..workers import Workers
from .decide import PageFailure, PageFetch, next_try, plan_pages

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# Pages fetched from one host at once: a site serving one article page a
# reader asks for is not a site that expects a crawler's burst.
PAGES_PER_HOST = 2
# A pass's pages, all together, take at most this many of fetch.timeout.
PASS_TIME_CAPS = 2
# Bytes of fetched pages held for extraction at once, at least: past them,
# what came is extracted while the rest are fetched (FullTextStage.run).
PAGE_BYTES_AT_ONCE = 16 * 1024 * 1024
# Copies looked at per page fetched: those that need no page (long enough
# for full_text: auto) are decided without a fetch and do not count.
_CANDIDATES_PER_PAGE = 4


@dataclass(frozen=True, slots=True)
class PageJob(Record):
    """A fetched page, for a worker to extract."""

    # Where it was found after redirects: its links' base, unless a <base href> names another.
    url: str
    body: bytes
    content_type: str | None
    selector: str | None = None  # the source's full_text_selector; None: trafilatura's choice

    def input_bytes(self) -> int:
        """What the extraction's memory and time grow with: the page's bytes."""
        return len(self.body)


@dataclass(frozen=True, slots=True)
class PageCounts:
    """What the stage did for one source this pass."""

    fetched: int = 0
    failed: int = 0


def extract_page(job: PageJob) -> tuple[str | None, str | None]:
    """(article HTML, None), or (None, why there is none): in a worker, never raises."""
    from .extract import NoArticle, extract_article

    try:
        return extract_article(job.body, job.url, job.content_type, job.selector), None
    except NoArticle as reason:
        return None, str(reason)
    except Exception as exc:  # a bug met on one page: that page's reason, not the pass's end
        return None, f"cannot extract the article: {type(exc).__name__}: {exc}"


def _extraction_lost(job: PageJob, why: str) -> tuple[str | None, str | None]:
    """What :func:`extract_page` says when the process extracting ended under
    it or ran too long, twice."""
    return None, f"the process extracting the article {why}"


class FullTextStage:
    """Fetches, extracts and stores the pages of one update's sources."""

    def __init__(self, config: Config, store: Store, fetcher: Fetcher, workers: Workers):
        self.config = config
        self.store = store
        self.fetcher = fetcher
        self.workers = workers
        self.deadline = PASS_TIME_CAPS * config.fetch.timeout  # seconds for all of a pass's pages
        self.bytes_at_once = PAGE_BYTES_AT_ONCE

    async def run_for(
        self, sources: Sequence[SourceConfig], report: PassReport, now: datetime
    ) -> None:
        """:meth:`run`, its counts added to the pass's ``report`` (each source's
        result counts its pages).  A page's failure is stored as its reason,
        never the source's error; only the store failing ends the pass."""
        try:
            counts = await self.run(sources, now)
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

    async def run(self, sources: Sequence[SourceConfig], now: datetime) -> dict[str, PageCounts]:
        """The pages wanted by ``sources`` (those with ``full_text`` on), up to
        ``full_text_max_pages``; per source, how many were fetched and failed."""
        by_name = {s.name: s for s in sources if s.full_text != "off" and s.enabled}
        if not by_name:
            return {}
        limit = self.config.full_text_max_pages
        # A page extracted with another selector than its source's now is
        # wanted again: editing the selector is how a user fixes a site.
        selectors = {
            name: source.full_text_selector
            for name, source in by_name.items()
            if source.full_text_selector is not None
        }
        candidates = self.store.pages_wanted(by_name, limit * _CANDIDATES_PER_PAGE, now, selectors)
        plan = plan_pages(candidates, by_name, limit, now)
        writes = list(plan.not_needed)
        hosts: Mapping[str, asyncio.Semaphore] = defaultdict(
            lambda: asyncio.Semaphore(PAGES_PER_HOST)
        )

        async def get(page: PageFetch) -> Fetched | PageFailure:
            async with hosts[(urlsplit(page.url).hostname or "").lower()]:
                try:
                    return await self.fetcher.fetch_page(
                        page.candidate.source,
                        page.url,
                        page.candidate.previous or FetchState(),
                        private_hosts=page.private_hosts,
                        headers=page.headers,
                    )
                except FetchError as error:
                    return PageFailure(error.message, error.transient, error.retry_after)
                except StoreError:
                    raise
                except Exception as exc:  # a bug met on one page: its reason
                    return PageFailure(f"cannot fetch the page: {type(exc).__name__}: {exc}")

        async def extract(batch: list[tuple[PageFetch, FetchState, PageJob]]) -> None:
            jobs = [job for _page, _state, job in batch]
            size = sum(len(job.body) for job in jobs)
            # Weighed, as feeds are: a page of a megabyte or more (a parse
            # tree of several times that) runs in a process of its own,
            # which ends with it, and no two at once (see .workers).
            results = await self.workers.map(
                extract_page,
                jobs,
                heavy=self.workers.pooled(size),
                weigh=PageJob.input_bytes,
                lost=_extraction_lost,
            )
            for (page, state, _job), (article, why) in zip(batch, results, strict=True):
                writes.append(_page_write(page, now, state=state, article_html=article, error=why))

        page_of = {asyncio.ensure_future(get(page)): page for page in plan.fetch}
        # Bodies are extracted a batch at a time as they come, each let go
        # once its batch is: holding every page fetched until the last came
        # was up to full_text_max_pages times fetch.max_bytes (1 GB).
        batch: list[tuple[PageFetch, FetchState, PageJob]] = []
        held = 0
        # Each page has the feeds' time cap; the pass as a whole has this
        # one, so that a slow site cannot hold the pass (and the publish
        # after it) for a page count's worth of time caps.  Pages not in by
        # then get no row: the next pass asks for them again.
        async with aclosing(_as_they_end(set(page_of), self.deadline)) as ended:
            async for task in ended:
                page, response = page_of.pop(task), task.result()
                if isinstance(response, PageFailure):
                    writes.append(
                        _page_write(
                            page,
                            now,
                            error=response.reason,
                            failures=page.candidate.failures + 1,
                            retry_at=next_try(page.candidate.failures, response, now),
                        )
                    )
                elif response.not_modified:  # the article stored for it is still the page's
                    writes.append(_page_write(page, now, state=response.state, keep_article=True))
                else:
                    document = response.documents[0]
                    job = PageJob(
                        document.location, document.body, document.content_type, page.selector
                    )
                    batch.append((page, response.state, job))
                    held += len(job.body)
                    if held >= self.bytes_at_once:
                        await extract(batch)
                        batch, held = [], 0
        if batch:
            await extract(batch)
        counts: dict[str, PageCounts] = {}
        for write in writes:
            if write.url is None:
                continue  # none needed
            before = counts.get(write.source, PageCounts())
            counts[write.source] = PageCounts(
                before.fetched + 1, before.failed + (write.error is not None)
            )
            if write.error is not None:
                log.info("%s: full text of %s: %s", write.source, write.url, write.error)
        with self.store.transaction():
            self.store.save_pages(writes)
        return counts


async def _as_they_end(
    tasks: set[asyncio.Task[_T]], seconds: float
) -> AsyncGenerator[asyncio.Task[_T], None]:
    """Each of ``tasks`` as it ends, for ``seconds`` at most; those still
    running then, or when the caller stops, are cancelled."""
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    pending = tasks
    try:
        while pending:
            done, pending = await asyncio.wait(
                pending, timeout=max(0.0, end - loop.time()), return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                break
            for task in done:
                yield task
    finally:
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)


def _page_write(
    page: PageFetch,
    now: datetime,
    *,
    state: FetchState | None = None,
    article_html: str | None = None,
    error: str | None = None,
    keep_article: bool = False,
    failures: int = 0,
    retry_at: datetime | None = None,
) -> PageWrite:
    candidate = page.candidate
    return PageWrite(
        candidate.source,
        candidate.entry_key,
        candidate.content_hash,
        # Shown by aggregate status and logged: never with credentials.
        redact_url(page.url),
        now,
        state=state,
        article_html=article_html,
        error=error,
        keep_article=keep_article,
        failures=failures,
        retry_at=retry_at,
        selector=page.selector,
    )
