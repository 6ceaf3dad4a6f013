"""The merged feed as Atom, RSS 2.0 and JSON Feed 1.1 bytes.

feedgen is imported here only.  It covers Atom and RSS; JSON Feed, which it
does not know, is written with the json module.  What feedgen gets wrong for
us, and what this module does about it:

* It stamps ``datetime.now()`` into the feed's ``<updated>``/``<lastBuildDate>``
  and into every entry's ``<updated>``: both are always set here, the feed's
  to the date the caller gives (when its entries last changed) or else the
  newest entry's ``updated`` (or :data:`~aggregator.publish.layout.EPOCH`).
* Its default ``<generator>`` carries feedgen's version and URI: replaced by
  ``meta.generator`` alone.
* ``add_entry()`` prepends by default, reversing the order: entries are
  appended.
* In RSS the channel ``<link>`` is the href of the *last* ``link()`` call and
  the ``atom:link rel="self"`` is the first link with rel "self": the self
  link is added first, the alternate (the site) last.
* Its Atom ``<source>`` holds only a title and a rel-less link (which means
  "alternate", i.e. a web page); the Atom generator never calls
  ``FeedEntry.source()`` and writes ``<source>`` itself, with the id,
  title and updated the W3C validator asks for, and a ``rel="self"`` link to
  the origin feed.  RSS keeps feedgen's
  ``<source url=...>``, which is right there.
* It writes an entry author into RSS only when there is an e-mail address;
  RSS items name their author with ``dc:creator`` instead.
* Its Atom entry links lose every attribute but href (a loop variable is
  shadowed by the new element in ``FeedEntry.atom_entry``), so a related link
  would read as a second alternate: Atom entry links are written here too,
  and ``FeedEntry.link()`` is only called for RSS.
* It has no per-entry language: Atom entries get ``xml:lang`` afterwards.

A source's feed URL is published in its public form (:func:`~aggregator.redact.redact_url`):
the configured one may carry a password or a token.

Rendering does no I/O and reads no clock: the same input gives the same bytes.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Sequence
from datetime import datetime
from html import escape
from typing import Any

from feedgen.feed import FeedGenerator

from aggregator import outputs
from aggregator.models import Enclosure, Entry, FeedMeta
from aggregator.publish.content import entry_content_html
from aggregator.publish.layout import (
    ATOM_FILE,
    JSON_FILE,
    RSS_FILE,
    as_utc,
    base_directory,
    feed_updated,
    public_url,
)
from aggregator.redact import redact_url

JSON_FEED_VERSION = "https://jsonfeed.org/version/1.1"
ATOM_TYPE = outputs.ATOM.media_type
RSS_TYPE = outputs.RSS.media_type

_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_ATOM_NS = "http://www.w3.org/2005/Atom"
# Characters XML 1.0 forbids; lxml refuses them outright, failing the whole feed.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# feedgen refuses an entry without a title; an empty one is data, not a bug.
_NO_TITLE = "(untitled)"
# The type of an enclosure that did not say its own, where one is required.
_UNKNOWN_TYPE = "application/octet-stream"
# Ids of sources without a URL: uuid5(namespace, source name), stable everywhere.
_SOURCE_NAMESPACE = uuid.UUID("2b0c7f3e-5d7a-4f0e-8f61-93c4a1d2e5b7")


def render_atom(
    entries: Sequence[Entry],
    meta: FeedMeta,
    *,
    self_path: str = ATOM_FILE,
    title: str | None = None,
    updated: datetime | None = None,
) -> bytes:
    """An Atom 1.0 document of ``entries`` in the order given (the caller sorts).

    ``updated`` is the feed's own date; None (or anything older) means the
    newest entry's (see :func:`~aggregator.publish.layout.feed_updated`).
    """
    generator = _feed(
        entries, meta, self_path=self_path, self_type=ATOM_TYPE, title=title, updated=updated
    )
    # _create_atom is feedgen's own step before serializing (atom_str calls it);
    # it is the only way to reach the tree without re-parsing the output.
    root, document = generator._create_atom()
    for element, entry in zip(root.iterfind("entry"), entries, strict=True):
        _finish_atom_entry(element, entry)
    buffer = io.BytesIO()
    document.write(buffer, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    return bytes(buffer.getvalue())


def render_rss(
    entries: Sequence[Entry],
    meta: FeedMeta,
    *,
    self_path: str = RSS_FILE,
    title: str | None = None,
    updated: datetime | None = None,
) -> bytes:
    """An RSS 2.0 document of ``entries`` in the order given (the caller sorts);
    ``updated`` is its ``lastBuildDate``, as in :func:`render_atom`."""
    generator = _feed(
        entries, meta, self_path=self_path, self_type=RSS_TYPE, title=title, updated=updated
    )
    root, document = generator._create_rss()  # as in render_atom
    if meta.hubs:
        _add_rss_hubs(root, meta.hubs)
    buffer = io.BytesIO()
    document.write(buffer, pretty_print=True, encoding="UTF-8", xml_declaration=True)
    return bytes(buffer.getvalue())


def _add_rss_hubs(root: Any, hubs: Sequence[str]) -> None:
    """An ``atom:link rel="hub"`` per hub after the channel's self link, which
    is all feedgen writes of the channel's Atom links in RSS."""
    channel = root.find("channel")
    self_link = channel.find(f"{{{_ATOM_NS}}}link")
    position = list(channel).index(self_link) + 1
    for offset, hub in enumerate(hubs):
        link = channel.makeelement(f"{{{_ATOM_NS}}}link", {"href": _xml(hub), "rel": "hub"})
        channel.insert(position + offset, link)


def render_json_feed(
    entries: Sequence[Entry],
    meta: FeedMeta,
    *,
    self_path: str = JSON_FILE,
    title: str | None = None,
) -> bytes:
    """A JSON Feed 1.1 document of ``entries`` in the order given (the caller sorts).

    JSON Feed has no feed-level date, so nothing here depends on time at all.
    Which sources carried each item goes in the ``_aggregator`` extension.
    """
    feed: dict[str, Any] = {
        "version": JSON_FEED_VERSION,
        "title": title or meta.title,
        "home_page_url": base_directory(meta.base_url),
        "feed_url": public_url(meta.base_url, self_path),
        "description": meta.description,
    }
    if meta.hubs:
        feed["hubs"] = [{"type": "WebSub", "url": hub} for hub in meta.hubs]
    return _json_document(feed, [_json_item(entry) for entry in entries])


def _json_document(feed: dict[str, Any], items: list[dict[str, Any]]) -> bytes:
    """The feed with one key a line and one item a line.

    ``json.dumps(indent=...)`` runs Python's own encoder, not the C one: it
    took most of a publish's time.  An item a line keeps the file readable
    and diffable at the C encoder's speed.
    """
    lines = [
        f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},"
        for key, value in feed.items()
    ]
    body = ",\n".join(f"    {json.dumps(item, ensure_ascii=False)}" for item in items)
    listed = f'  "items": [\n{body}\n  ]' if items else '  "items": []'
    return ("{\n" + "\n".join(lines) + "\n" + listed + "\n}\n").encode("utf-8")


def _feed(
    entries: Sequence[Entry],
    meta: FeedMeta,
    *,
    self_path: str,
    self_type: str,
    title: str | None,
    updated: datetime | None,
) -> Any:
    """A FeedGenerator holding everything; Atom and RSS differ only in ``self_type``."""
    self_url = public_url(meta.base_url, self_path)
    rss = self_type == RSS_TYPE
    generator = FeedGenerator()
    generator.id(_xml(self_url))
    generator.title(_xml(title or meta.title))
    generator.description(_xml(meta.description))
    # Atom wants an author for every entry; entries without their own inherit
    # this one.  RSS has no e-mail address for it, so feedgen leaves it out there.
    generator.author(name=_xml(meta.title))
    generator.generator(_xml(meta.generator))
    generator.updated(feed_updated(entries, updated))
    # Order matters for RSS: see the module docstring.
    generator.link(href=_xml(self_url), rel="self", type=self_type)
    if not rss:  # RSS: see _add_rss_hubs
        for hub in meta.hubs:
            generator.link(href=_xml(hub), rel="hub")
    generator.link(href=_xml(base_directory(meta.base_url)), rel="alternate", type="text/html")
    if rss:
        generator.load_extension("dc", atom=False, rss=True)
    for entry in entries:
        _add_entry(generator.add_entry(order="append"), entry, rss=rss)
    return generator


def _add_entry(item: Any, entry: Entry, *, rss: bool) -> None:
    item.id(_xml(entry.id))
    item.title(_xml(entry.title) or _NO_TITLE)
    item.published(as_utc(entry.published))
    item.updated(as_utc(entry.updated))
    if entry.author:
        item.author(name=_xml(entry.author))
        if rss:
            item.dc.dc_creator(_xml(entry.author))
    if entry.section:
        item.category(term=_xml(entry.section))
    # An Atom entry needs content or an alternate link; the title stands in
    # for an entry that has neither summary nor link nor sources.
    content = entry_content_html(entry) or f"<p>{escape(entry.title or _NO_TITLE)}</p>"
    item.content(_xml(content), type="html")
    if not rss:
        return  # links, source and language: see _finish_atom_entry
    if entry.link:
        # RSS has one link per item; related links have no place there.
        item.link(href=_xml(entry.link), rel="alternate")
    if entry.enclosures:
        # RSS 2.0 has one enclosure per item, with a type and a length it
        # requires: the first file, with what is known (0: unknown).
        first = entry.enclosures[0]
        item.link(
            href=_xml(first.url),
            rel="enclosure",
            type=_xml(first.media_type or _UNKNOWN_TYPE),
            length=str(first.length or 0),
        )
    origin = entry.sources[0] if entry.sources else None
    if origin is not None and origin.feed_url:
        item.source(url=_xml(redact_url(origin.feed_url)), title=_xml(origin.title))


def _finish_atom_entry(element: Any, entry: Entry) -> None:
    """Add to feedgen's ``<entry>`` what it cannot write right: links, source, language.

    Elements are made with ``makeelement`` so lxml is not imported here;
    feedgen builds Atom with a default namespace and unprefixed tags, so plain
    tag names are what its own elements use too.
    """

    def add(parent: Any, tag: str, text: str | None = None, **attributes: str | None) -> Any:
        attrib = {key: _xml(value) for key, value in attributes.items() if value is not None}
        child = parent.makeelement(tag, attrib)
        if text is not None:
            child.text = _xml(text)
        parent.append(child)
        return child

    if entry.language:
        element.set(_XML_LANG, _xml(entry.language))
    if entry.link:
        add(element, "link", href=entry.link, rel="alternate")
    for other in entry.sources[1:]:
        if other.item_link:
            add(element, "link", href=other.item_link, rel="related", title=other.title)
    for enclosure in entry.enclosures:
        length = str(enclosure.length) if enclosure.length is not None else None
        add(
            element,
            "link",
            href=enclosure.url,
            rel="enclosure",
            type=enclosure.media_type,
            length=length,
        )
    if not entry.sources:
        return
    origin = entry.sources[0]
    feed_url = redact_url(origin.feed_url) if origin.feed_url else None
    source = add(element, "source")
    # The validator wants an id and an updated in every source; the origin's
    # own feed-level date is not kept, so the copy's date stands in for it.
    add(source, "id", feed_url or origin.site_link or _source_urn(origin.name))
    add(source, "title", origin.title)
    add(source, "updated", as_utc(entry.updated).isoformat())
    if feed_url:
        add(source, "link", href=feed_url, rel="self")
    if origin.site_link:
        add(source, "link", href=origin.site_link, rel="alternate")


def _json_item(entry: Entry) -> dict[str, Any]:
    item: dict[str, Any] = {"id": entry.id}
    if entry.link:
        item["url"] = entry.link
    item["title"] = entry.title
    item["content_html"] = entry_content_html(entry)
    item["date_published"] = as_utc(entry.published).isoformat()
    item["date_modified"] = as_utc(entry.updated).isoformat()
    if entry.section:
        item["tags"] = [entry.section]
    if entry.author:
        item["authors"] = [{"name": entry.author}]
    if entry.language:
        item["language"] = entry.language
    if entry.image:
        item["image"] = entry.image
    if entry.enclosures:
        item["attachments"] = [_json_attachment(enclosure) for enclosure in entry.enclosures]
    item["_aggregator"] = {
        "sources": [
            {
                "name": source.name,
                "title": source.title,
                "site_link": source.site_link,
                "feed_url": redact_url(source.feed_url) if source.feed_url else None,
                "item_link": source.item_link,
            }
            for source in entry.sources
        ]
    }
    return item


def _json_attachment(enclosure: Enclosure) -> dict[str, Any]:
    # JSON Feed requires a mime_type; size_in_bytes is optional.
    attachment: dict[str, Any] = {
        "url": enclosure.url,
        "mime_type": enclosure.media_type or _UNKNOWN_TYPE,
    }
    if enclosure.length is not None:
        attachment["size_in_bytes"] = enclosure.length
    return attachment


def _source_urn(name: str) -> str:
    """A stable id for a source that has neither feed URL nor site (a local file)."""
    return uuid.uuid5(_SOURCE_NAMESPACE, name).urn


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)
