"""``full_text_selector``: a page's article is the elements a CSS selector picks.

What Miniflux calls scraper rules: for a site whose article the extractor
(:mod:`aggregator.fulltext.extract`, trafilatura) does not find, the source names it, such as
``article .post-body, .byline``, and the article is the HTML of every
element the selector matches, in document order.

    selector_problem(text)        why the text is not a selector (the configuration's check)
    selected_html(tree, text)     the matched elements' HTML, in document order (extract.py's)

cssselect (part of the ``fulltext`` extra, like trafilatura) is imported
(by :mod:`.lxml_tree`, through ``lxml.cssselect``) only when a selector is
checked or used, and so is this module: neither the configuration of a
source without one nor a pass pays for the import.  The HTML given back is
not sanitized: extract.py sanitizes it as it does trafilatura's.

Pure (a parsed page in, HTML out), and near the package's bottom floor
beside the other pure policies (:mod:`.addresses`, :mod:`.redact`), with
only :mod:`.lxml_tree` beneath it: the configuration checks each selector
with it when the file is read, and the configuration does not import the
full-text stage that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .lxml_tree import Element, XPath, compile_css, drop_unseen, elements, html_of

CSSSELECT_INSTALL_HINT = "full_text_selector needs cssselect: pip install 'aggregator[fulltext]'"
# Elements whose text no reader of the page sees (fallback text for readers
# without JavaScript, inert templates): dropped from what is matched.  nh3
# would keep their text; scripts and styles it drops, text and all.
_UNSEEN = ("noscript", "template")
# Attributes that most of a page's markup is made of and that the sanitizer
# drops anyway, dropped before it sees them: it reads at most MAX_HTML_CHARS
# of an article, and a site's classes, styles and data can be several times
# its text, where trafilatura's output is lean.  What the sanitizer keeps is
# left to it.
_BULKY = frozenset({"class", "id", "style", "srcset", "sizes", "role"})
_BULKY_PREFIXES = ("data-", "aria-", "on", "item")
# A selector that looks at an element's siblings (``h2 + p``, ``h2 ~ p``,
# :first-child, :nth-of-type() ...) is run by libxml2 in steps that grow
# with the square of the children of one element, or faster: on a page of
# MAX_PAGE_ELEMENTS paragraphs side by side, ``p + p`` took 100 s here and
# ``p ~ p`` more than the workers' JOB_SECONDS (1.3 s at 2,000 siblings,
# 21 s at 5,000, 169 s at 10,000).  Such a selector is run on a page only
# while the squares of its elements' child counts add up to at most this:
# one element of 2,000 children, or a page of 2,000 elements however they
# are laid out (the article pages of scrapinghub's benchmark have 1,709 at
# most).  Selectors without sibling tests run in linear time, within the
# page's element cap.
MAX_SIBLING_WORK = 2_000**2
TOO_WIDE = "the page has too many elements side by side for full_text_selector's sibling tests"


@dataclass(frozen=True, slots=True)
class _Compiled:
    select: XPath
    compares_siblings: bool  # see MAX_SIBLING_WORK


def selector_problem(selector: str) -> str | None:
    """Why ``selector`` is not a CSS selector that can pick a page's article;
    None when it is.

    None too when cssselect is not installed: it cannot be checked, but
    neither can it be used, and each page of the source then gives
    :data:`CSSSELECT_INSTALL_HINT` as its reason, as a page of a
    ``full_text`` source without trafilatura does.  The configuration stays
    usable for every other command; the selector is checked when the file is
    read with cssselect installed."""
    try:
        _compiled(selector)
    except ValueError as error:
        return str(error)
    except ImportError:
        return None
    return None


def selected_html(tree: Element, selector: str) -> list[str]:
    """The HTML of each element of ``tree`` that ``selector`` matches, in
    document order; an element inside one given already is left out (its HTML
    is in that one's).  Empty when none matches.

    Raises ValueError saying why the page cannot be read with ``selector``
    (it is not a selector, which the configuration refuses; the page is too
    wide for its sibling tests), ImportError when cssselect is not installed."""
    compiled = _compiled(selector)
    if compiled.compares_siblings and sibling_work(tree) > MAX_SIBLING_WORK:
        raise ValueError(TOO_WIDE)
    # Inside a match: marked as each match is taken, so that every element
    # is visited once however the matches nest (a selector like "div" on
    # thousands of nested divs would otherwise serialize each one's inside
    # again, and the page's text many times over).
    inside: set[Element] = set()
    parts = []
    matches = compiled.select(tree)  # in document order: an XPath node set
    for element in matches if isinstance(matches, list) else ():
        if not isinstance(element, Element) or element in inside:
            continue
        inside.update(element.iter())
        drop_unseen(element, _UNSEEN)
        for node in elements(element):
            for name in [name for name in node.attrib if _bulky(str(name))]:
                del node.attrib[name]
        parts.append(html_of(element))
    return parts


def sibling_work(tree: Element) -> int:
    """The squares of the child counts of ``tree``'s elements, added up."""
    return sum(len(element) ** 2 for element in tree.iter())


def _bulky(attribute: str) -> bool:
    name = attribute.lower()
    return name in _BULKY or name.startswith(_BULKY_PREFIXES)


@lru_cache(maxsize=64)
def _compiled(selector: str) -> _Compiled:
    """``selector`` as lxml runs it, made once per process (a worker
    extracts many pages of one source).  Raises ValueError saying why it is
    not a selector, ImportError when cssselect is not installed."""
    select, path = compile_css(selector)
    return _Compiled(select, "-sibling::" in path)
