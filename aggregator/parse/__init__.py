"""Parse a source's documents: feeds (RSS, Atom, JSON Feed) and local articles.

:func:`parse_fetched` is pure (bytes in, records out) and picklable, so the
pipeline can run it in a worker process.  It never raises anything but
:class:`~aggregator.errors.ParseError` for bad input.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ParseError
from ..fetch.local import ARTICLE_SUFFIXES
from ..models import Document, Fetched, ParsedFeed, ParsedItem
from .article import parse_article, text_to_html
from .feed import parse_feed
from .jsonfeed import looks_like_json, parse_json_feed

__all__ = ["parse_document", "parse_fetched", "text_to_html"]

_HTML_START = (b"<!doctype html", b"<html")


def parse_document(document: Document, source: str, *, local: bool) -> ParsedFeed:
    """One document -> a feed; a local article file is a feed of one item."""
    if local and Path(document.location).suffix.lower() in ARTICLE_SUFFIXES:
        return ParsedFeed(
            title=None, link=None, language=None, items=(parse_article(document, source),)
        )
    if looks_like_json(document):
        return parse_json_feed(document, source)
    head = document.body.lstrip()[:200].lower()
    if head.startswith(_HTML_START):
        raise ParseError(source, "got an HTML page, not a feed")
    return parse_feed(document, source)


def parse_fetched(fetched: Fetched, *, local: bool) -> ParsedFeed:
    """All documents of a source merged into one feed, in document order.

    For a glob of files, a file that cannot be read is an error for the whole
    source: better one clear error than a silently shrinking feed.
    """
    feeds = [parse_document(doc, fetched.source, local=local) for doc in fetched.documents]
    if len(feeds) == 1:
        return feeds[0]
    items: list[ParsedItem] = []
    for feed in feeds:
        items.extend(feed.items)
    first = next((f for f in feeds if f.title), None)
    warnings = [f.warning for f in feeds if f.warning]
    return ParsedFeed(
        title=first.title if first else None,
        link=first.link if first else None,
        language=first.language if first else None,
        items=tuple(items),
        warning="; ".join(warnings) or None,
    )
