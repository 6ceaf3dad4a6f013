"""JSON Feed 1.0 and 1.1 (https://jsonfeed.org/version/1.1) -> :class:`ParsedFeed`.

feedparser 6 reads only XML feeds, so JSON Feed has this small reader of its own.
Fields of the wrong type are ignored rather than trusted.
"""

from __future__ import annotations

import json
import re
from html import escape
from typing import Any

from ..errors import NotAFeed, ParseError
from ..models import Document, ParsedFeed, ParsedItem
from .normalize import (
    enclosures,
    http_url,
    image_url,
    limit_note,
    normalize_language,
    plain_text,
    sanitize_html,
    undated_note,
    utc_from_text,
)

_VERSION_PREFIX = "https://jsonfeed.org/version/"
# A \uD800-\uDFFF escape: JSON allows it alone, but the string it makes is
# not text (nothing can encode it), so such strings are repaired.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def looks_like_json(document: Document) -> bool:
    """JSON by its first character; by the content type (a file's name, for
    a file, which has none) only when that says nothing.

    Servers label feeds wrongly both ways, so the bytes decide where they can.
    """
    first = document.body[:1024].removeprefix(b"\xef\xbb\xbf").lstrip()[:1]
    if first in (b"{", b"["):
        return True
    if first == b"<":
        return False
    if document.content_type is None:
        return document.location.lower().endswith(".json")
    return "json" in document.content_type.lower()


def parse_json_feed(document: Document, source: str, max_items: int | None = None) -> ParsedFeed:
    """The JSON Feed in ``document``; of its items, only the first ``max_items`` are read."""
    try:
        data = json.loads(document.body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise ParseError(source, f"JSON Feed is not UTF-8: {exc}") from None
    except RecursionError:
        # json gives up at the interpreter's recursion limit (about a
        # thousand levels), before it has built anything large.
        raise ParseError(source, "refused: JSON nested too deep to read") from None
    except json.JSONDecodeError as exc:
        # Where, not json's "(char N)" too: one short line, none of the bytes.
        where = f"{exc.msg}: line {exc.lineno} column {exc.colno}"
        raise ParseError(source, f"not valid JSON: {where}") from None
    except ValueError as exc:  # a 5000-digit number
        raise ParseError(source, f"not valid JSON: {exc}") from None
    repaired = _SURROGATE_ESCAPE.search(document.body) is not None and _repair_surrogates(data)
    if not isinstance(data, dict):
        kind = "an array" if isinstance(data, list) else "a single value"
        raise NotAFeed(source, f"JSON document is not a JSON Feed ({kind}, not an object)")
    if not str(data.get("version", "")).startswith(_VERSION_PREFIX):
        raise NotAFeed(source, "JSON document is not a JSON Feed (no jsonfeed.org version)")
    items = data.get("items")
    if not isinstance(items, list):
        raise ParseError(source, "JSON Feed has no 'items' list")
    base = document.location
    feed_url = _string(data, "feed_url")
    site = http_url(_string(data, "home_page_url"), base)
    language = normalize_language(_string(data, "language"))
    feed_author = _author(data)
    read = [
        _item(item, base, language, feed_author)
        for item in items[:max_items]
        if isinstance(item, dict)
    ]
    parsed = tuple(item for item, _dropped, _bad_date in read)
    warnings = []
    dropped = sum(dropped for _item, dropped, _bad_date in read)
    if dropped:
        warnings.append(f"{dropped} attachments dropped (not an http(s) URL, or too many)")
    undated = [bad_date for _item, _dropped, bad_date in read if bad_date is not None]
    if undated:
        warnings.append(undated_note(len(undated), *undated[0]))
    if max_items is not None and len(items) > max_items:
        warnings.append(limit_note(max_items, len(items)))
    if repaired:
        warnings.append("unpaired UTF-16 surrogates replaced by U+FFFD")
    return ParsedFeed(
        title=plain_text(_string(data, "title") or "") or None,
        link=site or http_url(feed_url, base),
        language=language,
        items=parsed,
        warning="; ".join(warnings) or None,
    )


def _repair_surrogates(data: object) -> bool:
    """Replace every lone surrogate in ``data``'s strings (keys too) by U+FFFD,
    in place; whether there was any.  Iterative: the document may be deep."""
    found = False

    def fixed(text: str) -> str:
        nonlocal found
        if _LONE_SURROGATE.search(text) is None:
            return text
        found = True
        return _LONE_SURROGATE.sub("\ufffd", text)

    pending = [data]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            for key in list(node):
                value = node.pop(key)
                node[fixed(key) if isinstance(key, str) else key] = (
                    fixed(value) if isinstance(value, str) else value
                )
                if isinstance(value, dict | list):
                    pending.append(value)
        elif isinstance(node, list):
            for index, value in enumerate(node):
                if isinstance(value, str):
                    node[index] = fixed(value)
                elif isinstance(value, dict | list):
                    pending.append(value)
    return found


def _item(
    item: dict[str, Any], base: str, language: str | None, feed_author: str | None
) -> tuple[ParsedItem, int, tuple[str, str] | None]:
    """The item, how many of its attachments were dropped, and (the item,
    its date) when a date it gave is left out: impossible or unreadable."""
    link = http_url(_string(item, "url") or _string(item, "external_url"), base)
    content = _string(item, "content_html")
    if content is None:
        text = _string(item, "content_text") or _string(item, "summary") or ""
        content = "".join(f"<p>{escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
    raw_id = item.get("id")
    entry_id = str(raw_id).strip() if isinstance(raw_id, str | int) else None
    attachments = item.get("attachments")
    candidates = [
        (attachment.get("url"), attachment.get("mime_type"), attachment.get("size_in_bytes"))
        for attachment in (attachments if isinstance(attachments, list) else [])
        if isinstance(attachment, dict)
    ]
    attached, dropped = enclosures(candidates, link or base)
    title = plain_text(_string(item, "title") or "")
    published_text = _string(item, "date_published")
    updated_text = _string(item, "date_modified")
    published = utc_from_text(published_text)
    updated = utc_from_text(updated_text)
    bad = (published_text if published is None else None) or (
        updated_text if updated is None else None
    )
    parsed = ParsedItem(
        entry_id=entry_id or None,
        title=title,
        link=link,
        published=published,
        updated=updated,
        content_html=sanitize_html(content, link or base),
        author=_author(item) or feed_author,
        language=normalize_language(_string(item, "language")) or language,
        categories=_tags(item),
        enclosures=attached,
        image=image_url(_string(item, "image") or _string(item, "banner_image"), link or base),
    )
    name = title or entry_id or link or "an item without title"
    return parsed, dropped, ((name, bad) if bad else None)


def _tags(item: dict[str, Any]) -> tuple[str, ...]:
    """The item's ``tags``, for filter rules: a few strings, each short."""
    tags = item.get("tags")
    if not isinstance(tags, list):
        return ()
    names = [plain_text(tag)[:200] for tag in tags[:32] if isinstance(tag, str) and tag.strip()]
    return tuple(dict.fromkeys(names))


def _string(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) and value.strip() else None


def _author(data: dict[str, Any]) -> str | None:
    """The first author's name, as plain text (like every other name and title)."""
    name = None
    authors = data.get("authors")
    if isinstance(authors, list) and authors and isinstance(authors[0], dict):
        name = _string(authors[0], "name")
    author = data.get("author")
    if name is None and isinstance(author, dict):
        name = _string(author, "name")
    return (plain_text(name) or None) if name is not None else None
