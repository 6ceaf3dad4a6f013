"""An article page's main content, as sanitized HTML with its own headings.

trafilatura is imported here only, and only when a page is extracted: it
takes about a third of a second to import, which a pass without
``full_text`` sources does not pay.  It is an optional extra
(``pip install 'aggregator[fulltext]'``); without it each page's reason says so.

Chosen by measurement (benchmarks/full_text.py, on the 181 pages of
scrapinghub's article-extraction-benchmark): against readability-lxml it has
the same token F1 (0.956 and 0.960), keeps more of the article's own
headings (333 and 297 that are in the ground truth), and takes less CPU
(26 and 32 ms a page).

A source with ``full_text_selector`` has its article picked by that CSS
selector (:mod:`aggregator.article_selector`) instead, from the same parse, within the same
limits, and handed on as trafilatura's is: sanitized, its leading title
dropped.
"""

from __future__ import annotations

import re
from itertools import islice

from ..article_selector import CSSSELECT_INSTALL_HINT, selected_html
from ..page_base import page_base
from ..parse.normalize import plain_text, sanitize_html

# What a page may be to be read as HTML; a missing type is left to the extractor.
_HTML_TYPES = ("text/html", "application/xhtml+xml")
# The page's own title as its first heading: the entry already shows the
# title, and as a heading of its own it would make a section of nothing.
# It may be inside the elements it opens the text of (what a selector
# matches is an element, such as <article><h1>...), which are kept.
_LEADING_H1 = re.compile(
    r"^(\s*(?:<[a-z][a-z0-9]*(?:\s[^<>]*)?>\s*)*)<h1>.*?</h1>", re.DOTALL | re.IGNORECASE
)
INSTALL_HINT = "full text needs trafilatura: pip install 'aggregator[fulltext]'"
# A page with more elements than this is refused before extraction, whose
# time grows with the square of them: flat runs of 10,000 tiny paragraphs
# took 2.4 s here, 20,000 took 6 to 8 s, 40,000 (a 400 KB page) 26 s, and a
# million (10 MB) ran past 15 minutes and 1.3 GB.  Article pages are far
# smaller: the 181 pages of scrapinghub's article-extraction-benchmark have
# 785 elements at the median and 1,709 at most; the bound leaves room for
# long ones (references, comments, inline icons) and stops a hostile page
# at seconds.
MAX_PAGE_ELEMENTS = 25_000


class NoArticle(Exception):
    """The page gives no article; ``str()`` is why, in one line."""


def not_html(content_type: str | None) -> str | None:
    """Why a response of this Content-Type is not read as a page; None when it is."""
    if not content_type:
        return None
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in _HTML_TYPES:
        return None
    return f"not an HTML page ({media_type})"


def extract_article(
    body: bytes, url: str, content_type: str | None, selector: str | None = None
) -> str:
    """The main content of the page at ``url`` (where it was found, after
    redirects): sanitized HTML, headings kept, its links and images absolute
    against the page's ``<base href>`` or else ``url``
    (:func:`aggregator.page_base.page_base`); with a ``selector``, the elements it
    matches, else what trafilatura finds.  Raises :class:`NoArticle` with the
    reason when it is not an HTML page or has no main text (or nothing the
    selector matches)."""
    problem = not_html(content_type)
    if problem is not None:
        raise NoArticle(problem)
    try:
        import trafilatura
    except ImportError:
        raise NoArticle(INSTALL_HINT) from None
    # Bytes, not text: trafilatura reads the page's own charset declaration.
    # Parsed here, once, to count the elements before anything slow is done.
    tree = trafilatura.load_html(body)
    if tree is None:
        raise NoArticle("no main text found on the page")
    if next(islice(tree.iter(), MAX_PAGE_ELEMENTS, None), None) is not None:
        raise NoArticle(f"the page has more than {MAX_PAGE_ELEMENTS:,} elements")
    # Every <base> of the page, in document order, wherever the parser put
    # it: the first with an href counts, in <head> or not, as in a browser.
    base = page_base(url, (element.get("href") for element in tree.iter("base")))
    extracted: str | None
    if selector is not None:
        try:
            parts = selected_html(tree, selector)
        except ImportError:  # lxml.cssselect, without cssselect
            raise NoArticle(CSSSELECT_INSTALL_HINT) from None
        except ValueError as why:
            raise NoArticle(str(why)) from None
        if not parts:
            # No article, as where trafilatura finds none; its guess is not
            # taken instead.  The selector was written because that guess is
            # wrong for the site: published where the selector found nothing
            # (a page of another kind, a redesign), it would pass for the
            # article, and a selector gone stale would never be seen.  So
            # aggregate status names each such page and the item keeps the
            # feed's text, as with Miniflux's scraper rules.
            raise NoArticle("no element on the page matches full_text_selector")
        extracted = "\n".join(parts)
    else:
        extracted = trafilatura.extract(
            tree,
            # What it resolves links and images against when asked to keep
            # them (include_links, include_images; both off, so its article
            # has none): the sanitizer's base, so that turning them on would
            # not bring back the page's own URL.
            url=base,
            output_format="html",
            include_formatting=True,  # headings, lists, emphasis: sections need the headings
            include_comments=False,  # readers' comments are not the article
            include_tables=True,
        )
    if not extracted:
        raise NoArticle("no main text found on the page")
    article = _LEADING_H1.sub(r"\1", sanitize_html(extracted, base), count=1).strip()
    if not article:
        raise NoArticle("no main text found on the page")
    if selector is not None and not plain_text(article) and "<img" not in article:
        # Elements emptied by the sanitizer (a script's mount point): an
        # empty article would replace the feed's text.  An image alone (a
        # comic) is an article.
        raise NoArticle("what full_text_selector matches on the page has no text")
    return article
