"""The decisions of adding feeds: which are new, their names and sections."""

from __future__ import annotations

from aggregator.feeds_file import ListedSource, NewSource
from aggregator.parse.opml import Subscription
from aggregator.subscribe import plan_import, same_url, source_name


def test_urls_are_the_same_whatever_the_case_of_scheme_and_host_or_a_default_port() -> None:
    assert same_url("HTTPS://News.Example:443/feed", "https://news.example/feed")
    assert same_url("http://news.example", "http://news.example/")
    assert not same_url("https://news.example/Feed", "https://news.example/feed")
    assert not same_url("https://news.example/feed?a=1", "https://news.example/feed")
    assert not same_url("http://news.example/feed", "https://news.example/feed")


def test_names_come_from_the_title_else_the_host_and_are_numbered() -> None:
    taken = {"News", "News (2)"}
    assert source_name("  News  ", "https://a.example/", taken) == "News (3)"
    assert source_name("", "https://a.example/rss", set()) == "a.example"
    assert source_name("Fresh", "https://a.example/rss", taken) == "Fresh"


def test_plan_skips_what_is_configured_or_listed_twice() -> None:
    listed = [ListedSource("Kyiv", "https://kyiv.example/rss"), ListedSource(None, None)]
    subscriptions = [
        Subscription("Kyiv again", "HTTPS://KYIV.example/rss", "Ukraine"),
        Subscription("Wire", "https://wire.example/", None),
        Subscription("Wire", "https://wire.example/other", "World", enabled=False),
        Subscription("Wire copy", "https://wire.example/", "World"),
    ]

    plan = plan_import(listed, subscriptions, "News")

    assert plan.added == [
        NewSource("Wire", "https://wire.example/", "News"),
        NewSource("Wire (2)", "https://wire.example/other", "World", enabled=False),
    ]
    assert plan.skipped == [
        ("Kyiv again", "already in the configuration as 'Kyiv'"),
        ("Wire copy", "listed twice; added once, as 'Wire'"),
    ]


def test_names_and_sections_are_made_one_line_of_plain_text() -> None:
    assert source_name("a\u202eb\x85c\n d", "https://a.example/", set()) == "ab c d"
    assert source_name("\u202e\u2066", "https://a.example/rss", set()) == "a.example"

    plan = plan_import(
        [],
        [
            Subscription("One", "https://one.example/", "Wor\u202eld\x9b"),
            Subscription("Two", "https://two.example/", "\u202e"),
        ],
        "News",
    )

    assert [(source.name, source.section) for source in plan.added] == [
        ("One", "World"),
        ("Two", "News"),
    ]
