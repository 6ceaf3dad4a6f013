"""Links that urljoin gives back as they are skip its steps: the same URLs either way."""

from __future__ import annotations

from urllib.parse import urljoin

import feedparser.urls
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.parse import feed, normalize
from aggregator.parse.normalize import absolute_url, http_url, joined_as_is

PIECES = [
    *("http", "https", "HTTP", "ftp", ":", "//", "/", "///", "a", "b.c", "example.com", ":80"),
    *(":99999", "@", "user:pw@", "[", "]", "[::1]", "?", "#", ";", "=", "&", "%", "%2F", " "),
    *("\t", "\n", "\r", "\x00", "\x01", "é", "日", "\u3000", '"', "<", ">", "`", "{", "}", "|"),
    *("\\", "^", "~", "-", "_", ".", "..", "'", "(", ")", "*", "+", ",", "!", "$"),
]
BASES = [
    *("", "http://example.com/feed.xml", "https://www.example.org/a/b/", "ftp://x/y"),
    *("http://[::1/", "http://[abc]/x", "/relative/base", "http://\uff03x.com/", "mailto:x@y"),
]
URLS = st.one_of(
    st.lists(st.sampled_from(PIECES), max_size=12).map("".join),
    st.tuples(
        st.sampled_from(["http://", "https://"]),
        st.lists(st.sampled_from(PIECES), max_size=10).map("".join),
    ).map("".join),
)


def through_urllib(url: str, base: str) -> tuple[str | None, str | None]:
    fast = normalize._PLAIN_URL_CHECKED
    normalize._PLAIN_URL_CHECKED = False
    try:
        return absolute_url(url, base), http_url(url, base)
    finally:
        normalize._PLAIN_URL_CHECKED = fast


@settings(max_examples=3000, deadline=None)
@given(URLS, st.sampled_from(BASES))
def test_links_are_resolved_as_by_urllib(url: str, base: str) -> None:
    assert (absolute_url(url, base), http_url(url, base)) == through_urllib(url, base)
    if joined_as_is(url, base):
        assert urljoin(base, url) == url
        assert feedparser.urls._urljoin(base, url) == url
    assert feed._urljoin(base, url) == feedparser.urls._urljoin(base, url)


SCHEMES = ["urn", "tag", "http", "https", "HTTP", "Urn", "mailto", "a+b", "x.y", "ftp", "z-9"]


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(SCHEMES), URLS, st.sampled_from([*BASES, "urn:x:y", "HTTP://A/"]))
def test_ids_of_other_schemes_are_joined_as_by_feedparser(
    scheme: str, rest: str, base: str
) -> None:
    uri = scheme + ":" + rest
    assert feed._urljoin(base, uri) == feedparser.urls._urljoin(base, uri)


def test_common_links_are_joined_as_is() -> None:
    assert normalize._PLAIN_URL_CHECKED and feed._JOINS_AS_IS
    link = "https://www.example.com/world/2024/06/03/a-story?utm_source=rss&id=3#top"
    assert joined_as_is(link, "http://example.com/feed.xml")
    assert not joined_as_is(link, "http://[::1/")  # urljoin cannot read that base
    assert not joined_as_is("HTTPS://example.com/", "")  # urlsplit lowers the scheme
    assert not joined_as_is("https://example.com/a;b", "")  # a parameter
    assert not joined_as_is("https://example.com/?", "")  # an empty query, dropped
