"""Feed autodiscovery: which feeds a page names, golden pairs of page and URLs."""

from __future__ import annotations

import pytest

from aggregator.models import Document
from aggregator.parse.discover import MAX_FEED_LINKS, feed_links

PAGE = "https://news.example/section/index.html"


def links(head: str, body: str = "", location: str = PAGE) -> list[str]:
    html = f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"
    return feed_links(Document(location, html.encode(), "text/html"))


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        # Each feed type, relative and absolute, in the page's order.
        ('<link rel="alternate" type="application/rss+xml" href="/feed.xml">'
         '<link rel="alternate" type="application/atom+xml" href="atom.xml">'
         '<link rel="alternate" type="application/feed+json" href="https://cdn.example/f.json">',
         ["https://news.example/feed.xml", "https://news.example/section/atom.xml",
          "https://cdn.example/f.json"]),
        # Case, parameters and other rel tokens as pages write them.
        ('<LINK REL="Alternate Feed" TYPE="Application/RSS+XML; charset=utf-8" HREF="/r">',
         ["https://news.example/r"]),
        # Not feeds: a stylesheet, a translation, a canonical link, an icon.
        ('<link rel="stylesheet" type="text/css" href="/s.css">'
         '<link rel="alternate" hreflang="fr" href="/fr/">'
         '<link rel="alternate" type="text/html" href="/m/">'
         '<link rel="canonical" href="/c"><link rel="icon" href="/i.png">', []),
        # A feed type without rel="alternate" is not one the page names.
        ('<link rel="home" type="application/rss+xml" href="/h.xml">', []),
        # No href, an empty one, one that is no http(s) URL, or a bad port.
        ('<link rel="alternate" type="application/rss+xml">'
         '<link rel="alternate" type="application/rss+xml" href="">'
         '<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">'
         '<link rel="alternate" type="application/rss+xml" href="http://x.example:99999/f">',
         []),
        # The same feed twice is one.
        ('<link rel="alternate" type="application/rss+xml" href="/f">'
         '<link rel="alternate" type="application/rss+xml" href="https://news.example/f">',
         ["https://news.example/f"]),
        # <base href> decides what relative links mean (the first one only).
        ('<base href="https://static.example/feeds/"><base href="https://other.example/">'
         '<link rel="alternate" type="application/atom+xml" href="a.xml">',
         ["https://static.example/feeds/a.xml"]),
    ],
)  # fmt: skip
def test_the_feeds_a_page_names(head: str, expected: list[str]) -> None:
    assert links(head) == expected


def test_links_in_the_body_count_but_anchors_do_not() -> None:
    body = (
        '<a href="/rss.xml">RSS</a>'
        '<link rel="alternate" type="application/rss+xml" href="/late.xml">'
    )
    assert links("", body) == ["https://news.example/late.xml"]


def test_a_page_naming_many_feeds_gives_the_first_ones() -> None:
    head = "".join(
        f'<link rel="alternate" type="application/rss+xml" href="/f{n}">' for n in range(500)
    )
    found = links(head)
    assert found == [f"https://news.example/f{n}" for n in range(MAX_FEED_LINKS)]


def test_broken_markup_and_bytes_are_read_as_far_as_they_go() -> None:
    page = (
        b"<html><head><link rel=alternate type=application/rss+xml href=/a.xml>"
        b"\xff\xfe<link rel='alternate' type='application/atom+xml' href='/b.xml'"
        b"<title>unclosed"
    )
    found = feed_links(Document(PAGE, page, "text/html"))
    assert found[0] == "https://news.example/a.xml"
