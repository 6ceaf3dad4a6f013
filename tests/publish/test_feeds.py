from __future__ import annotations

import calendar
import dataclasses
import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import feedparser
import pytest

from aggregator.models import Entry, FeedMeta
from aggregator.publish import render_atom, render_json_feed, render_rss
from aggregator.publish.content import entry_content_html
from tests.publish.golden import assert_golden
from tests.publish.sample import ENTRIES, ESCAPING, LOCAL, MERGED, META

Render = Callable[..., bytes]
RENDERERS: dict[str, Render] = {
    "atom": render_atom,
    "rss": render_rss,
    "json": render_json_feed,
}


def _timestamp(moment: datetime) -> int:
    return int(moment.timestamp())


def _parsed_timestamp(parsed: Any) -> int:
    return calendar.timegm(parsed)


def _parse(data: bytes) -> Any:
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    return parsed


@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_golden(kind: str) -> None:
    assert_golden(f"expected.{kind}", RENDERERS[kind](ENTRIES, META))


@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_rendering_is_byte_identical(kind: str) -> None:
    # Separate calls build separate feedgen objects, each of which reads the
    # clock for its defaults; none of that may reach the output.
    assert RENDERERS[kind](ENTRIES, META) == RENDERERS[kind](list(ENTRIES), META)


@pytest.mark.parametrize("kind", sorted(RENDERERS))
def test_base_url_with_or_without_slash_gives_same_bytes(kind: str) -> None:
    slashed = dataclasses.replace(META, base_url=META.base_url + "/")
    assert RENDERERS[kind](ENTRIES, META) == RENDERERS[kind](ENTRIES, slashed)


def test_atom_round_trips_through_feedparser() -> None:
    parsed = _parse(render_atom(ENTRIES, META))
    assert parsed.version == "atom10"
    feed = parsed.feed
    assert feed.title == "Morning Digest"
    assert feed.id == "https://news.example.org/digest/feed.atom"
    assert feed.generator == "aggregator"
    assert _parsed_timestamp(feed.updated_parsed) == _timestamp(MERGED.updated)
    assert [(link.rel, link.href) for link in feed.links] == [
        ("self", "https://news.example.org/digest/feed.atom"),
        ("alternate", "https://news.example.org/digest/"),
    ]
    assert feed.links[0].type == "application/atom+xml"

    assert [item.id for item in parsed.entries] == [entry.id for entry in ENTRIES]
    for item, entry in zip(parsed.entries, ENTRIES, strict=True):
        assert item.title == entry.title
        # Not item.link: feedparser falls back to the id when there is no link.
        alternates = [link.href for link in item.get("links", []) if link.rel == "alternate"]
        assert alternates == ([entry.link] if entry.link else [])
        assert [tag.term for tag in item.tags] == [entry.section]
        assert _parsed_timestamp(item.published_parsed) == _timestamp(entry.published)
        assert _parsed_timestamp(item.updated_parsed) == _timestamp(entry.updated)
        assert item.content[0].type == "text/html"
        assert item.content[0].value == entry_content_html(entry)
        assert item.source.title == entry.sources[0].title

    merged, escaping, local = parsed.entries
    assert merged.author == "Jane Doe"
    assert "author" not in escaping
    related = [(link.href, link.title) for link in merged.links if link.rel == "related"]
    assert related == [("https://wire.example.net/story/991", "Other Wire")]
    assert merged.source.id == "https://example.com/feed.xml"
    assert [(link.rel, link.href) for link in merged.source.links] == [
        ("self", "https://example.com/feed.xml"),
        ("alternate", "https://example.com/"),
    ]
    assert escaping.title_detail.language == "de"
    # A local file has no feed to name: its source's id is made from its name.
    assert local.source["id"].startswith("urn:uuid:")


def test_rss_round_trips_through_feedparser() -> None:
    parsed = _parse(render_rss(ENTRIES, META))
    assert parsed.version == "rss20"
    feed = parsed.feed
    assert feed.title == "Morning Digest"
    assert feed.subtitle == META.description
    # The channel <link> is the site, not the self link (feedgen's last-link rule).
    assert feed.link == "https://news.example.org/digest/"
    self_links = [link for link in feed.links if link.rel == "self"]
    assert [(link.href, link.type) for link in self_links] == [
        ("https://news.example.org/digest/feed.rss", "application/rss+xml")
    ]
    assert _parsed_timestamp(feed.updated_parsed) == _timestamp(MERGED.updated)

    assert [item.id for item in parsed.entries] == [entry.id for entry in ENTRIES]
    for item, entry in zip(parsed.entries, ENTRIES, strict=True):
        assert item.title == entry.title
        assert item.get("link") == entry.link
        assert item.guidislink is False
        assert [tag.term for tag in item.tags] == [entry.section]
        assert _parsed_timestamp(item.published_parsed) == _timestamp(entry.published)
        assert item.summary == entry_content_html(entry)

    merged, escaping, local = parsed.entries
    assert merged.author == "Jane Doe"
    assert merged.source == {"href": "https://example.com/feed.xml", "title": "Example News"}
    assert escaping.source.title == 'Lab\'s "Notes" & more'
    assert "source" not in local  # no feed URL, and RSS's <source> requires one


def test_rss_dates_are_rfc_822() -> None:
    rss = render_rss(ENTRIES, META).decode()
    assert "<lastBuildDate>Thu, 02 May 2024 12:30:00 +0000</lastBuildDate>" in rss
    assert "<pubDate>Wed, 01 May 2024 18:00:00 +0000</pubDate>" in rss


def test_json_feed_is_valid_1_1() -> None:
    data = render_json_feed(ENTRIES, META)
    feed = json.loads(data.decode("utf-8"))
    assert feed["version"] == "https://jsonfeed.org/version/1.1"
    assert feed["title"] == "Morning Digest"
    assert feed["feed_url"] == "https://news.example.org/digest/feed.json"
    assert feed["home_page_url"] == "https://news.example.org/digest/"
    for key in feed:
        assert key in {"version", "title", "home_page_url", "feed_url", "description", "items"}
    items = feed["items"]
    assert [item["id"] for item in items] == [entry.id for entry in ENTRIES]
    for item, entry in zip(items, ENTRIES, strict=True):
        # JSON Feed requires id and one of content_html / content_text.
        assert isinstance(item["id"], str) and item["id"]
        assert item["content_html"] == entry_content_html(entry)
        assert item["tags"] == [entry.section]
        assert datetime.fromisoformat(item["date_published"]) == entry.published
        assert datetime.fromisoformat(item["date_modified"]) == entry.updated
        extension = item["_aggregator"]
        assert [s["name"] for s in extension["sources"]] == [s.name for s in entry.sources]
        for key in item:
            assert key.startswith("_") or key in {
                "id",
                "url",
                "title",
                "content_html",
                "date_published",
                "date_modified",
                "tags",
                "authors",
                "language",
            }
    assert items[0]["authors"] == [{"name": "Jane Doe"}]
    assert "url" not in items[2]  # LOCAL has no link
    # Non-ASCII is written as UTF-8, not as \u escapes.
    assert "Größer".encode() in data


def test_title_and_self_path_arguments() -> None:
    chosen = [MERGED, LOCAL]
    title = "Morning Digest — World"
    parsed = _parse(render_atom(chosen, META, self_path="sections/world.atom", title=title))
    assert parsed.feed.title == title
    assert parsed.feed.id == "https://news.example.org/digest/sections/world.atom"
    assert parsed.feed.links[0].href == parsed.feed.id
    rss = _parse(render_rss(chosen, META, self_path="x.rss", title=title))
    assert rss.feed.title == title
    assert rss.feed.links[1].href == "https://news.example.org/digest/x.rss"
    feed = json.loads(render_json_feed(chosen, META, self_path="x.json", title=title))
    assert (feed["title"], feed["feed_url"]) == (title, "https://news.example.org/digest/x.json")


def test_feed_updated_is_newest_entry_whatever_the_order() -> None:
    newest = dataclasses.replace(LOCAL, updated=datetime(2024, 6, 1, tzinfo=UTC))
    atom = _parse(render_atom([MERGED, newest], META))
    assert _parsed_timestamp(atom.feed.updated_parsed) == _timestamp(newest.updated)


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_empty_feed_is_valid_and_dated_at_epoch(kind: str) -> None:
    parsed = _parse(RENDERERS[kind]([], META))
    assert parsed.entries == []
    assert parsed.feed.title == "Morning Digest"
    assert _parsed_timestamp(parsed.feed.updated_parsed) == 0


def test_empty_json_feed() -> None:
    feed = json.loads(render_json_feed([], META))
    assert feed["items"] == []


def test_empty_atom_names_epoch_in_rfc_3339() -> None:
    assert b"<updated>1970-01-01T00:00:00+00:00</updated>" in render_atom([], META)


@pytest.mark.parametrize("kind", ["atom", "rss"])
def test_awkward_entries_still_render(kind: str) -> None:
    awkward: Sequence[Entry] = [
        dataclasses.replace(
            LOCAL, title="", summary=dataclasses.replace(LOCAL.summary, sections=())
        ),
        dataclasses.replace(ESCAPING, title="Bell\x07 and NUL\x00 removed", sources=()),
    ]
    parsed = _parse(RENDERERS[kind](awkward, META))
    assert [item.title for item in parsed.entries] == ["(untitled)", "Bell and NUL removed"]


def test_naive_datetime_is_refused() -> None:
    naive = dataclasses.replace(LOCAL, updated=datetime(2024, 1, 1))
    with pytest.raises(ValueError, match="naive"):
        render_atom([naive], META)


def test_other_timezones_are_written_as_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    entry = dataclasses.replace(LOCAL, published=datetime(2024, 4, 30, 9, 0, tzinfo=plus_two))
    assert b"<published>2024-04-30T07:00:00+00:00</published>" in render_atom([entry], META)


def test_meta_description_and_generator_are_used() -> None:
    meta = FeedMeta(title="T", base_url="https://x.example", description="D", generator="G 1.2")
    rss = _parse(render_rss([], meta))
    assert (rss.feed.subtitle, rss.feed.generator) == ("D", "G 1.2")
    atom = render_atom([], meta).decode()
    assert "<generator>G 1.2</generator>" in atom  # no feedgen version/uri attributes
