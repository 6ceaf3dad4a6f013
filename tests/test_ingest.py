"""ingest: what a worker makes of one source's bytes (parse, keys, features)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.config import parse_config
from aggregator.dedup import near
from aggregator.dedup.keys import content_fingerprint
from aggregator.dedup.merge import prepare_copy
from aggregator.errors import ParseError, ProcessingError
from aggregator.fetch.fetcher import SourceFetcher
from aggregator.ingest import EARLIEST, Ingested, IngestJob, ingest
from aggregator.ingesting import Ingester
from aggregator.models import Document, Fetched, FetchState, ParsedItem
from aggregator.parse import parse_fetched
from aggregator.parse.normalize import plain_text
from aggregator.pipeline import Pipeline
from aggregator.publishing import Publisher
from aggregator.store import open_store
from aggregator.workers import POOL_MIN_BYTES, Workers
from tests.conftest import DATA

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
RSS = (DATA / "feeds" / "rss20.xml").read_bytes()
LONG = " ".join(f"Sentence number {n} says something about the harbour works." for n in range(30))


def fetched(body: bytes, source: str = "Example") -> Fetched:
    document = Document("https://example.org/feed", body, "application/rss+xml")
    return Fetched(source, (document,), FetchState())


def rss(*items: tuple[str, str, str]) -> bytes:
    entries = "".join(
        f"<item><guid>{guid}</guid><title>{title}</title><description>{text}</description>"
        f"<pubDate>{date}</pubDate></item>"
        for guid, title, text, date in (
            (guid, title, text, "Tue, 24 Nov 2026 10:00:00 GMT") for guid, title, text in items
        )
    )
    return f'<rss version="2.0"><channel><title>T</title>{entries}</channel></rss>'.encode()


def test_every_item_gets_its_keys_and_facts() -> None:
    result = ingest(IngestJob(fetched(RSS), NOW))
    assert isinstance(result, Ingested)
    assert len(result.copies) == len(result.feed.items) > 0
    assert all(copy.facts is not None for copy in result.copies)
    assert [copy.item for copy in result.copies] == list(result.feed.items)


def test_content_the_source_stored_before_is_not_prepared_again() -> None:
    body = rss(
        ("a", "Harbour opens", LONG), ("b", "Bridge closes", LONG.replace("harbour", "bridge"))
    )
    first = ingest(IngestJob(fetched(body), NOW))
    assert isinstance(first, Ingested)
    stored = {copy.entry_key: copy.content_hash for copy in first.copies}
    edited = body.replace(b"Bridge closes", b"Bridge closes early")
    again = ingest(IngestJob(fetched(edited), NOW, stored=stored))
    assert isinstance(again, Ingested)
    unchanged, changed = again.copies
    assert unchanged.facts is None and changed.facts is not None


def test_the_source_language_fills_in_and_future_dates_become_now() -> None:
    body = rss(("a", "Later", LONG)).replace(b"2026", b"2031")
    result = ingest(IngestJob(fetched(body), NOW, language="de"))
    assert isinstance(result, Ingested)
    (item,) = result.feed.items
    assert item.language == "de"
    assert item.published == NOW
    assert result.copies[0].item == item  # what is stored is what was prepared


def test_bad_bytes_are_the_sources_parse_error() -> None:
    result = ingest(IngestJob(fetched(b"<html><body>not a feed</body></html>"), NOW))
    assert isinstance(result, ParseError)
    assert result.source == "Example"


@pytest.mark.parametrize("text", [LONG, "By Jane Doe. " + LONG + " Subscribe now.", "Short."])
def test_facts_share_the_words_but_equal_those_made_separately(text: str) -> None:
    (item,) = _items(rss(("a", "Harbour opens", text)))
    prepared = prepare_copy(item, {f"id:{item.entry_id}": "an older hash"})
    assert prepared.facts is not None
    body = plain_text(item.content_html)
    assert prepared.facts.fingerprint == content_fingerprint(item.title, body)
    separate = near.features(item.title, body)
    assert near.encode(prepared.facts.features) == near.encode(separate)
    assert prepared.facts.features.band_keys() == separate.band_keys()
    assert prepare_copy(item, {prepared.entry_key: prepared.content_hash}).facts is None


def test_a_pass_summarizes_what_it_publishes_and_nothing_else(tmp_path: Path) -> None:
    """Summaries are made for the published items only, under the key
    publishing looks them up by; an item past ``max_entries`` gets none."""
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    (feeds / "a.xml").write_bytes(RSS)
    (feeds / "b.xml").write_bytes(rss(("x", "Harbour opens", LONG)))
    config = parse_config(
        "store: db.sqlite\noutput:\n  dir: out\n  max_entries: 2\nsources:\n"
        "  - name: A\n    path: feeds/a.xml\n    section: S\n"
        "  - name: B\n    path: feeds/b.xml\n    section: S\n"
        "    language: en\n    algorithm: lead\n",
        tmp_path / "feeds.yaml",
    )
    store = open_store(config.store)
    try:

        async def run() -> tuple[int, int, list[str], list[str]]:
            async with Pipeline(config, store) as pipeline:
                report = await pipeline.update(config.sources, NOW)
                publisher = Publisher(config, store, Workers())
                stored = [publisher.summary_job(item).key for item in store.iter_items()]
                summarized, _published = await pipeline.publish_if_changed()
                latest = store.latest_items(2, sources={s.name: s for s in config.sources})
                published = [publisher.summary_job(item).key for item in latest]
            return report.summarized, summarized, stored, published

        while_storing, while_publishing, stored, published = asyncio.run(run())
        assert len(stored) > 2 and len(published) == 2
        assert while_storing == 0 and while_publishing == 2
        assert set(store.summaries(stored)) == set(published)
        assert all(summary.sections for summary in store.summaries(published).values())
    finally:
        store.close()


def _items(body: bytes) -> tuple:  # type: ignore[type-arg]
    result = ingest(IngestJob(fetched(body), NOW))
    assert isinstance(result, Ingested)
    return result.feed.items


def test_dates_in_the_slack_are_kept() -> None:
    soon = NOW + timedelta(hours=2)
    body = rss(("a", "Soon", LONG)).replace(
        b"Tue, 24 Nov 2026 10:00:00 GMT", soon.strftime("%a, %d %b %Y %H:%M:%S GMT").encode()
    )
    (item,) = _items(body)
    assert item.published == soon


def test_a_failure_after_parsing_is_the_sources_error_not_the_passs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aggregator.dedup import merge

    items = _items(RSS)
    assert len(items) >= 2
    culprit = items[1]
    real = merge.copy_facts_of

    def broken(made: Sequence[ParsedItem], texts: Sequence[str]) -> list[merge.CopyFacts]:
        # A bug met on one entry: the source's entries were prepared together.
        if any(item.title == culprit.title for item in made):
            raise ValueError("keys bug")
        return real(made, texts)

    monkeypatch.setattr(merge, "copy_facts_of", broken)
    result = ingest(IngestJob(fetched(RSS), NOW))
    assert isinstance(result, ProcessingError)
    assert "keys bug" in str(result) and result.source == "Example"
    # The entry it failed on is named, not the first; its traceback comes back for the log.
    assert repr(culprit.entry_id or culprit.link) in str(result)
    assert repr(items[0].entry_id or items[0].link) not in str(result)
    assert result.details is not None and "def broken" not in str(result)
    assert "keys bug" in result.details and "Traceback" in result.details


@pytest.mark.parametrize(
    "date",
    [b"Mon, 01 Jan 0001 00:00:00 GMT", b"Mon, 01 Jan 1900 00:00:00 GMT", b"31 Dec 1969 23:59 GMT"],
)
def test_dates_before_1970_are_clamped_to_it_and_the_document_kept_for_next_time(
    date: bytes,
) -> None:
    old = rss(("a", "Dated long ago", "Text.")).replace(b"Tue, 24 Nov 2026 10:00:00 GMT", date)
    result = ingest(IngestJob(fetched(old), NOW))
    assert isinstance(result, Ingested)
    assert result.feed.items[0].published == EARLIEST
    # Clamped for good: unlike a date ahead, its bytes need not be read again.
    assert result.feed.digests is not None


def test_a_document_with_an_entry_dated_ahead_is_read_whole_next_time() -> None:
    """It is stored as seen now; a later poll, once its date is near, stores
    its own date, which skipping its unchanged bytes would never do."""
    ahead = rss(("a", "Dated ahead", "Text.")).replace(
        b"Tue, 24 Nov 2026 10:00:00 GMT", b"Thu, 03 Dec 2026 10:00:00 GMT"
    )
    result = ingest(IngestJob(fetched(ahead), NOW))
    assert isinstance(result, Ingested)
    assert result.feed.items[0].published == NOW
    assert result.feed.digests is None
    later = ingest(IngestJob(fetched(ahead), NOW + timedelta(days=9)))
    assert isinstance(later, Ingested)
    assert later.feed.items[0].published == datetime(2026, 12, 3, 10, 0, tzinfo=UTC)
    assert later.feed.digests is not None


# What the workers' fork server does before forking, in a fresh
# interpreter: importing WORKER_MODULES in order (.workers, .preload).
AS_THE_FORK_SERVER = (
    "import gc, importlib, sys\n"
    "from aggregator.ingest import WORKER_MODULES\n"
    "for name in WORKER_MODULES:\n"
    "    importlib.import_module(name)\n"
)


def test_the_fork_server_loads_what_every_worker_would() -> None:
    script = AS_THE_FORK_SERVER + (
        "from aggregator.summarize.language import _identifier\n"
        "print(_identifier.cache_info().currsize, gc.get_freeze_count() > 0)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert done.stdout.split() == ["1", "True"]


TABLES_RESIDENT = AS_THE_FORK_SERVER + (
    "if sys.argv[1] == 'detect':\n"
    "    from aggregator.summarize.language import detect_language\n"
    "    detect_language('Le conseil municipal s est reuni lundi pour le budget de la ville.')\n"
    "mapped, resident, table = 0, 0, False\n"
    "for line in open('/proc/self/smaps'):\n"
    "    head = line.split()\n"
    "    if not head[0].endswith(':'):\n"
    "        table = head[-1].endswith(('nextmove.npy', 'ptc.npy'))\n"
    "        mapped += table\n"
    "    elif table and head[0] == 'Rss:':\n"
    "        resident += int(head[1])\n"
    "print(mapped, resident)\n"
)


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux's /proc")
def test_the_fork_server_maps_the_language_tables_without_reading_them(tmp_path: Path) -> None:
    # The tables are file pages: a worker that detects a language maps them
    # from the page cache, shared.  Read in the fork server, they would count
    # in its memory (up to 37 MB seen) in every pass, detecting or not.
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path)}

    def tables(mode: str) -> tuple[int, int]:
        done = subprocess.run(
            [sys.executable, "-c", TABLES_RESIDENT, mode],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
            env=env,
        )
        mapped, resident_kb = done.stdout.split()
        return int(mapped), int(resident_kb)

    preloaded, detected = tables("preload"), tables("detect")
    assert preloaded[0] == detected[0] == 2  # both tables mapped from the cache
    assert preloaded[1] < 1024
    # The measure sees pages read: one detection reads some (5 to 37 MB seen).
    assert detected[1] > preloaded[1]


# Latin-1 bytes that declare no encoding: not UTF-8, so feedparser asks chardet.
UNDECLARED_LATIN1 = rss(("c1", "Caf\u00e9 cr\u00e8me", "Une cr\u00e8me br\u00fbl\u00e9e.")).decode()
UNDECLARED_LATIN1_BYTES = UNDECLARED_LATIN1.encode("latin-1")


def test_a_document_only_chardet_reads_is_refused_where_chardet_may_not_load() -> None:
    from aggregator.parse.feed import EncodingDetectorRefused, refusing_encoding_detector

    job = IngestJob(fetched(UNDECLARED_LATIN1_BYTES), NOW)
    with refusing_encoding_detector(), pytest.raises(EncodingDetectorRefused):
        parse_fetched(job.fetched, local=False)
    # A document its declared (or default) encoding reads is not refused.
    with refusing_encoding_detector():
        assert parse_fetched(fetched(RSS), local=False).items
    # Elsewhere chardet reads it.
    feed = parse_fetched(job.fetched, local=False)
    assert feed.items[0].title == "Caf\u00e9 cr\u00e8me"


def test_the_pass_reads_a_document_that_needs_chardet_in_a_process_of_its_own(
    tmp_path: Path,
) -> None:
    # Heavy: the batch goes to the pool, whose workers refuse chardet; the
    # document is read again alone, as it would be in this process.
    padding = rss(*((f"p{n}", f"Padding {n}", LONG) for n in range(250)))
    config = parse_config(
        "store: a.db\nsources:\n"
        "  - {name: latin, url: 'https://latin.example/', section: S}\n"
        "  - {name: padding, url: 'https://padding.example/', section: S}\n",
        tmp_path / "feeds.yaml",
    )
    sources = config.sources
    outcomes = [fetched(UNDECLARED_LATIN1_BYTES, "latin"), fetched(padding, "padding")]
    assert sum(len(o.documents[0].body) for o in outcomes) > POOL_MIN_BYTES

    async def ingest_both() -> dict[str, object]:
        store = open_store(config.store)
        try:
            workers = Workers(processes=1)
            ingester = Ingester(config, store, SourceFetcher(config.fetch), workers)
            try:
                return dict(await ingester.ingest_batch(sources, outcomes, NOW))
            finally:
                workers.terminate()
        finally:
            store.close()

    results = asyncio.run(ingest_both())
    latin = results["latin"]
    assert isinstance(latin, Ingested), latin
    assert latin.feed.items[0].title == "Caf\u00e9 cr\u00e8me"
    assert isinstance(results["padding"], Ingested)


class _StoredCopies:
    """The two look-ups the ingester makes of a store: each source's stored copies."""

    def __init__(self, hashes: dict[str, dict[str, str]]):
        self.hashes = hashes

    def copy_hashes(self, source: str) -> dict[str, str]:
        return self.hashes.get(source, {})

    def entry_digests(self, source: str) -> None:
        return None


def _ingest_one(
    tmp_path: Path, body: bytes, *, stored: bool, waiting: int = 0
) -> tuple[object, float]:
    """One source's poll of ``body`` through the ingester, the source with a
    copy stored or not, ``waiting`` bytes behind it; its result, and the
    workers' thread_seconds left of 60 (less: the thread did the work)."""
    config = parse_config(
        "sources:\n  - {name: one, url: 'https://one.example/', section: S}\n",
        tmp_path / "feeds.yaml",
    )
    copies = _StoredCopies({"one": {"x": "hash"}} if stored else {})

    async def ingest_once() -> tuple[object, float]:
        workers = Workers(processes=1, thread_seconds=60.0)
        ingester = Ingester(config, copies, SourceFetcher(config.fetch), workers)  # type: ignore[arg-type]
        try:
            done = await ingester.ingest_batch(
                config.sources, [fetched(body, "one")], NOW, waiting=waiting
            )
            return done["one"], workers.thread_seconds
        finally:
            workers.terminate()

    return asyncio.run(ingest_once())


@pytest.mark.parametrize("stored", [False, True])
def test_a_first_poll_goes_to_the_pool_at_once_and_a_later_one_may_run_in_the_thread(
    tmp_path: Path, stored: bool
) -> None:
    """Rent or buy (the workers' thread_seconds): a source with copies
    stored works on its new entries only, which its bytes overstate, so it
    may run in this process's thread; a first poll's bytes are its work."""
    padding = rss(*((f"p{n}", f"Padding {n}", LONG) for n in range(250)))
    assert len(padding) > POOL_MIN_BYTES
    result, thread_seconds_left = _ingest_one(tmp_path, padding, stored=stored)
    assert isinstance(result, Ingested), result
    assert len(result.copies) == 250
    if stored:
        assert thread_seconds_left < 60.0  # the thread did the work
    else:
        assert thread_seconds_left == 60.0  # the pool did


@pytest.mark.parametrize("stored", [False, True])
def test_a_small_first_poll_with_more_waiting_goes_to_the_pool_at_once(
    tmp_path: Path, stored: bool
) -> None:
    """A first pass of small feeds: each batch's bytes are under the pool's
    threshold, but those waiting behind it are more first polls."""
    small = rss(("s0", "Small", LONG))
    assert len(small) < POOL_MIN_BYTES
    result, thread_seconds_left = _ingest_one(
        tmp_path, small, stored=stored, waiting=4 * POOL_MIN_BYTES
    )
    assert isinstance(result, Ingested), result
    assert (thread_seconds_left < 60.0) is stored  # the thread worked only on a later poll
