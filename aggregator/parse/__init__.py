"""Parse a source's documents: feeds (RSS, Atom, JSON Feed) and local articles.

:func:`parse_fetched` is pure (bytes in, records out) and picklable, so the
pipeline can run it in a worker process.  It never raises anything but
:class:`~aggregator.errors.ParseError` for bad input (its
:class:`~aggregator.errors.NotAFeed` when the bytes are another kind of
document, such as an HTML page).

What a feed says about its own entries is tidied the same way whatever the
format: an entry with neither title, link nor content is dropped, and an id
the feed repeats names only its first entry (the others are told apart by
their links or content, so no entry overwrites another).  A feed document
gives at most ``max_items`` entries, the first ones (feeds list newest first),
so one feed of 20,000 entries cannot take over a pass, and every entry's
title, author, link and id is bounded (:func:`.normalize.bound_fields`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..errors import NotAFeed, ParseError
from ..fetch.local import ARTICLE_SUFFIXES
from ..models import Document, EntryDigests, Fetched, ParsedFeed, ParsedItem
from .article import parse_article, text_to_html
from .feed import parse_feed
from .jsonfeed import looks_like_json, parse_json_feed
from .normalize import bound_fields

__all__ = ["parse_document", "parse_fetched", "text_to_html"]

_HTML_START = (b"<!doctype html", b"<html")
DEFAULT_MAX_ITEMS = 1000  # FetchConfig.max_items; the adapters read no more entries


def parse_document(
    document: Document,
    source: str,
    *,
    local: bool,
    max_items: int = DEFAULT_MAX_ITEMS,
    known: EntryDigests | None = None,
    context: Sequence[str] = (),
) -> ParsedFeed:
    """One document -> a feed; a local article file is a feed of one item.

    ``known`` and ``context``: see :func:`.feed.parse_feed` (RSS and Atom only).
    """
    if local and Path(document.location).suffix.lower() in ARTICLE_SUFFIXES:
        return bound_fields(
            ParsedFeed(
                title=None, link=None, language=None, items=(parse_article(document, source),)
            )
        )
    if looks_like_json(document):
        return tidy(bound_fields(parse_json_feed(document, source, max_items)))
    head = document.body.lstrip()[:200].lower()
    if head.startswith(_HTML_START):
        raise NotAFeed(source, "got an HTML page, not a feed")
    return tidy(bound_fields(parse_feed(document, source, max_items, known, context)))


def parse_fetched(
    fetched: Fetched,
    *,
    local: bool,
    max_items: int = DEFAULT_MAX_ITEMS,
    known: EntryDigests | None = None,
    context: Sequence[str] = (),
) -> ParsedFeed:
    """All documents of a source merged into one feed, in document order.

    For a directory or glob of files, a file that cannot be read as an
    article or feed (a binary file dropped among the articles) is left out
    with the source's warning naming it, not the error of the whole source:
    the other files are as readable as before.  Only when none can be read
    is it the source's error (the first file's).  ``max_items`` bounds each
    feed document, not a directory of articles.  Only a source of one
    document skips the entries it had last time (``known``, see
    :func:`.feed.parse_feed`).
    """
    if len(fetched.documents) == 1:
        document = fetched.documents[0]
        return parse_document(
            document, fetched.source, local=local, max_items=max_items, known=known, context=context
        )
    feeds: list[ParsedFeed] = []
    unreadable: list[str] = []  # why, each naming its file
    for document in fetched.documents:
        try:
            feeds.append(parse_document(document, fetched.source, local=local, max_items=max_items))
        except ParseError as error:
            name = Path(document.location).name
            why = error.message
            unreadable.append(why if why.startswith(f"{name}:") else f"{name}: {why}")
    if unreadable:
        shown = "; ".join(unreadable[:_UNREADABLE_SHOWN])
        more = len(unreadable) - _UNREADABLE_SHOWN
        shown += f"; and {more} more" if more > 0 else ""
        if not feeds:
            raise ParseError(fetched.source, f"none of its {len(unreadable)} files reads: {shown}")
        note = f"{len(unreadable)} of {len(fetched.documents)} files left out: {shown}"
        merged = _merge(feeds)
        return tidy(replace(merged, warning="; ".join(filter(None, [merged.warning, note]))))
    return tidy(_merge(feeds))


# Unreadable files of a directory source named in its warning, at most.
_UNREADABLE_SHOWN = 3


def _merge(feeds: list[ParsedFeed]) -> ParsedFeed:
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


def tidy(feed: ParsedFeed) -> ParsedFeed:
    """Drop empty entries and exact repeats; unbind an id from all but its first entry."""
    items: list[ParsedItem] = []
    seen_ids: set[str] = set()
    seen_items: set[ParsedItem] = set()
    empty = repeated = unbound = 0
    for item in feed.items:
        if not (item.title or item.link or item.content_html):
            empty += 1
            continue
        if item in seen_items:
            repeated += 1
            continue
        seen_items.add(item)
        entry_id = item.entry_id
        if entry_id is not None and entry_id in seen_ids:
            unbound += 1
            item = replace(item, entry_id=None)
        elif entry_id is not None:
            seen_ids.add(entry_id)
        items.append(item)
    notes = [feed.warning] if feed.warning else []
    if empty:
        notes.append(f"{empty} entries without title, link or content dropped")
    if repeated:
        notes.append(f"{repeated} repeated entries dropped")
    if unbound:
        notes.append(f"{unbound} entries repeat another entry's id")
    if len(items) == len(feed.items) and not unbound:
        return feed
    return replace(feed, items=tuple(items), warning="; ".join(notes) or None)
