"""publishing: what a publish after a pass does with the store (retention, feed dates)."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser

from aggregator.config import Config, parse_config
from aggregator.pipeline import Pipeline
from aggregator.publishing import Publisher
from aggregator.store import Store, open_store
from aggregator.workers import Workers

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
LONG = " ".join(f"Sentence number {n} says something about the harbour works." for n in range(8))


def _rss(*items: tuple[str, datetime]) -> bytes:
    body = "".join(
        f"<item><guid>{guid}</guid><title>Story {guid}</title><link>https://a.example/{guid}</link>"
        f"<description>{LONG}</description>"
        f"<pubDate>{when.strftime('%a, %d %b %Y %H:%M:%S GMT')}</pubDate></item>"
        for guid, when in items
    )
    return f'<rss version="2.0"><channel><title>A</title>{body}</channel></rss>'.encode()


def _config(tmp_path: Path, feed: bytes, extra: str = "") -> Config:
    (tmp_path / "feeds").mkdir(exist_ok=True)
    (tmp_path / "feeds" / "a.xml").write_bytes(feed)
    return parse_config(
        f"store: db.sqlite\ndigest: {{sentences: 0}}\n{extra}sources:\n"
        "  - {name: A, path: feeds/a.xml, section: S}\n",
        tmp_path / "feeds.yaml",
    )


def _store_pass(config: Config, store: Store, now: datetime) -> None:
    async def update() -> None:
        async with Pipeline(config, store) as pipeline:
            await pipeline.update(config.sources, now)

    asyncio.run(update())


def _publish(config: Config, store: Store, now: datetime) -> bool:
    publisher = Publisher(config, store, Workers(), clock=lambda: now)
    _summarized, report = asyncio.run(publisher.publish_if_changed())
    return report is not None


def _published_ids(config: Config) -> list[str]:
    atom = feedparser.parse((config.output.dir / "feed.atom").read_bytes())
    return sorted(entry.title for entry in atom.entries)


def test_items_past_the_retention_leave_the_store_and_the_feeds(tmp_path: Path) -> None:
    old = ("old", NOW - timedelta(days=40))
    config = _config(tmp_path, _rss(old), "retention: 39d\n")
    store = open_store(config.store)
    try:
        _store_pass(config, store, NOW - timedelta(days=40))
        (tmp_path / "feeds" / "a.xml").write_bytes(_rss(old, ("new", NOW - timedelta(days=1))))
        _store_pass(config, store, NOW - timedelta(days=1))
        assert _publish(config, store, NOW - timedelta(days=1))  # 39 days since first seen
        assert _published_ids(config) == ["Story new", "Story old"]

        assert _publish(config, store, NOW)  # 40 days  # the deletion changed what is published
        assert _published_ids(config) == ["Story new"]
        assert [item.title for item in store.iter_items()] == ["Story new"]
        assert not _publish(config, store, NOW)  # nothing more to delete, nothing changed
    finally:
        store.close()


def test_without_retention_nothing_is_deleted(tmp_path: Path) -> None:
    config = _config(tmp_path, _rss(("old", NOW - timedelta(days=4000))))
    store = open_store(config.store)
    try:
        _store_pass(config, store, NOW - timedelta(days=4000))
        assert _publish(config, store, NOW)
        assert _published_ids(config) == ["Story old"]
    finally:
        store.close()


def test_the_feed_date_is_kept_in_the_store_between_publishes(tmp_path: Path) -> None:
    config = _config(tmp_path, _rss(("one", NOW - timedelta(days=2))))
    feed = tmp_path / "feeds" / "a.xml"
    store = open_store(config.store)
    out = config.output.dir
    try:
        _store_pass(config, store, NOW)
        assert _publish(config, store, NOW)
        first = (out / "feed.atom").read_bytes()
        assert feedparser.parse(first).feed.updated == "2026-11-24T12:00:00+00:00"

        # Republished a day later with the same entries (a file was missing):
        # the same bytes, the feed's date with them.
        (out / "feed.rss").unlink()
        assert _publish(config, store, NOW + timedelta(days=1))
        assert (out / "feed.atom").read_bytes() == first

        # An entry gone (with no newer one): the feed's date moves.
        feed.write_bytes(_rss(("one", NOW - timedelta(days=2)), ("two", NOW - timedelta(days=3))))
        _store_pass(config, store, NOW + timedelta(days=2))
        assert _publish(config, store, NOW + timedelta(days=2))
        atom = feedparser.parse((out / "feed.atom").read_bytes())
        assert atom.feed.updated == "2026-11-26T12:00:00+00:00"
    finally:
        store.close()


def test_a_podcasts_files_reach_every_published_format(tmp_path: Path) -> None:
    from tests.conftest import DATA

    config = _config(tmp_path, (DATA / "feeds" / "podcast.rss").read_bytes())
    store = open_store(config.store)
    try:
        _store_pass(config, store, NOW)
        assert _publish(config, store, NOW)
    finally:
        store.close()
    out = config.output.dir
    mp3 = "https://cdn.podcast.example/ep12.mp3"
    atom = feedparser.parse((out / "feed.atom").read_bytes())
    episode = next(e for e in atom.entries if e.title.startswith("Episode 12"))
    assert [e.href for e in episode.enclosures] == [mp3, "https://podcast.example/video/ep12.mp4"]
    assert episode.enclosures[0].length == "48213504"
    assert episode.enclosures[0].type == "audio/mpeg"
    rss = feedparser.parse((out / "sections" / "s.rss").read_bytes())
    episode = next(e for e in rss.entries if e.title.startswith("Episode 12"))
    assert [e.href for e in episode.enclosures] == [mp3]
    feed = json.loads((out / "feed.json").read_bytes())
    item = next(i for i in feed["items"] if i["title"].startswith("Episode 12"))
    assert item["image"] == "https://cdn.podcast.example/ep12.jpg"
    assert item["attachments"][0] == {
        "url": mp3,
        "mime_type": "audio/mpeg",
        "size_in_bytes": 48213504,
    }
    page = (out / "index.html").read_text()
    assert '<img src="https://cdn.podcast.example/ep12.jpg" alt="">' in page
    assert "javascript" not in page
