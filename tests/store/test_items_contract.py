"""The items part of the store contract (ItemStore), run over every store.

Everything is written through ``apply_merge`` and read through the look-ups
the dedup stage uses: only the protocol, so another store is one parameter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.errors import StoreError
from aggregator.store import Store
from aggregator.store.index import BandQuery, IndexedCopy
from aggregator.store.items import (
    PENDING,
    CopyRecord,
    CopyStep,
    ItemWrite,
    MergeIntent,
    NewItem,
)

WHEN = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def item(
    title: str = "Title", *, url: str | None = None, fingerprint: str | None = None
) -> ItemWrite:
    return ItemWrite(
        section="News",
        title=title,
        link=url,
        canonical_url=url,
        fingerprint=fingerprint,
        published=None,
        updated=None,
        content_html=f"<p>{title}</p>",
        author=None,
        language=None,
    )


def indexed(
    source: str,
    key: str,
    item_id: int,
    *,
    at: datetime = WHEN,
    bands: Sequence[int] = (),
    shown: bool = False,
    method: str = "first",
) -> IndexedCopy:
    return IndexedCopy(
        source, key, item_id, f"title of {key}", at, f"sig {key}".encode(), tuple(bands), method,
        shown=shown,
    )  # fmt: skip


def new(
    source: str,
    key: str,
    n: int,
    *,
    url: str | None = None,
    fingerprint: str | None = None,
    at: datetime = WHEN,
    bands: Sequence[int] = (),
) -> CopyStep:
    """Step ``n`` of an intent: the copy creates its item."""
    return CopyStep(
        entry_key=key,
        link=url,
        content_hash=f"hash {key}",
        item_id=PENDING + n,
        insert=NewItem(f"uid {source} {key}", item(key, url=url, fingerprint=fingerprint)),
        rewrite=None,
        retext=None,
        index=indexed(source, key, PENDING + n, at=at, bands=bands, shown=True),
        replacing=None,
        show=False,
    )


def join(
    source: str,
    key: str,
    item_id: int,
    *,
    at: datetime = WHEN,
    bands: Sequence[int] = (),
    content_hash: str | None = None,
    show: bool = False,
) -> CopyStep:
    """The copy joins an item (stored, or PENDING + n: step n's)."""
    return CopyStep(
        entry_key=key,
        link=f"https://{source}.example/{key}",
        content_hash=content_hash or f"hash {key}",
        item_id=item_id,
        insert=None,
        rewrite=None,
        retext=None,
        index=indexed(source, key, item_id, at=at, bands=bands, method="content-hash"),
        replacing=None,
        show=show,
    )


def apply(store: Store, source: str, *steps: CopyStep) -> list[int]:
    with store.transaction():
        return store.apply_merge(MergeIntent(source, WHEN, steps))


def test_apply_merge_returns_each_steps_item_resolving_those_of_earlier_steps(
    store: Store,
) -> None:
    ids = apply(store, "one", new("one", "a", 0), join("one", "b", PENDING + 0), new("one", "c", 2))
    first, same, other = ids
    assert first == same and other != first
    copies = store.copies_for_merge("one", ["a", "b", "c"])
    assert {key: c.record.item_id for key, c in copies.items()} == {
        "a": first,
        "b": first,
        "c": other,
    }
    (joined,) = apply(store, "two", join("two", "x", first))
    assert joined == first
    (stored,) = store.items_by_id([first])
    assert (stored.uid, stored.title, stored.lead_source) == ("uid one a", "a", "one")
    assert [ref.name for ref in stored.sources] == ["one", "two"]
    assert stored.published == WHEN  # a new item without a date is dated when first seen


def test_copies_for_merge_are_the_sources_own_under_the_keys_asked(store: Store) -> None:
    (item_id,) = apply(store, "one", new("one", "a", 0, url="https://a.example/", fingerprint="f"))
    apply(store, "two", join("two", "a", item_id, bands=(5, 6)))
    found = store.copies_for_merge("one", ["a", "missing"])
    assert list(found) == ["a"]
    lead = found["a"]
    assert lead.record == CopyRecord(item_id, "hash a", is_lead=True)
    assert (lead.canonical_url, lead.fingerprint) == ("https://a.example/", "f")
    assert lead.indexed is not None and lead.indexed.shown and lead.indexed.id != 0
    other = store.copies_for_merge("two", ["a"])["a"]
    assert other.record == CopyRecord(item_id, "hash a", is_lead=False)
    assert other.indexed is not None
    assert (other.indexed.item_id, other.indexed.bands) == (item_id, (5, 6))
    assert (other.indexed.method, other.indexed.at) == ("content-hash", WHEN)
    assert store.copies_for_merge("three", ["a"]) == {}


def test_look_ups_take_any_number_of_keys(store: Store) -> None:
    count = 1200  # more than any one statement's bound values allow some databases
    steps = [
        new("one", f"k{n}", n, url=f"https://a.example/{n}", fingerprint=f"f{n}")
        for n in range(count)
    ]
    ids = apply(store, "one", *steps)
    keys = [f"k{n}" for n in range(count)]
    assert len(store.copies_for_merge("one", keys)) == count
    urls = store.items_by_url([f"https://a.example/{n}" for n in range(count)], "one")
    assert sorted(match.item_id for match in urls.values()) == sorted(ids)
    fingerprints = store.items_by_fingerprint([f"f{n}" for n in range(count)], excluding=ids[:10])
    assert len(fingerprints) == count - 10


def test_items_by_url_and_fingerprint_are_the_oldest_but_those_left_out(store: Store) -> None:
    url = "https://a.example/story"
    older, newer = apply(
        store,
        "one",
        new("one", "a", 0, url=url, fingerprint="f"),
        new("one", "b", 1, url=url, fingerprint="f"),
    )
    assert older < newer
    by_url = store.items_by_url([url, "https://other.example/"], "one")
    assert list(by_url) == [url]
    assert (by_url[url].item_id, by_url[url].has_source) == (older, True)
    assert not store.items_by_url([url], "two")[url].has_source
    assert store.items_by_url([url], "one", excluding=[older])[url].item_id == newer
    assert store.items_by_url([url], "one", excluding=[older, newer]) == {}
    assert store.items_by_fingerprint(["f", "g"]) == {"f": older}
    assert store.items_by_fingerprint(["f"], excluding=[older]) == {"f": newer}


def test_a_rewrite_changes_the_item_and_its_keys_a_retext_what_it_shows(store: Store) -> None:
    (item_id,) = apply(store, "one", new("one", "a", 0, url="https://a.example/1", fingerprint="f"))
    rewritten = item("Rewritten", url="https://a.example/2", fingerprint="g")
    rewrite = join("one", "a", item_id, content_hash="hash 2")
    before = store.copies_for_merge("one", ["a"])["a"].indexed
    apply(
        store,
        "one",
        CopyStep(
            "a", "https://a.example/2", "hash 2", item_id, None, rewritten, None,
            rewrite.index, before, show=False,
        ),
    )  # fmt: skip
    (stored,) = store.items_by_id([item_id])
    assert (stored.title, stored.link, stored.published) == (
        "Rewritten",
        "https://a.example/2",
        WHEN,
    )
    assert store.items_by_url(["https://a.example/1"], "one") == {}
    assert (
        store.items_by_url(["https://a.example/2"], "one")["https://a.example/2"].item_id == item_id
    )
    assert store.items_by_fingerprint(["f", "g"]) == {"g": item_id}
    assert store.copy_hashes("one") == {"a": "hash 2"}

    retext = join("two", "b", item_id)
    apply(store, "two", CopyStep(**{**_fields(retext), "retext": item("Shown text")}))
    (stored,) = store.items_by_id([item_id])
    assert (stored.title, stored.content_html) == ("Shown text", "<p>Shown text</p>")
    assert (stored.link, stored.lead_source) == ("https://a.example/2", "one")
    assert store.items_by_fingerprint(["g"]) == {"g": item_id}  # its keys stay


def test_saving_a_copy_again_keeps_its_item_and_when_it_was_first_seen(store: Store) -> None:
    (first,) = apply(store, "one", new("one", "a", 0))
    (second,) = apply(store, "one", new("one", "b", 0))
    again = join("one", "a", second, content_hash="hash again")  # an item it cannot move to
    before = store.copies_for_merge("one", ["a"])["a"].indexed
    later = WHEN + timedelta(days=1)
    with store.transaction():
        store.apply_merge(
            MergeIntent("one", later, (CopyStep(**{**_fields(again), "replacing": before}),))
        )
    assert store.copies_for_merge("one", ["a"])["a"].record.item_id == first
    assert store.copy_hashes("one") == {"a": "hash again", "b": "hash b"}
    (stored,) = store.items_by_id([first])
    assert [ref.name for ref in stored.sources] == ["one"]


def test_an_error_of_a_steps_data_names_its_entry(store: Store) -> None:
    """Undone with the caller's savepoint (the pipeline's, per source), the rest kept."""
    with store.transaction():
        apply(store, "two", new("two", "kept", 0))
        with pytest.raises(Exception) as raised, store.transaction():
            store.apply_merge(
                MergeIntent("one", WHEN, (new("one", "a", 0), join("one", "b", 424242)))
            )
        assert not isinstance(raised.value, StoreError)
        assert any("'b'" in note for note in getattr(raised.value, "__notes__", []))
    assert store.copies_for_merge("one", ["a", "b"]) == {}
    assert [item.uid for item in store.iter_items()] == ["uid two kept"]


def test_apply_merge_outside_a_transaction_takes_its_own(store: Store) -> None:
    with pytest.raises(Exception):  # noqa: B017 - the driver's own error, whatever it is
        store.apply_merge(MergeIntent("one", WHEN, (new("one", "a", 0), join("one", "b", 424242))))
    assert list(store.iter_items()) == []


def _fields(step: CopyStep) -> dict[str, object]:
    return {name: getattr(step, name) for name in CopyStep.__dataclass_fields__}


def test_lock_for_merge_takes_any_keys_and_writes_nothing(store: Store) -> None:
    (item_id,) = apply(store, "one", new("one", "a", 0))
    keys = [-(2**63), 2**63 - 1, 0, 7, 7, *range(-5000, 5000, 3)]
    with store.transaction():
        store.lock_for_merge(keys)
        store.lock_for_merge([])
        (joined,) = store.apply_merge(MergeIntent("two", WHEN, (join("two", "x", item_id),)))
    assert joined == item_id
    store.lock_for_merge(keys)  # outside a transaction: holds nothing, fails nothing
    (stored,) = store.items_by_id([item_id])
    assert [ref.name for ref in stored.sources] == ["one", "two"]


def test_latest_items_of_some_sources_are_those_any_of_them_carries(store: Store) -> None:
    (shared,) = apply(store, "one", new("one", "a", 0))
    apply(store, "two", join("two", "x", shared))
    apply(store, "two", new("two", "b", 0))
    apply(store, "three", new("three", "c", 0))

    def titles(sources: set[str] | None) -> list[str]:
        return sorted(i.title or "" for i in store.latest_items(10, sources=sources))

    assert titles(None) == ["a", "b", "c"]
    assert titles({"one"}) == ["a"]
    assert titles({"two"}) == ["a", "b"]
    assert titles({"one", "three"}) == ["a", "c"]
    assert titles(set()) == []
    assert len(store.latest_items(1, sources={"two", "three"})) == 1


def test_items_past_the_retention_go_with_their_copies_and_index_entries(store: Store) -> None:
    late = WHEN + timedelta(days=10)
    (old_id,) = apply(store, "one", new("one", "old", 0, bands=(7,)))
    apply(store, "two", join("two", "copy", old_id, bands=(7, 8)))
    old_story = new("one", "late", 0, bands=(7,), at=late)
    assert old_story.insert is not None
    # Published long ago but first seen late (a feed that lists old stories): kept.
    old_story = replace(
        old_story,
        insert=replace(old_story.insert, item=replace(old_story.insert.item, published=WHEN)),
    )
    with store.transaction():
        late_id, fresh_id = store.apply_merge(
            MergeIntent("one", late, (old_story, new("one", "fresh", 1, at=late)))
        )
    generation = store.get_meta("generation")

    assert store.delete_items_before(WHEN + timedelta(days=1)) == 1

    assert store.items_by_id([old_id, late_id, fresh_id]) == store.items_by_id([late_id, fresh_id])
    assert {i.id for i in store.latest_items(10)} == {late_id, fresh_id}
    assert store.copies_for_merge("one", ["old", "late"]).keys() == {"late"}
    assert store.copies_for_merge("two", ["copy"]) == {}
    (hits,) = store.band_hits([BandQuery((7, 8), WHEN - timedelta(hours=1), late)])
    late_copy = store.copies_for_merge("one", ["late"])["late"].indexed
    assert late_copy is not None
    assert [(hit.band, list(hit.copy_ids)) for hit in hits] == [(7, [late_copy.id])]
    assert store.get_meta("generation") != generation  # publishing sees the change

    # Nothing left to delete: nothing written, the generation unchanged.
    generation = store.get_meta("generation")
    assert store.delete_items_before(WHEN + timedelta(days=1)) == 0
    assert store.get_meta("generation") == generation
    # The deleted copy stored again is a new item under the same uid.
    (again,) = apply(store, "one", new("one", "old", 0))
    assert store.items_by_id([again])[0].uid == "uid one old"


def test_an_items_enclosures_and_image_are_kept_and_a_rewrite_replaces_them(
    store: Store,
) -> None:
    from aggregator.models import Enclosure

    audio = Enclosure("https://cdn.example/ep.mp3", "audio/mpeg", 48213504)
    video = Enclosure("https://cdn.example/ep.mp4", None, None)
    step = new("one", "ep", 0)
    assert step.insert is not None
    media = replace(step.insert.item, enclosures=(audio, video), image="https://cdn.example/i.jpg")
    step = replace(step, insert=replace(step.insert, item=media))
    item_id, plain_id = apply(store, "one", step, new("one", "plain", 1))
    stored, plain = store.items_by_id([item_id, plain_id])
    assert stored.enclosures == (audio, video)
    assert stored.image == "https://cdn.example/i.jpg"
    assert (plain.enclosures, plain.image) == ((), None)

    rewrite = join("one", "ep", item_id, content_hash="hash 2")
    rewritten = replace(media, enclosures=(video,), image=None)
    before = store.copies_for_merge("one", ["ep"])["ep"].indexed
    apply(store, "one", replace(rewrite, rewrite=rewritten, replacing=before))
    (again,) = store.items_by_id([item_id])
    assert (again.enclosures, again.image) == ((video,), None)
    assert {i.id: i.enclosures for i in store.latest_items(5)}[item_id] == (video,)


def test_duplicate_clusters_give_each_copys_source_and_its_stored_feed_url(store: Store) -> None:
    """What `aggregate duplicates` masks a copy's title and link with, as
    publishing does: a file source has no feed URL."""
    store.sync_sources([("one", "https://one.example/feed?key=k1", "S"), ("two", "/srv/a", "S")])
    (shared,) = apply(store, "one", new("one", "a", 0))
    apply(store, "two", join("two", "x", shared))
    apply(store, "three", new("three", "c", 0))  # one copy: no cluster
    (cluster,) = store.duplicate_clusters()
    assert cluster.item_id == shared
    assert [(m.source, m.feed_url) for m in cluster.members] == [
        ("one", "https://one.example/feed?key=k1"),
        ("two", None),
    ]
