"""merge_copies over a real store: a source's copies stored together are what
they would be one at a time, in a handful of store calls whatever their number."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aggregator.config import DedupConfig
from aggregator.dedup.decide import MergeDecider
from aggregator.dedup.merge import Outcome, PreparedCopy, merge_copies, prepare_copy
from aggregator.errors import ProcessingError
from aggregator.models import ParsedItem
from aggregator.store import Store, open_store
from tests.dedup import stories as s
from tests.dedup.test_end_to_end import corpus_module

T0 = datetime(2024, 6, 4, 8, 0, tzinfo=UTC)


def entry(n: str, title: str = s.TITLE, text: str = s.TEXT, **fields: Any) -> ParsedItem:
    base = ParsedItem(
        entry_id=f"id-{n}",
        title=title,
        link=f"https://{n}.example/story",
        published=T0,
        updated=None,
        content_html=f"<p>{text}</p>",
    )
    return replace(base, **fields)


def store_copies(
    store: Store, source: str, items: Sequence[ParsedItem], settings: DedupConfig | None = None
) -> list[tuple[Outcome, int]]:
    """As the pipeline does: the copies prepared against what the source stored."""
    stored = store.copy_hashes(source)
    copies = [prepare_copy(item, stored) for item in items]
    with store.transaction(), store.transaction():
        return merge_copies(store, source, "News", copies, T0 + timedelta(hours=1), settings)


def polls(seed: int) -> list[tuple[str, list[ParsedItem]]]:
    """A generated corpus as polls: each source's entries of a day at once, and
    a day of edits after it (some sent twice in one poll, some without an id
    at a shared address)."""
    corpus = corpus_module.generate(70, outlets=5, days=2, seed=seed)
    rng = random.Random(seed)
    by_poll: dict[tuple[int, str], list[ParsedItem]] = {}
    edits: dict[str, list[ParsedItem]] = {}
    for item in corpus.by_time():
        parsed = ParsedItem(
            entry_id=item.entry_id if rng.random() > 0.1 else None,
            title=item.title,
            link=item.link if rng.random() > 0.1 else "https://shared.example/today",
            published=item.published,
            updated=None,
            content_html=item.html,
        )
        day = int((item.published - corpus_module.START).total_seconds() // 86400)
        by_poll.setdefault((day, item.source), []).append(parsed)
        if rng.random() < 0.4:
            edited = replace(parsed, content_html=parsed.content_html + "<p>An update.</p>" * 3)
            edits.setdefault(item.source, []).append(edited)
            if rng.random() < 0.2:
                edits[item.source].append(replace(edited, title=edited.title + " (again)"))
    ordered = [(source, items) for (_, source), items in sorted(by_poll.items())]
    return ordered + sorted(edits.items())


def contents(store: Store) -> tuple[object, ...]:
    items = [
        (i.uid, i.title, i.content_html, [r.name for r in i.sources]) for i in store.iter_items()
    ]
    clusters = [
        (c.uid, [(m.source, m.method, m.score, m.matched_source) for m in c.members])
        for c in store.duplicate_clusters()
    ]
    return tuple(items), tuple(clusters)


@pytest.mark.parametrize("lead", ["earliest", "complete"])
def test_copies_stored_together_are_what_they_are_stored_one_at_a_time(
    tmp_path: Path, lead: str
) -> None:
    settings = DedupConfig(lead=lead)
    together, alone = open_store(tmp_path / "together.db"), open_store(tmp_path / "alone.db")
    try:
        outcomes = []
        for source, items in polls(seed=11):
            batch = store_copies(together, source, items, settings)
            single = [store_copies(alone, source, [item], settings)[0] for item in items]
            assert [o for o, _ in batch] == [o for o, _ in single]
            outcomes += [o for o, _ in batch]
        # The corpus exercises every way a copy can go.
        assert set(outcomes) == {Outcome.NEW, Outcome.MERGED, Outcome.UPDATED}
        assert contents(together) == contents(alone)
        methods = {m[1] for _, members in contents(together)[1] for m in members}
        assert {"canonical-url", "content-hash", "near-duplicate"} <= methods
    finally:
        together.close()
        alone.close()


def test_postgresql_stores_a_corpus_as_sqlite_does(tmp_path: Path, postgres_url: str) -> None:
    """The same items, ids, texts and clusters, whichever store: a feed
    published from either is the same."""
    sqlite, postgres = open_store(tmp_path / "sqlite.db"), open_store(postgres_url)
    try:
        for source, items in polls(seed=5):
            in_sqlite = store_copies(sqlite, source, items)
            assert store_copies(postgres, source, items) == in_sqlite
        assert contents(postgres) == contents(sqlite)
        assert postgres.latest_items(50) == sqlite.latest_items(50)
        assert len(contents(sqlite)[1]) > 5  # clusters were made
    finally:
        sqlite.close()
        postgres.close()


def test_a_copy_joins_an_item_another_copy_of_the_batch_created(store: Store) -> None:
    (first, second, third) = store_copies(
        store,
        "harbour",
        [entry("a"), entry("b"), entry("c", s.SAME_SUBJECT_TITLE, s.SAME_SUBJECT_TEXT)],
    )
    assert first[0] is Outcome.NEW and second == (Outcome.MERGED, first[1])
    assert third[0] is Outcome.NEW and third[1] != first[1]
    assert {item.id for item in store.iter_items()} == {first[1], third[1]}
    again = store_copies(store, "harbour", [entry("a"), entry("b", s.RETITLED)])
    assert again == [(Outcome.UNCHANGED, first[1]), (Outcome.UPDATED, first[1])]


def test_a_bug_on_one_copy_is_the_sources_error_naming_the_entry(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = MergeDecider.decide

    def decide(self: MergeDecider, copy: PreparedCopy) -> tuple[Outcome, int]:
        if copy.entry_key == "id:id-b":
            raise OverflowError("a bug on this item")
        return real(self, copy)

    monkeypatch.setattr(MergeDecider, "decide", decide)
    with pytest.raises(ProcessingError) as raised:
        store_copies(store, "harbour", [entry("a"), entry("b")])
    assert str(raised.value).startswith("harbour: storing failed on item 'id:id-b'")
    assert "OverflowError: a bug on this item" in str(raised.value)
    assert list(store.iter_items()) == []  # the source's savepoint undid what came before


class Counting:
    """The store, counting the calls made to it."""

    def __init__(self, store: Store):
        self.store, self.calls = store, 0

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if not callable(attribute) or name in ("transaction", "copy_hashes"):
            return attribute

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return attribute(*args, **kwargs)

        return counted


def test_a_sources_copies_cost_the_same_store_calls_whatever_their_number(store: Store) -> None:
    def calls(source: str, count: int) -> int:
        items = [
            entry(f"{source}{n}", f"Story {n} of {source}", f"{s.TEXT} {source} {n}")
            for n in range(count)
        ]
        counting = Counting(store)
        store_copies(counting, source, items)  # type: ignore[arg-type]
        return counting.calls

    store_copies(store, "wire", [entry("w", s.RETITLED, s.WITH_BOILERPLATE)])
    one, many = calls("one", 1), calls("many", 40)
    # The source's copies, the merge lock, by URL, by fingerprint, band hits,
    # candidates, then one write.
    assert one == many <= 7
