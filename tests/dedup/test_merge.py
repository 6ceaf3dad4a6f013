"""merge_item over a real SQLite store: which item a copy joins, what is kept."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.config import DedupConfig
from aggregator.dedup.merge import Outcome, merge_item
from aggregator.dedup.report import duplicates_report
from aggregator.models import ParsedItem
from aggregator.store.sqlite import SqliteStore
from tests.dedup import stories as s

T0 = datetime(2024, 6, 4, 8, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    db = SqliteStore(tmp_path / "test.db")
    try:
        yield db
    finally:
        db.close()


def entry(
    n: str, title: str, text: str, *, at: datetime = T0, link: str | None = None
) -> ParsedItem:
    html = f"<p>{text}</p>" if text else ""
    return ParsedItem(
        entry_id=f"id-{n}",
        title=title,
        link=link or f"https://{n}.example/news/{abs(hash(title)) % 10**6}",
        published=at,
        updated=None,
        content_html=html,
    )


def add(
    store: SqliteStore,
    source: str,
    item: ParsedItem,
    settings: DedupConfig | None = None,
) -> tuple[Outcome, int]:
    text = item.content_html.removeprefix("<p>").removesuffix("</p>")
    with store.transaction():
        return merge_item(
            store,
            source,
            "News",
            item,
            text,
            (item.published or T0) + timedelta(minutes=1),
            settings,
        )


def test_a_near_duplicate_joins_the_first_copy_and_keeps_its_id_and_link(
    store: SqliteStore,
) -> None:
    outcome, first = add(store, "harbour", entry("a", s.TITLE, s.TEXT))
    assert outcome is Outcome.NEW
    before = store.items_by_id([first])[0]
    later = T0 + timedelta(hours=3)
    outcome, second = add(store, "wire", entry("b", s.RETITLED, s.WITH_BOILERPLATE, at=later))
    assert (outcome, second) == (Outcome.MERGED, first)
    teaser = entry("c", s.TITLE + " - Daily", s.TEASER, at=later + timedelta(hours=1))
    outcome, third = add(store, "daily", teaser)
    assert (outcome, third) == (Outcome.MERGED, first)

    after = store.items_by_id([first])[0]
    assert (after.uid, after.link, after.title) == (before.uid, before.link, s.TITLE)
    assert [ref.name for ref in after.sources] == ["harbour", "wire", "daily"]
    assert after.sources[1].item_link == "https://b.example/news/" + str(
        abs(hash(s.RETITLED)) % 10**6
    )

    (cluster,) = store.duplicate_clusters()
    methods = [(m.source, m.method, m.matched_source) for m in cluster.members]
    assert methods == [
        ("harbour", "first", None),
        ("wire", "near-duplicate", "harbour"),
        ("daily", "near-duplicate", "harbour"),
    ]
    assert all(0 < (m.score or 0) <= 1 for m in cluster.members[1:])
    listing = duplicates_report([cluster])
    assert "near-duplicate" in listing and s.RETITLED in listing and "wire" in listing


def test_exact_merges_record_their_method(store: SqliteStore) -> None:
    add(store, "harbour", entry("a", s.TITLE, s.TEXT, link="https://a.example/story"))
    add(store, "wire", entry("b", "Other words", "Short", link="https://a.example/story?utm_x=1"))
    add(store, "daily", entry("c", s.TITLE, s.TEXT, link="https://c.example/other"))
    (cluster,) = store.duplicate_clusters()
    assert [m.method for m in cluster.members] == ["first", "canonical-url", "content-hash"]


def test_different_stories_stay_apart(store: SqliteStore) -> None:
    _, first = add(store, "harbour", entry("a", s.TITLE, s.TEXT))
    _, other = add(store, "wire", entry("b", s.SAME_SUBJECT_TITLE, s.SAME_SUBJECT_TEXT))
    later = T0 + timedelta(hours=30)
    _, update = add(store, "daily", entry("c", s.UPDATE_TITLE, s.UPDATE_TEXT, at=later))
    assert len({first, other, update}) == 3
    assert store.duplicate_clusters() == []


def test_a_source_never_merges_with_itself_by_similarity(store: SqliteStore) -> None:
    """One outlet with two similar items has an update or a recurring item."""
    _, first = add(store, "harbour", entry("a", s.TITLE, s.TEXT))
    later = T0 + timedelta(hours=2)
    outcome, second = add(store, "harbour", entry("b", s.RETITLED, s.EXTENDED, at=later))
    assert outcome is Outcome.NEW and second != first


def test_a_daily_page_at_one_address_is_new_every_day(store: SqliteStore) -> None:
    link = "https://desk.example/briefing"
    _, monday = add(store, "desk", entry("mon", *s.MONDAY, link=link))
    outcome, tuesday = add(
        store, "desk", entry("tue", *s.TUESDAY, at=T0 + timedelta(days=1), link=link)
    )
    assert outcome is Outcome.NEW and tuesday != monday
    # Another outlet's copy of Monday's briefing, under the same address, is a copy.
    outcome, copy = add(store, "partner", entry("p", *s.MONDAY, link=link + "?utm_source=x"))
    assert (outcome, copy) == (Outcome.MERGED, monday)


def test_copies_outside_the_window_are_not_compared(store: SqliteStore) -> None:
    settings = DedupConfig(window=6 * 3600)
    _, first = add(store, "harbour", entry("a", s.TITLE, s.TEXT), settings)
    far = T0 + timedelta(hours=7)
    outcome, second = add(store, "wire", entry("b", s.RETITLED, s.TEXT, at=far), settings)
    assert outcome is Outcome.NEW and second != first


def test_the_index_persists_across_runs(tmp_path: Path) -> None:
    path = tmp_path / "persist.db"
    first_store = SqliteStore(path)
    _, first = add(first_store, "harbour", entry("a", s.TITLE, s.TEXT))
    first_store.close()
    second_store = SqliteStore(path)
    try:
        outcome, second = add(second_store, "wire", entry("b", s.RETITLED, s.TRIMMED))
    finally:
        second_store.close()
    assert (outcome, second) == (Outcome.MERGED, first)


def test_an_updated_copy_is_indexed_by_what_it_says_now(store: SqliteStore) -> None:
    _, first = add(store, "harbour", entry("a", s.SAME_SUBJECT_TITLE, s.SAME_SUBJECT_TEXT))
    outcome, same = add(store, "harbour", entry("a", s.TITLE, s.TEXT))  # same id, new text
    assert (outcome, same) == (Outcome.UPDATED, first)
    assert store.items_by_id([first])[0].title == s.TITLE  # the lead speaks for the item
    outcome, copy = add(store, "wire", entry("b", s.RETITLED, s.TRIMMED))
    assert (outcome, copy) == (Outcome.MERGED, first)
    # A non-leading copy that changes does not change the item.
    outcome, _ = add(store, "wire", entry("b", "Something else", s.TEASER))
    assert outcome is Outcome.UPDATED
    assert store.items_by_id([first])[0].title == s.TITLE


def test_lead_complete_shows_the_most_complete_copy(store: SqliteStore) -> None:
    settings = DedupConfig(lead="complete")
    _, first = add(store, "daily", entry("a", s.TITLE, s.TEASER), settings)
    before = store.items_by_id([first])[0]
    _, same = add(store, "wire", entry("b", s.RETITLED, s.EXTENDED), settings)
    assert same == first
    after = store.items_by_id([first])[0]
    assert (after.title, after.content_html) == (s.RETITLED, f"<p>{s.EXTENDED}</p>")
    # Its identity is the first copy's: id, link, first-listed source.
    assert (after.uid, after.link, after.sources[0].name) == (before.uid, before.link, "daily")
    # A shorter copy later changes nothing.
    add(store, "harbour", entry("c", s.TITLE, s.TRIMMED), settings)
    assert store.items_by_id([first])[0].title == s.RETITLED


def test_lead_earliest_keeps_the_first_copy(store: SqliteStore) -> None:
    _, first = add(store, "daily", entry("a", s.TITLE, s.TEASER))
    add(store, "wire", entry("b", s.RETITLED, s.EXTENDED))
    assert store.items_by_id([first])[0].title == s.TITLE
