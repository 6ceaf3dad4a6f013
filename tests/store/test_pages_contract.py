"""The article pages part of the store contract (PageStore), run over every store."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from aggregator.models import FetchState
from aggregator.store import Store
from aggregator.store.pages import PageCandidate, PageHealth, PageWrite
from tests.store.test_items_contract import WHEN, apply, join, new


def page(
    candidate: PageCandidate,
    *,
    article: str | None = None,
    error: str | None = None,
    state: FetchState | None = None,
    keep: bool = False,
    url: str | None = "https://one.example/page",
    minutes: int = 0,
) -> PageWrite:
    return PageWrite(
        candidate.source,
        candidate.entry_key,
        candidate.content_hash,
        url,
        WHEN + timedelta(minutes=minutes),
        state=state,
        article_html=article,
        error=error,
        keep_article=keep,
    )


def change(store: Store, source: str, key: str, item_id: int, content_hash: str) -> None:
    """The source sends its copy ``key`` again, changed."""
    before = store.copies_for_merge(source, [key])[key].indexed
    step = join(source, key, item_id, content_hash=content_hash)
    apply(store, source, replace(step, replacing=before))


def text_of(store: Store, item_id: int) -> str:
    (item,) = store.items_by_id([item_id])
    assert [i.content_html for i in store.latest_items(10) if i.id == item_id] == [
        item.content_html
    ]
    return item.content_html


def test_copies_that_lead_their_item_are_wanted_until_their_page_is_stored(store: Store) -> None:
    a_id, b_id = apply(store, "one", new("one", "a", 0), new("one", "b", 1))
    apply(store, "two", join("two", "x", a_id))  # not the lead: its page is never wanted
    wanted = store.pages_wanted(["one", "two"], 10, WHEN)
    assert {(c.source, c.entry_key) for c in wanted} == {("one", "a"), ("one", "b")}
    a = next(c for c in wanted if c.entry_key == "a")
    assert (a.content_hash, a.content_html, a.previous) == ("hash a", "<p>a</p>", None)
    assert len(store.pages_wanted(["one"], 1, WHEN)) == 1
    assert store.pages_wanted(["two"], 10, WHEN) == []

    generation = store.get_meta("generation")
    with store.transaction():
        store.save_pages([page(a, article="<h2>Part</h2><p>The article.</p>")])
    assert store.get_meta("generation") != generation  # publishing sees the article
    assert [c.entry_key for c in store.pages_wanted(["one"], 10, WHEN)] == ["b"]
    # The item is published with its lead copy's article, in place of the feed's text.
    assert text_of(store, a_id) == "<h2>Part</h2><p>The article.</p>"
    assert text_of(store, b_id) == "<p>b</p>"
    # Saving the same page twice stores it once.
    with store.transaction():
        store.save_pages([page(a, article="<h2>Part</h2><p>The article.</p>")])
    assert text_of(store, a_id) == "<h2>Part</h2><p>The article.</p>"


def test_a_changed_copy_is_wanted_again_with_its_pages_validators(store: Store) -> None:
    (item_id,) = apply(store, "one", new("one", "a", 0))
    (a,) = store.pages_wanted(["one"], 10, WHEN)
    validators = FetchState('"v1"', "Mon, 30 Nov 2026 08:00:00 GMT", "body-hash")
    with store.transaction():
        store.save_pages([page(a, article="<p>The article.</p>", state=validators)])

    change(store, "one", "a", item_id, "hash a 2")
    (changed,) = store.pages_wanted(["one"], 10, WHEN)
    assert changed.content_hash == "hash a 2"
    assert changed.previous == validators
    # Until its page is decided again, the item shows the feed's text.
    assert text_of(store, item_id) == "<p>a</p>"

    # Not modified: the article stored is kept for the new version.
    with store.transaction():
        store.save_pages([page(changed, state=validators, keep=True)])
    assert store.pages_wanted(["one"], 10, WHEN) == []
    assert text_of(store, item_id) == "<p>The article.</p>"


def test_a_failed_page_is_not_wanted_again_and_its_reason_is_reported(store: Store) -> None:
    a_id, b_id, c_id = apply(
        store, "one", new("one", "a", 0), new("one", "b", 1), new("one", "c", 2)
    )
    a, b, c = sorted(store.pages_wanted(["one"], 10, WHEN), key=lambda x: x.entry_key)
    with store.transaction():
        store.save_pages(
            [
                page(a, error="HTTP 404 Not Found", url="https://one.example/a", minutes=1),
                page(
                    b,
                    error="no main text found on the page",
                    url="https://one.example/b",
                    minutes=2,
                ),
                page(c, url=None),  # none needed: not counted as a page tried
            ]
        )
    assert store.pages_wanted(["one"], 10, WHEN) == []
    assert text_of(store, a_id) == "<p>a</p>"
    assert text_of(store, c_id) == "<p>c</p>"
    assert store.page_health(["one", "two"]) == {
        "one": PageHealth(2, 2, ("https://one.example/b", "no main text found on the page"))
    }
    # A page that then gives an article is no longer a failure.
    change(store, "one", "b", b_id, "hash b 2")
    (b2,) = store.pages_wanted(["one"], 10, WHEN)
    with store.transaction():
        store.save_pages([page(b2, article="<p>B.</p>", url="https://one.example/b", minutes=3)])
    assert store.page_health(["one"]) == {
        "one": PageHealth(2, 1, ("https://one.example/a", "HTTP 404 Not Found"))
    }
    assert text_of(store, b_id) == "<p>B.</p>"


def test_pages_go_with_their_items_past_the_retention(store: Store) -> None:
    apply(store, "one", new("one", "a", 0))
    (a,) = store.pages_wanted(["one"], 10, WHEN)
    with store.transaction():
        store.save_pages([page(a, error="HTTP 500")])
    assert store.delete_items_before(WHEN + timedelta(days=1)) == 1
    assert store.page_health(["one"]) == {}
    # Stored again, the copy is wanted afresh.
    apply(store, "one", new("one", "a", 0))
    assert [c.entry_key for c in store.pages_wanted(["one"], 10, WHEN)] == ["a"]


def test_a_page_to_try_again_is_wanted_from_its_time_with_its_failures(store: Store) -> None:
    a_id, _b_id = apply(store, "one", new("one", "a", 0), new("one", "b", 1))
    a, b = sorted(store.pages_wanted(["one"], 10, WHEN), key=lambda x: x.entry_key)
    assert (a.failures, b.failures) == (0, 0)
    later = WHEN + timedelta(minutes=30)
    with store.transaction():
        store.save_pages(
            [
                replace(page(a, error="HTTP 503"), failures=1, retry_at=later),
                replace(page(b, error="HTTP 404"), failures=1),  # for good
            ]
        )
    assert store.pages_wanted(["one"], 10, later - timedelta(seconds=1)) == []
    (again,) = store.pages_wanted(["one"], 10, later)
    assert (again.entry_key, again.failures, again.previous) == ("a", 1, None)
    # Failed until it succeeds, and to be fetched again.
    assert store.page_health(["one"])["one"] == PageHealth(
        2, 2, ("https://one.example/page", "HTTP 404"), retrying=1
    )

    # A change of the copy's text starts its count again.
    change(store, "one", "a", a_id, "hash a 2")
    (changed,) = store.pages_wanted(["one"], 10, WHEN)
    assert (changed.content_hash, changed.failures) == ("hash a 2", 0)
    # Once it gives its article, it is not wanted again, however late.
    with store.transaction():
        store.save_pages([page(changed, article="<p>A.</p>", minutes=31)])
    assert store.pages_wanted(["one"], 10, WHEN + timedelta(days=365)) == []
    assert text_of(store, a_id) == "<p>A.</p>"
    assert store.page_health(["one"])["one"] == PageHealth(
        2, 1, ("https://one.example/page", "HTTP 404")
    )


def test_a_page_extracted_with_another_selector_is_wanted_again_in_full(store: Store) -> None:
    """A source's full_text_selector changed: each page asked for is wanted
    again, without the validators (a "not modified" would keep the article
    the other way gave) or the failures of the other selector; a copy that
    needed no page is not."""
    a_id, _b_id, _c_id = apply(
        store, "one", new("one", "a", 0), new("one", "b", 1), new("one", "c", 2)
    )
    a, b, c = sorted(store.pages_wanted(["one"], 10, WHEN), key=lambda x: x.entry_key)
    validators = FetchState('"v1"', None, "body-hash")
    with store.transaction():
        store.save_pages(
            [
                page(a, article="<p>Trafilatura's guess.</p>", state=validators),
                replace(page(b, error="HTTP 503"), failures=2),  # for good, after two
                page(c, url=None),  # none needed
            ]
        )
    assert store.pages_wanted(["one"], 10, WHEN) == []

    wanted = store.pages_wanted(["one"], 10, WHEN, {"one": ".post-body", "two": "article"})
    assert sorted((w.entry_key, w.previous, w.failures) for w in wanted) == [
        ("a", None, 0),
        ("b", None, 0),
    ]
    # Until its page is extracted again, the item keeps the article it had.
    assert text_of(store, a_id) == "<p>Trafilatura's guess.</p>"

    again = next(w for w in wanted if w.entry_key == "a")
    with store.transaction():
        store.save_pages(
            [replace(page(again, article="<p>The post body.</p>"), selector=".post-body")]
        )
    assert text_of(store, a_id) == "<p>The post body.</p>"
    assert [w.entry_key for w in store.pages_wanted(["one"], 10, WHEN, {"one": ".post-body"})] == [
        "b"
    ]
    # Its validators are given for its selector's next request.
    with store.transaction():
        store.save_pages(
            [replace(page(again, article="<p>B.</p>", state=validators), selector=".post-body")]
        )
    change(store, "one", "a", a_id, "hash a 2")
    (changed,) = [
        w
        for w in store.pages_wanted(["one"], 10, WHEN, {"one": ".post-body"})
        if w.entry_key == "a"
    ]
    assert changed.previous == validators
    # Back to no selector: extracted with one, the page is wanted again too.
    (changed,) = [w for w in store.pages_wanted(["one"], 10, WHEN) if w.entry_key == "a"]
    assert changed.previous is None
