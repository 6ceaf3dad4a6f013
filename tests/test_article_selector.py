"""full_text_selector: the article a CSS selector picks from a page.

Golden pairs in tests/data/fulltext: each page names its selector in a
comment on its second line, and ``<page>.expected`` holds the article
handed on (sanitized HTML), or ``no article: <why>``.  Set UPDATE_GOLDEN=1
to rewrite the expectations after a deliberate change, then read the diff.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator import article_selector as selector_module
from aggregator.article_selector import CSSSELECT_INSTALL_HINT, selector_problem
from aggregator.fulltext.extract import MAX_PAGE_ELEMENTS, NoArticle, extract_article
from tests.conftest import DATA

PAGES = sorted((DATA / "fulltext").glob("*.html"))
_SELECTOR = re.compile(rb"<!-- full_text_selector: (.+?) -->")
URL = "https://news.example/2026/pier.html"


def selector_of(page: bytes) -> str:
    found = _SELECTOR.search(page)
    assert found is not None, "the page names no selector"
    return found.group(1).decode()


def handed_on(page: bytes) -> str:
    """What the stage stores for the page: the article, or why there is none."""
    try:
        return extract_article(page, URL, "text/html; charset=utf-8", selector_of(page)) + "\n"
    except NoArticle as why:
        return f"no article: {why}\n"


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.stem)
def test_the_selected_article_matches_golden(path: Path) -> None:
    actual = handed_on(path.read_bytes())
    expected_path = path.with_name(f"{path.name}.expected")
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(actual, encoding="utf-8")
    assert actual == expected_path.read_text(encoding="utf-8")


def test_the_golden_pages_show_what_they_are_named_for() -> None:
    """The pairs' expectations, said in words: a regenerated expectation that
    breaks one of these is not the behaviour the pair stands for."""

    def expected(name: str) -> str:
        return (DATA / "fulltext" / f"{name}.html.expected").read_text(encoding="utf-8")

    several = expected("multiple-matches")
    # Every match, in document order (the byline first though the selector
    # names it last), and nothing the selector does not match.
    assert several.index("Ann Smith") < several.index("voted") < several.index("What next")
    assert "<h2>What next</h2>" in several
    assert "Buy a boat" not in several and "seagull" not in several and "Home" not in several
    assert "The pier is rebuilt" not in several  # the title is outside the matches

    nested = expected("nested-script")
    for unseen in ("tracking pixel", "display: none", "steal", "enable JavaScript", "template"):
        assert unseen not in nested, unseen
    assert "json in a script" not in nested and "<script" not in nested
    assert "Ferries dock at a pontoon" not in nested  # the leading <h1>, the entry's title
    assert nested.count("The first ferry leaves") == 1  # the inner match is in the outer's
    assert '<a href="https://news.example/2026/timetable.pdf"' in nested
    assert '<img src="https://news.example/img/pontoon.jpg"' in nested
    assert "first!" not in nested

    assert expected("no-match") == "no article: no element on the page matches full_text_selector\n"
    assert expected("only-scripts") == (
        "no article: what full_text_selector matches on the page has no text\n"
    )
    assert "café on the pier reopens – with crème brûlée" in expected("windows-1252")

    # Relative to the first <base> with an href, itself relative to the
    # page's URL: not to the page's URL (/2026/), nor to the later base.
    based = expected("base-href")
    assert 'href="https://news.example/archive/2026/pier/minutes.html"' in based
    assert 'href="https://news.example/archive/reports/piles.pdf"' in based
    assert 'href="https://news.example/history/"' in based  # from the host's root
    assert 'src="https://news.example/archive/2026/pier/img/pier.jpg"' in based
    assert 'cite="https://news.example/archive/2026/pier/quotes.html#mayor"' in based
    assert 'href="https://news.example/archive/2026/pier/#timetable"' in based  # as browsers do
    assert 'href="mailto:desk@news.example"' in based
    assert "elsewhere.example" not in based and "news.example/2026/" not in based
    assert "srcset" not in based and "pier-2x" not in based  # not kept, so not resolved


def test_a_page_on_which_the_selector_matches_nothing_is_not_given_to_trafilatura() -> None:
    """The page has an article trafilatura finds; the selector's "none" stands."""
    page = (DATA / "fulltext" / "no-match.html").read_bytes()
    assert "another element" in extract_article(page, URL, "text/html")
    with pytest.raises(NoArticle, match="no element on the page matches full_text_selector"):
        extract_article(page, URL, "text/html", ".post-body")


def test_the_page_limits_hold_with_a_selector() -> None:
    """Not HTML, or too many elements: refused before the selector runs."""
    many = (
        b"<html><body><article>"
        + b"<p>A b c.</p>" * MAX_PAGE_ELEMENTS
        + b"</article></body></html>"
    )
    with pytest.raises(NoArticle, match=f"more than {MAX_PAGE_ELEMENTS:,} elements"):
        extract_article(many, URL, "text/html", "article")
    with pytest.raises(NoArticle, match=r"not an HTML page \(application/pdf\)"):
        extract_article(b"%PDF-1.7", URL, "application/pdf", "article")


@pytest.mark.parametrize("selector", ["p + p", "h2 ~ p", "p:nth-child(2n)", "p:last-of-type"])
def test_a_selector_comparing_siblings_is_not_run_on_a_page_too_wide_for_it(
    selector: str,
) -> None:
    """libxml2 runs sibling tests in time that grows with the square of the
    siblings, or faster: minutes for ``h2 ~ p`` on a page under the element
    cap.  Such a page gives no article for such a selector, at once; one
    under the bound, and any page for a selector without sibling tests, is
    read as usual."""
    from aggregator.article_selector import MAX_SIBLING_WORK, TOO_WIDE

    def page(paragraphs: int) -> bytes:
        return (
            b"<html><body><article><h2>H</h2>"
            + b"<p>A b c.</p>" * paragraphs
            + b"</article></body></html>"
        )

    wide = 10_000  # "h2 ~ p" took 169 s on as many, before the bound
    assert wide**2 > MAX_SIBLING_WORK
    with pytest.raises(NoArticle) as why:
        extract_article(page(wide), URL, "text/html", selector)
    assert str(why.value) == TOO_WIDE
    assert "A b c." in extract_article(page(wide), URL, "text/html", "article p")
    assert "A b c." in extract_article(page(1_500), URL, "text/html", selector)


def test_matches_inside_matches_are_read_once_however_deep() -> None:
    """Each element's HTML once: a selector matching every one of many nested
    elements would otherwise give the innermost text as many times."""
    depth = 200
    page = (
        b"<html><body>"
        + b"".join(b'<div class="x"><p>Level %d.</p>' % n for n in range(depth))
        + b"</div>" * depth
        + b"</body></html>"
    )
    article = extract_article(page, URL, "text/html", ".x")
    assert article.count("Level 199.") == 1 and article.count("Level 0.") == 1


def test_a_long_article_in_heavy_markup_is_read_whole() -> None:
    """The sanitizer reads MAX_HTML_CHARS of an article: a site's classes and
    data attributes, which it would drop, are dropped first, so that they do
    not push the article's end past it."""
    from aggregator.parse.normalize import MAX_HTML_CHARS

    noise = f'class="{"c" * 150}" data-track="{"t" * 150}" style="margin: 0"'
    paragraphs = "".join(f"<p {noise}>Paragraph {n} of the story.</p>" for n in range(400))
    page = f"<html><body><div class='body'>{paragraphs}</div></body></html>".encode()
    assert len(page) > 1.2 * MAX_HTML_CHARS
    article = extract_article(page, URL, "text/html", ".body")
    assert "Paragraph 399 of the story." in article
    assert "class=" not in article and "data-track" not in article and "margin" not in article


@pytest.mark.parametrize(
    ("selector", "problem"),
    [
        ("article .post-body, .byline", None),
        ("main > p:nth-of-type(2), h2 + p, [data-role='body'], div:not(.ad)", None),
        ("div[", "not a CSS selector: "),
        ("p::text", "not a CSS selector: Pseudo-elements are not supported."),
        ("article >> p", "not a CSS selector: "),
        (":nosuch(1)", "not a CSS selector: "),
    ],
)
def test_a_selector_is_checked_as_lxml_will_run_it(selector: str, problem: str | None) -> None:
    found = selector_problem(selector)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem) and "\n" not in found


@pytest.fixture
def without_cssselect(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """As where the fulltext extra is not installed: lxml.cssselect cannot be imported."""
    selector_module._compiled.cache_clear()
    monkeypatch.setitem(sys.modules, "lxml.cssselect", None)
    yield
    selector_module._compiled.cache_clear()


@pytest.mark.usefixtures("without_cssselect")
def test_without_cssselect_the_configuration_loads_and_each_page_says_what_to_install() -> None:
    assert selector_problem("div[") is None  # cannot be checked, nor used
    page = (DATA / "fulltext" / "multiple-matches.html").read_bytes()
    with pytest.raises(NoArticle) as why:
        extract_article(page, URL, "text/html", "article .post-body")
    assert str(why.value) == CSSSELECT_INSTALL_HINT
    # Without a selector, the page is trafilatura's as before.
    assert "What next" in extract_article(page, URL, "text/html")
