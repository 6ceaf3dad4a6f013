from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from xml.etree import ElementTree

import feedparser
import pytest

import aggregator.publish
from aggregator.errors import PublishError
from aggregator.models import Entry, SectionSummary, Summary
from aggregator.publish import PublishReport, publish, section_slug
from aggregator.publish.content import entry_chars
from aggregator.publish.layout import ordered_sections, public_url, section_slugs
from tests.publish.sample import ENTRIES, ESCAPING, LOCAL, MERGED, META

ALL_FILES = [
    "feed.atom",
    "feed.rss",
    "feed.json",
    "sections/world.atom",
    "sections/world.rss",
    "sections/world.json",
    "sections/tech-science.atom",
    "sections/tech-science.rss",
    "sections/tech-science.json",
    "sections/empty.atom",
    "sections/empty.rss",
    "sections/empty.json",
    "index.html",
]


def _mtimes(out: Path) -> dict[str, int]:
    return {name: (out / name).stat().st_mtime_ns for name in ALL_FILES}


def test_public_surface() -> None:
    assert sorted(aggregator.publish.__all__) == [
        "PublishReport",
        "Stamp",
        "entry_content_html",
        "publish",
        "render_atom",
        "render_json_feed",
        "render_page",
        "render_rss",
        "section_slug",
        "write_if_changed",
    ]


def test_publish_writes_every_file_and_creates_directories(tmp_path: Path) -> None:
    out = tmp_path / "deep" / "out"
    report = publish(ENTRIES, META, out)
    assert report == PublishReport(written=ALL_FILES, unchanged=[])
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == sorted(
        ALL_FILES
    )
    assert json.loads((out / "feed.json").read_bytes())["items"]


def test_section_feeds_hold_only_their_entries(tmp_path: Path) -> None:
    publish(ENTRIES, META, tmp_path)
    world = feedparser.parse((tmp_path / "sections/world.atom").read_bytes())
    assert not world.bozo
    assert world.feed.title == "Morning Digest — World"
    assert world.feed.id == "https://news.example.org/digest/sections/world.atom"
    assert [e.id for e in world.entries] == [MERGED.id, LOCAL.id]
    empty = feedparser.parse((tmp_path / "sections/empty.atom").read_bytes())
    assert not empty.bozo
    assert empty.entries == []


def test_second_publish_of_same_entries_writes_nothing(tmp_path: Path) -> None:
    publish(ENTRIES, META, tmp_path)
    before = _mtimes(tmp_path)
    report = publish(list(ENTRIES), META, tmp_path)
    assert report == PublishReport(written=[], unchanged=ALL_FILES)
    assert _mtimes(tmp_path) == before


def test_changed_entry_rewrites_only_what_shows_it(tmp_path: Path) -> None:
    publish(ENTRIES, META, tmp_path)
    retitled = dataclasses.replace(
        ESCAPING, title="A new title", updated=datetime(2024, 5, 1, 19, 0, tzinfo=UTC)
    )
    report = publish([MERGED, retitled, LOCAL], META, tmp_path)
    assert report.written == [
        "feed.atom",
        "feed.rss",
        "feed.json",
        "sections/tech-science.atom",
        "sections/tech-science.rss",
        "sections/tech-science.json",
        "index.html",
    ]
    assert report.unchanged == [
        f"sections/{slug}.{extension}"
        for slug in ("world", "empty")
        for extension in ("atom", "rss", "json")
    ]
    assert b"A new title" in (tmp_path / "feed.atom").read_bytes()


def test_unconfigured_section_gets_a_feed(tmp_path: Path) -> None:
    extra = dataclasses.replace(LOCAL, id="urn:x", section="Sport")
    report = publish([*ENTRIES, extra], META, tmp_path)
    assert "sections/sport.atom" in report.written


def test_output_directory_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(PublishError, match="file"):
        publish(ENTRIES, META, tmp_path / "file" / "out")


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("World", "world"),
        ("Tech & Science", "tech-science"),
        ("  Économie / Finanzen  ", "economie-finanzen"),
        ("C++", "c"),
        ("2024", "2024"),
    ],
)
def test_section_slug(name: str, slug: str) -> None:
    assert section_slug(name) == slug


@pytest.mark.parametrize("name", ["", "---", "日本", "🙂"])
def test_section_slug_is_never_empty_and_stable(name: str) -> None:
    slug = section_slug(name)
    assert slug.startswith("section-") and len(slug) > len("section-")
    assert slug == section_slug(name)
    assert all(c.isascii() and (c.isalnum() or c == "-") for c in slug)


def test_colliding_slugs_are_made_unique_first_one_keeps_its_name() -> None:
    slugs = section_slugs(["A & B", "A B", "a-b"])
    assert slugs["A & B"] == "a-b"
    assert len(set(slugs.values())) == 3
    assert all(s.startswith("a-b-") for s in (slugs["A B"], slugs["a-b"]))


def test_ordered_sections() -> None:
    entries = [dataclasses.replace(LOCAL, section=s) for s in ("Zed", "World", "Alpha")]
    assert ordered_sections(("World", "Tech", "World"), entries) == [
        "World",
        "Tech",
        "Alpha",
        "Zed",
    ]


@pytest.mark.parametrize("base", ["https://x.example/a", "https://x.example/a/"])
def test_public_url(base: str) -> None:
    assert public_url(base, "feed.atom") == "https://x.example/a/feed.atom"
    assert public_url(base, "/sections/s.atom") == "https://x.example/a/sections/s.atom"


def _sized(entry: Entry, chars: int) -> Entry:
    """``entry`` with a summary of about ``chars`` characters."""
    words = ("word " * (chars // 5)).strip()
    return dataclasses.replace(entry, summary=Summary((SectionSummary(None, (words,)),)))


def test_entries_past_the_document_bound_are_left_out(tmp_path: Path) -> None:
    entries = [_sized(MERGED, 400), _sized(ESCAPING, 400), _sized(LOCAL, 400)]
    bound = entry_chars(entries[0]) + entry_chars(entries[1])
    report = publish(entries, META, tmp_path, max_chars=bound)
    assert report.left_out == 1
    items = json.loads((tmp_path / "feed.json").read_bytes())["items"]
    assert [item["id"] for item in items] == [MERGED.id, ESCAPING.id]  # the newest
    assert LOCAL.title not in (tmp_path / "index.html").read_text(encoding="utf-8")
    assert len(feedparser.parse((tmp_path / "feed.atom").read_bytes()).entries) == 2


def test_an_entry_too_large_alone_does_not_keep_smaller_ones_out(tmp_path: Path) -> None:
    entries = [_sized(MERGED, 400), _sized(ESCAPING, 4000), _sized(LOCAL, 400)]
    bound = entry_chars(entries[0]) + entry_chars(entries[2])
    report = publish(entries, META, tmp_path, max_chars=bound)
    assert report.left_out == 1
    items = json.loads((tmp_path / "feed.json").read_bytes())["items"]
    assert [item["id"] for item in items] == [MERGED.id, LOCAL.id]


def test_entry_chars_counts_what_an_entry_publishes() -> None:
    assert entry_chars(_sized(MERGED, 4000)) > entry_chars(_sized(MERGED, 400)) + 3000
    longer = dataclasses.replace(MERGED, title=MERGED.title * 10)
    assert entry_chars(longer) == entry_chars(MERGED) + 9 * len(MERGED.title)


NOW = datetime(2024, 6, 1, 8, 0, tzinfo=UTC)
LATER = datetime(2024, 6, 2, 8, 0, tzinfo=UTC)


def _feed_dates(out: Path, name: str) -> tuple[str, str]:
    atom = feedparser.parse((out / f"{name}.atom").read_bytes()).feed.updated
    rss = feedparser.parse((out / f"{name}.rss").read_bytes()).feed.updated
    return atom, rss


def test_feed_date_moves_when_entries_change_and_only_then(tmp_path: Path) -> None:
    first = publish(ENTRIES, META, tmp_path, stamps={}, now=NOW)
    assert _feed_dates(tmp_path, "feed") == (
        "2024-06-01T08:00:00+00:00",
        "Sat, 01 Jun 2024 08:00:00 +0000",
    )
    before = _mtimes(tmp_path)

    # The same entries a day later: the same stamps, not one byte rewritten.
    again = publish(list(ENTRIES), META, tmp_path, stamps=first.stamps, now=LATER)
    assert again.written == []
    assert again.stamps == first.stamps
    assert _mtimes(tmp_path) == before

    # An entry dropped, with no entry newer than before: the date still moves.
    dropped = publish([MERGED, LOCAL], META, tmp_path, stamps=first.stamps, now=LATER)
    assert _feed_dates(tmp_path, "feed")[0] == "2024-06-02T08:00:00+00:00"
    assert _feed_dates(tmp_path, "sections/tech-science")[0] == "2024-06-02T08:00:00+00:00"
    # A section whose entries did not change keeps its date and its bytes.
    assert _feed_dates(tmp_path, "sections/world")[0] == "2024-06-01T08:00:00+00:00"
    assert "sections/world.atom" in dropped.unchanged
    assert "sections/world.rss" in dropped.unchanged


def test_without_now_a_feed_is_dated_by_its_newest_entry(tmp_path: Path) -> None:
    report = publish(ENTRIES, META, tmp_path)
    assert report.stamps == {}
    assert _feed_dates(tmp_path, "feed")[0] == "2024-05-02T12:30:00+00:00"


def test_no_two_published_entries_share_an_updated_instant(tmp_path: Path) -> None:
    # The W3C validator's "Two entries with the same value for atom:updated".
    same = MERGED.updated
    twins = [
        dataclasses.replace(MERGED, id="urn:b", updated=same),
        dataclasses.replace(MERGED, id="urn:a", updated=same),
        dataclasses.replace(MERGED, id="urn:c", updated=same + timedelta(seconds=1)),
    ]
    publish(twins, META, tmp_path)
    parsed = feedparser.parse((tmp_path / "feed.atom").read_bytes())
    updated = {entry.id: entry.updated for entry in parsed.entries}
    assert len(set(updated.values())) == 3
    # The smallest id keeps the instant; the others move later, never earlier.
    assert updated["urn:a"] == "2024-05-02T12:30:00+00:00"
    assert updated["urn:b"] == "2024-05-02T12:30:01+00:00"
    assert updated["urn:c"] == "2024-05-02T12:30:02+00:00"
    items = json.loads((tmp_path / "feed.json").read_bytes())["items"]
    assert {item["id"]: item["date_modified"] for item in items} == updated


ATOM_NS = "{http://www.w3.org/2005/Atom}"


def test_every_atom_file_passes_the_validators_checks(tmp_path: Path) -> None:
    """The W3C validator's checks that warned before, mirrored (it cannot run here):
    no two entries updated at one instant, and every atom:source with an id,
    a title and an updated (RFC 4287 4.2.11 recommends them all)."""
    same = dataclasses.replace(ESCAPING, updated=MERGED.updated, section=MERGED.section)
    publish([MERGED, same, LOCAL], META, tmp_path, now=NOW)
    atom_files = sorted(tmp_path.rglob("*.atom"))
    assert len(atom_files) == 4  # the merged feed and three sections
    for path in atom_files:
        root = ElementTree.parse(path).getroot()
        entries = root.findall(f"{ATOM_NS}entry")
        updated = [entry.findtext(f"{ATOM_NS}updated") for entry in entries]
        assert len(set(updated)) == len(updated), path
        for entry in entries:
            source = entry.find(f"{ATOM_NS}source")
            assert source is not None, path
            for child in ("id", "title", "updated"):
                assert source.findtext(f"{ATOM_NS}{child}"), (path, child)
