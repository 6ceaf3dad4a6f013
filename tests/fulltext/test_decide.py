"""Which copies' pages to fetch: the pure decider."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.config import SourceConfig
from aggregator.fulltext.decide import (
    PAGE_RETRIES,
    RETRY_AFTER_CAP,
    RETRY_FIRST,
    RETRY_GROWTH,
    PageFailure,
    next_try,
    plan_pages,
    private_hosts,
    word_count,
)
from aggregator.store.pages import PageCandidate

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def source(name: str, full_text: str, min_words: int = 5) -> SourceConfig:
    return SourceConfig(
        name, "S", 1800.0, url=f"https://{name}.example/feed", full_text=full_text,  # type: ignore[arg-type]
        full_text_min_words=min_words,
    )  # fmt: skip


def candidate(key: str, words: int = 1, link: str | None = "default") -> PageCandidate:
    text = " ".join(["word"] * words)
    url = f"https://one.example/{key}" if link == "default" else link
    return PageCandidate("one", key, url, f"hash {key}", f"<p>{text}</p>")


def test_every_copy_of_a_full_text_source_is_fetched_up_to_the_limit() -> None:
    plan = plan_pages([candidate(k) for k in "abc"], {"one": source("one", "on")}, 2, NOW)
    assert [p.candidate.entry_key for p in plan.fetch] == ["a", "b"]
    assert [p.url for p in plan.fetch] == ["https://one.example/a", "https://one.example/b"]
    assert plan.not_needed == []  # c waits for the next pass: nothing stored for it


def test_auto_fetches_only_short_texts_and_decides_the_long_ones_once() -> None:
    plan = plan_pages(
        [candidate("short", 4), candidate("long", 5)], {"one": source("one", "auto", 5)}, 10, NOW
    )
    assert [p.candidate.entry_key for p in plan.fetch] == ["short"]
    ((long,),) = [[(w.entry_key, w.url, w.article_html, w.error) for w in plan.not_needed]]
    assert long == ("long", None, None, None)


def test_a_copy_without_an_http_link_needs_no_page() -> None:
    plan = plan_pages(
        [candidate("none", link=None), candidate("ftp", link="ftp://one.example/x")],
        {"one": source("one", "on")},
        10,
        NOW,
    )
    assert plan.fetch == []
    assert [w.entry_key for w in plan.not_needed] == ["none", "ftp"]


def test_copies_of_sources_without_full_text_are_left_alone() -> None:
    plan = plan_pages([candidate("a")], {"one": source("one", "off")}, 10, NOW)
    assert plan.fetch == [] and plan.not_needed == []
    assert plan_pages([candidate("a")], {}, 10, NOW).fetch == []


def test_words_are_counted_in_the_text_not_the_markup() -> None:
    assert word_count('<p class="a b c">One <b>two</b></p><p>three</p>') == 3


def test_a_page_that_may_succeed_later_is_tried_again_ever_later_then_not() -> None:
    down = PageFailure("HTTP 503 Service Unavailable", transient=True)
    waits = [next_try(failures, down, NOW) for failures in range(PAGE_RETRIES + 1)]
    assert waits[:PAGE_RETRIES] == [
        NOW + RETRY_FIRST * RETRY_GROWTH**failures for failures in range(PAGE_RETRIES)
    ]
    assert waits[0] == NOW + timedelta(minutes=30)
    assert waits[PAGE_RETRIES] is None  # given up: until the copy's text changes


def test_a_page_answered_for_good_is_not_tried_again() -> None:
    assert next_try(0, PageFailure("HTTP 404 Not Found"), NOW) is None
    assert next_try(0, PageFailure("no main text found on the page"), NOW) is None


def test_a_servers_retry_after_is_followed_when_longer_up_to_a_day() -> None:
    def asking(wait: timedelta) -> PageFailure:
        return PageFailure("HTTP 429 Too Many Requests", transient=True, retry_after=NOW + wait)

    assert next_try(0, asking(timedelta(hours=3)), NOW) == NOW + timedelta(hours=3)
    assert next_try(0, asking(timedelta(minutes=1)), NOW) == NOW + RETRY_FIRST
    assert next_try(0, asking(timedelta(days=30)), NOW) == NOW + RETRY_AFTER_CAP


def test_a_source_that_allows_private_addresses_allows_them_only_on_its_feeds_host() -> None:
    """allow_private says where the feed lives; its items' links are its author's."""
    from dataclasses import replace

    intranet = replace(source("one", "on"), url="http://Wiki.Corp:8080/feed", allow_private=True)
    assert private_hosts(intranet) == frozenset({"wiki.corp"})
    assert private_hosts(replace(intranet, allow_private=False)) == frozenset()
    files = replace(intranet, url=None, path="feeds/*.xml")
    assert private_hosts(files) == frozenset()  # no feed host: no page is private
    (page,) = plan_pages([candidate("a")], {"one": intranet}, 10, NOW).fetch
    assert page.private_hosts == frozenset({"wiki.corp"})


def test_a_source_that_lists_private_hosts_allows_them_for_its_pages() -> None:
    """An intranet feed on news.corp whose items link to wiki.corp: the hosts
    listed are the user's word, for the feed and its pages alike."""
    from dataclasses import replace

    listed = frozenset({"news.corp", "wiki.corp"})
    intranet = replace(source("one", "on"), url="http://news.corp/feed", allow_private=listed)
    assert private_hosts(intranet) == listed
    files = replace(intranet, url=None, path="feeds/*.xml")
    assert private_hosts(files) == listed  # no feed host, but hosts named
    (page,) = plan_pages([candidate("a")], {"one": intranet}, 10, NOW).fetch
    assert page.private_hosts == listed


def test_allow_private_true_compares_the_feeds_host_as_the_fetcher_spells_it() -> None:
    from dataclasses import replace

    idn = replace(source("one", "on"), url="http://Bücher.Corp/feed", allow_private=True)
    assert private_hosts(idn) == frozenset({"xn--bcher-kva.corp"})
    six = replace(idn, url="http://[0:0::1]:8080/feed")
    assert private_hosts(six) == frozenset({"::1"})


def test_each_page_to_fetch_carries_its_sources_selector() -> None:
    """full_text_selector goes with the page to the worker that extracts it;
    a page not needed carries none (its source's selector does not matter to it)."""
    from dataclasses import replace

    picky = replace(source("one", "auto", 5), full_text_selector="article .post-body")
    plan = plan_pages([candidate("short", 4), candidate("long", 5)], {"one": picky}, 10, NOW)
    assert [(p.candidate.entry_key, p.selector) for p in plan.fetch] == [
        ("short", "article .post-body")
    ]
    assert [(w.entry_key, w.selector) for w in plan.not_needed] == [("long", None)]
    (page,) = plan_pages([candidate("a")], {"one": source("one", "on")}, 10, NOW).fetch
    assert page.selector is None
