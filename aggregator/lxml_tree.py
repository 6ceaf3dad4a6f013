"""lxml, imported here only: the element trees that the package reads.

    parse_xml(body) -> root element, or XMLSyntaxError     a feed (parse/wellformed.py)
    local_name(element), child_elements(element)
    compile_css(selector) -> (XPath, its text)              full_text_selector (article_selector.py)
    elements(tree), drop_unseen(element, tags), html_of(element)

A tree is lxml's whichever parser made it: :func:`parse_xml` for a feed,
trafilatura's (lxml.html) for an article page.  Its elements are handed on
as they are, and their own methods (``.get``, ``.text``, ``.iter``...) are
read where they are used; what takes lxml's module is here.  cssselect
(part of the ``fulltext`` extra) is imported, through ``lxml.cssselect``,
only when a selector is compiled.

On the package's bottom floor, so that both readers can import it: the
configuration checks a ``full_text_selector`` through
:mod:`.article_selector` and must not import the parse layer.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from lxml import etree

__all__ = [
    "Element",
    "XMLSyntaxError",
    "XPath",
    "child_elements",
    "compile_css",
    "drop_unseen",
    "elements",
    "html_of",
    "local_name",
    "parse_xml",
]

Element = etree._Element  # an element of a tree, as lxml makes it (lxml.html's too)
XPath = etree.XPath  # a compiled XPath expression: XPath(tree) -> what it selects
XMLSyntaxError = etree.XMLSyntaxError


def parse_xml(body: bytes) -> Element:
    """The root element of the XML document ``body``; raises
    :class:`XMLSyntaxError` (its message lxml's) when lxml cannot read it.

    Nothing is fetched or expanded: no network, no external DTD, no entity
    but the predefined ones resolved, no ID table; and libxml2's default
    limits on depth and text length stand (no ``huge_tree``)."""
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        collect_ids=False,
    )
    return etree.fromstring(body, parser)


def local_name(element: Element) -> str:
    """``element``'s name without its namespace."""
    return etree.QName(element).localname


def child_elements(element: Element) -> Iterator[Element]:
    """``element``'s children that are elements: comments and processing
    instructions are passed over (in C)."""
    return element.iterchildren(etree.Element)


def compile_css(selector: str) -> tuple[XPath, str]:
    """``selector`` as lxml runs it, and the XPath it became.  Raises ValueError
    saying why it is not a selector, ImportError when cssselect is not
    installed."""
    from lxml.cssselect import LxmlHTMLTranslator, SelectorError

    try:
        # What lxml's CSSSelector(selector, translator="html") runs: element
        # names in any case, as a browser matches them.
        path = str(LxmlHTMLTranslator().css_to_xpath(selector))
        select = etree.XPath(path)
    except (SelectorError, etree.XPathError) as exc:
        raise ValueError(f"not a CSS selector: {' '.join(str(exc).split())}") from None
    return select, path


def elements(tree: Element) -> Iterator[Element]:
    """``tree`` and every element inside it, in document order: no comment or
    processing instruction."""
    return tree.iter(tag=etree.Element)


def drop_unseen(element: Element, tags: Sequence[str]) -> None:
    """The elements named ``tags`` inside ``element`` removed with all they
    hold, and its comments; the text that follows each stays."""
    etree.strip_elements(element, *tags, etree.Comment, with_tail=False)


def html_of(element: Element) -> str:
    """``element`` written as HTML, without the text that follows it."""
    return etree.tostring(element, method="html", encoding="unicode", with_tail=False)
