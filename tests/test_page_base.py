"""page_base: what a page's relative links resolve against."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from aggregator.page_base import page_base

PAGE = "https://news.example/2026/06/pier.html"


def test_without_a_base_the_page_url_is_the_base() -> None:
    assert page_base(PAGE, []) == PAGE
    assert page_base(PAGE, [None, None]) == PAGE  # <base target=...> only


@pytest.mark.parametrize(
    ("href", "base"),
    [
        ("/archive/2026/", "https://news.example/archive/2026/"),
        ("media/", "https://news.example/2026/06/media/"),
        ("../", "https://news.example/2026/"),
        ("//cdn.example/pier/", "https://cdn.example/pier/"),  # the page's scheme
        ("http://mirror.example/a/", "http://mirror.example/a/"),  # another site: honoured
        ("", PAGE),  # an empty href is the page's own URL, as in a browser
        ("  \n/archive/\t2026/ ", "https://news.example/archive/2026/"),  # what a browser strips
    ],
)
def test_a_base_is_resolved_against_the_page_url(href: str, base: str) -> None:
    assert page_base(PAGE, [href]) == base


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        " JavaScript:void(0)",
        "data:text/html,<p>x</p>",
        "file:///etc/",
        "mailto:desk@news.example",
        "ftp://files.example/pub/",
        "http://[::1",  # not a URL
        "https://news.example:99999/",  # a port that cannot be
        "http:///path-but-no-host/",
    ],
)
def test_a_base_that_is_not_an_http_url_is_ignored(href: str) -> None:
    assert page_base(PAGE, [href]) == PAGE


def test_the_first_base_with_an_href_counts_and_no_other() -> None:
    assert page_base(PAGE, [None, "/first/", "/second/"]) == "https://news.example/first/"
    # As in a browser, an unusable first one is not passed over for the next.
    assert page_base(PAGE, ["javascript:alert(1)", "/second/"]) == PAGE


def test_only_the_base_elements_needed_are_read() -> None:
    """The page's hrefs are taken lazily: a page of many <base> elements
    costs the first one with an href."""

    def hrefs() -> Iterator[str | None]:
        yield None
        yield "/first/"
        raise AssertionError("read past the first base with an href")

    assert page_base(PAGE, hrefs()) == "https://news.example/first/"
