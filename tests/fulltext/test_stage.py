"""The full-text stage with a fake fetcher at its seam: the pass's deadline
and the per-host bound, which a loopback server could show only by waiting."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aggregator.config import parse_config
from aggregator.errors import FetchError
from aggregator.fulltext.stage import PAGES_PER_HOST, FullTextStage
from aggregator.models import Document, Fetched, FetchState
from aggregator.request_headers import ScopedHeaders
from aggregator.store import open_store
from aggregator.workers import LARGE_JOB_BYTES, Workers
from tests.fulltext.test_full_text import article_page
from tests.store.test_items_contract import WHEN, apply, new


class FakeFetcher:
    """Answers each page at once, but holds those whose URL ends with ``hang``
    until released; counts how many it serves at once per host."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.open: dict[str, int] = {}
        self.most_open = 0

    async def fetch_page(
        self,
        source: str,
        url: str,
        state: FetchState,
        *,
        private_hosts: frozenset[str] = frozenset(),
        headers: ScopedHeaders | None = None,
    ) -> Fetched:
        host = url.split("/")[2]
        self.open[host] = self.open.get(host, 0) + 1
        self.most_open = max(self.most_open, self.open[host])
        try:
            await asyncio.sleep(0)  # let the others start, if they may
            if url.endswith("hang"):
                await self.release.wait()
            if url.endswith("missing"):
                raise FetchError(source, "HTTP 404 Not Found", status=404)
            body = article_page(1, "Story")
            return Fetched(source, (Document(url, body, "text/html"),), FetchState(etag='"1"'))
        finally:
            self.open[host] -= 1


def test_pages_late_for_the_passs_deadline_are_left_for_the_next_pass(tmp_path: Path) -> None:
    config = parse_config(
        "sources:\n  - {name: one, url: 'https://one.example/feed', section: S, full_text: true}\n",
        tmp_path / "feeds.yaml",
    )
    store = open_store(tmp_path / "store.db")
    steps = [new("one", key, n, url=f"https://one.example/{key}") for n, key in
             enumerate(["a", "b-missing", "c-hang", "d", "e"])]  # fmt: skip
    apply(store, "one", *steps)
    fetcher = FakeFetcher()
    stage = FullTextStage(config, store, fetcher, Workers(processes=1))  # type: ignore[arg-type]
    stage.deadline = 0.2

    counts = asyncio.run(stage.run(config.sources, WHEN))

    assert fetcher.most_open == PAGES_PER_HOST
    assert (counts["one"].fetched, counts["one"].failed) == (4, 1)
    (late,) = store.pages_wanted(["one"], 10, WHEN)
    assert late.entry_key == "c-hang"
    health = store.page_health(["one"])["one"]
    assert health.last_failure == ("https://one.example/b-missing", "HTTP 404 Not Found")
    store.close()


class BigPages(FakeFetcher):
    """Each page padded to about ``size`` bytes (a comment after its article)."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size

    async def fetch_page(
        self,
        source: str,
        url: str,
        state: FetchState,
        *,
        private_hosts: frozenset[str] = frozenset(),
        headers: ScopedHeaders | None = None,
    ) -> Fetched:
        fetched = await super().fetch_page(
            source, url, state, private_hosts=private_hosts, headers=headers
        )
        (document,) = fetched.documents
        padded = document.body + b"<!--" + b"x" * self.size + b"-->"
        return Fetched(source, (Document(url, padded, "text/html"),), fetched.state)


class CountingWorkers(Workers):
    """Workers that note the bytes of page bodies each extraction call holds."""

    def __init__(self) -> None:
        super().__init__(processes=1)
        self.held: list[int] = []
        self.weights: list[int] = []

    async def map(self, function: Any, jobs: Sequence[Any], **options: Any) -> list[Any]:
        self.held.append(sum(len(job.body) for job in jobs))
        weigh = options.get("weigh")
        self.weights += [weigh(job) if weigh else 0 for job in jobs]
        return await super().map(function, jobs, **options)


def test_a_large_page_is_extracted_in_a_process_of_its_own(tmp_path: Path) -> None:
    """A page of LARGE_JOB_BYTES or more is weighed so: the workers run it in
    a process that ends with it, not in a worker of the pool, which would
    keep the memory of its parse tree for the rest of the pass."""
    config = parse_config(
        "sources:\n  - {name: one, url: 'https://one.example/feed', section: S, full_text: true}\n",
        tmp_path / "feeds.yaml",
    )
    store = open_store(tmp_path / "store.db")
    apply(store, "one", new("one", "big", 0, url="https://h.example/big"))
    workers = CountingWorkers()
    stage = FullTextStage(config, store, BigPages(LARGE_JOB_BYTES), workers)  # type: ignore[arg-type]

    counts = asyncio.run(stage.run(config.sources, WHEN))

    assert (counts["one"].fetched, counts["one"].failed) == (1, 0)
    assert workers.weights and workers.weights[0] >= LARGE_JOB_BYTES, workers.weights
    store.close()


def test_pages_are_extracted_a_batch_of_bytes_at_a_time(tmp_path: Path) -> None:
    config = parse_config(
        "sources:\n  - {name: one, url: 'https://one.example/feed', section: S, full_text: true}\n",
        tmp_path / "feeds.yaml",
    )
    store = open_store(tmp_path / "store.db")
    keys = [f"p{n}" for n in range(6)]
    steps = [new("one", key, n, url=f"https://h{n}.example/{key}") for n, key in enumerate(keys)]
    apply(store, "one", *steps)
    workers = CountingWorkers()
    stage = FullTextStage(config, store, BigPages(100_000), workers)  # type: ignore[arg-type]
    stage.bytes_at_once = 250_000  # two and a half pages

    counts = asyncio.run(stage.run(config.sources, WHEN))

    assert (counts["one"].fetched, counts["one"].failed) == (6, 0)
    assert sum(workers.held) > 6 * 100_000 and len(workers.held) >= 2, workers.held
    assert max(workers.held) < 250_000 + 110_000, workers.held  # the budget, and the page past it
    # Each page weighed by its bytes: one of LARGE_JOB_BYTES or more runs alone.
    assert len(workers.weights) == 6 and min(workers.weights) >= 100_000, workers.weights
    health = store.page_health(["one"])["one"]
    assert health.last_failure is None
    store.close()


def test_a_sources_selector_reaches_the_worker_in_a_process_of_its_own(tmp_path: Path) -> None:
    """full_text_selector goes from the source to the page's job, which is
    weighed as any page is: a page of LARGE_JOB_BYTES still runs alone; the
    page is stored with the selector, and not wanted again until it changes."""
    config = parse_config(
        "full_text_selector: 'nav, footer'\nsources:\n"
        "  - {name: one, url: 'https://one.example/feed', section: S, full_text: true}\n",
        tmp_path / "feeds.yaml",
    )
    store = open_store(tmp_path / "store.db")
    (item_id,) = apply(store, "one", new("one", "big", 0, url="https://h.example/big"))
    workers = CountingWorkers()
    stage = FullTextStage(config, store, BigPages(LARGE_JOB_BYTES), workers)  # type: ignore[arg-type]

    counts = asyncio.run(stage.run(config.sources, WHEN))

    assert (counts["one"].fetched, counts["one"].failed) == (1, 0)
    assert workers.weights and workers.weights[0] >= LARGE_JOB_BYTES, workers.weights
    (item,) = store.items_by_id([item_id])
    assert "Sports" in item.content_html and "Copyright Harbour News" in item.content_html
    assert "Background" not in item.content_html  # trafilatura's article, not the selector's
    assert store.pages_wanted(["one"], 10, WHEN, {"one": "nav, footer"}) == []
    assert [c.entry_key for c in store.pages_wanted(["one"], 10, WHEN, {"one": "main"})] == ["big"]
    store.close()
