"""An article page's main content: the trafilatura adapter."""

from __future__ import annotations

import pytest

from aggregator.fulltext.extract import NoArticle, extract_article, not_html

PAGE = (
    "<html><head><meta charset='windows-1252'><title>Pier</title></head><body>"
    "<nav><a href='/'>Home</a> <a href='/sport'>Sport</a></nav>"
    "<article><h1>The pier is rebuilt</h1>"
    "<p>The harbour council voted on Tuesday to rebuild the old pier at last.</p>"
    "<h2>Background</h2><p>Engineers had warned for years that the piles were rotting "
    "<a href='/reports/piles'>in a report</a> and in the caf\xe9 talk.</p>"
    "<script>alert('x')</script>"
    "<h2>What next</h2><p>Work starts in the spring and lasts two summers, the council says.</p>"
    "</article><footer>Copyright Harbour News</footer></body></html>"
).encode("windows-1252")


def test_the_article_keeps_its_headings_and_loses_the_page_around_it() -> None:
    article = extract_article(PAGE, "https://news.example/pier", "text/html")
    assert "<h2>Background</h2>" in article and "<h2>What next</h2>" in article
    assert "The harbour council voted" in article
    assert "café" in article  # the page's own charset
    assert "Copyright" not in article and "Sport" not in article
    assert "<script" not in article and "alert" not in article
    assert "<h1>" not in article  # the page's title is the entry's title already


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"<html><body></body></html>", "text/html", "no main text"),
        (b"%PDF-1.7 ...", "application/pdf", "not an HTML page (application/pdf)"),
        (b"{}", "application/json; charset=utf-8", "not an HTML page (application/json)"),
    ],
)
def test_a_page_without_an_article_says_why(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(NoArticle, match=reason.replace("(", r"\(").replace(")", r"\)")):
        extract_article(body, "https://news.example/x", content_type)


def test_html_types() -> None:
    assert not_html("text/html; charset=utf-8") is None
    assert not_html("application/xhtml+xml") is None
    assert not_html(None) is None
    assert not_html("image/png") == "not an HTML page (image/png)"


def test_a_page_of_too_many_elements_is_refused_before_extraction() -> None:
    """Extraction time grows with the square of the elements: a page of
    tiny paragraphs is refused by their count, one under it is read."""
    from aggregator.fulltext.extract import MAX_PAGE_ELEMENTS

    def page(paragraphs: int) -> bytes:
        # html, body and article are three elements more.
        return (
            b"<html><body><article>" + b"<p>A b c.</p>" * paragraphs + b"</article></body></html>"
        )

    with pytest.raises(NoArticle, match=f"more than {MAX_PAGE_ELEMENTS:,} elements"):
        extract_article(page(MAX_PAGE_ELEMENTS - 2), "https://news.example/a", "text/html")
    assert "A b c." in extract_article(page(200), "https://news.example/a", "text/html")
