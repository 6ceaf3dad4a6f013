"""An OPML subscription list -> the feeds it subscribes to, each with its folder.

    read_opml(body, location) -> [Subscription(title, url, folder, enabled)]   (pure)

What the readers people leave export: newsboat (``newsboat -e``: OPML 1.0,
one flat list, ``title`` only), Miniflux (OPML 2.0, one folder per category,
``miniflux:disabled="true"`` on paused feeds), FreshRSS (OPML 2.0, one folder
per category, ``frss:`` attributes, ``HTML+XPath`` web-scraping outlines),
and the OPML 2.0 specification's ``category`` attribute.  An outline with an
``xmlUrl`` (or, as newsboat also reads, ``url``) is a feed; one without is a
folder, and its ``text`` (else ``title``) names the folder of the feeds in
it.  The innermost folder is the feed's; with no folder, the first of its
``category`` (comma-separated, each a slash-separated path: its last part).

The bytes go through the same guard as every feed (:mod:`.xmlguard`: no
DTD, entities bounded, nesting bounded) before expat reads them, so an XML
bomb is refused like any malformed file: :class:`~aggregator.errors.ParseError`,
one line.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from ..config import url_problem
from ..errors import ParseError
from ..redact import redact_text, redact_url
from .xmlguard import prepare_xml

__all__ = ["Subscription", "read_opml"]

_MINIFLUX = "{https://miniflux.app/opml}"
# Outline types that name something other than a feed: FreshRSS's web
# scraping, OPML's links to other outlines and include files.
_NOT_FEEDS = frozenset({"html+xpath", "xml+xpath", "json+dotnotation", "link", "include"})


@dataclass(frozen=True, slots=True)
class Subscription:
    """One feed of the list: its title as the list gives it (may be empty), its
    URL, its folder (None: none given), and False if the list says it is paused."""

    title: str
    url: str
    folder: str | None
    enabled: bool = True


@dataclass(frozen=True, slots=True)
class Skipped:
    """An outline that is not an http(s) feed (or whose URL no configuration
    takes), and why."""

    title: str
    reason: str


def read_opml(body: bytes, location: str) -> tuple[list[Subscription], list[Skipped]]:
    """The feeds of an OPML document in document order, and the outlines left out.

    Raises :class:`ParseError` naming ``location`` if the bytes are not an
    OPML document (not XML, refused by the guard, no ``<opml>``/``<body>``)."""
    prepared = prepare_xml(body, location)
    try:
        root = ET.fromstring(prepared.body)
    except ET.ParseError as error:
        raise ParseError(location, f"not well-formed XML: {error}") from None
    if _local(root.tag) != "opml":
        raise ParseError(location, f"not an OPML document: its root is <{_local(root.tag)}>")
    body_element = next((e for e in root if _local(e.tag) == "body"), None)
    if body_element is None:
        raise ParseError(location, "not an OPML document: it has no <body>")
    found: list[Subscription] = []
    skipped: list[Skipped] = []
    _walk(body_element, None, found, skipped)
    return found, skipped


def _walk(
    parent: ET.Element, folder: str | None, found: list[Subscription], skipped: list[Skipped]
) -> None:
    for outline in parent:
        if _local(outline.tag) != "outline":
            continue
        text = _clean(outline.get("text") or "")
        title = _clean(outline.get("title") or "") or text
        url = (outline.get("xmlUrl") or outline.get("url") or "").strip()
        if not url:
            _walk(outline, text or title or folder, found, skipped)
            continue
        kind = (outline.get("type") or "").strip().lower()
        if kind in _NOT_FEEDS:
            kind_shown = outline.get("type")
            skipped.append(Skipped(title or redact_url(url), f"type {kind_shown!r} is not a feed"))
            continue
        # What the configuration would refuse is skipped here, not written
        # (a URL urllib cannot even split, a port out of range, no host).
        problem = url_problem(url)
        if problem is not None:
            # Shown on the terminal: an untitled outline by its URL, never
            # with the credentials in it.
            skipped.append(Skipped(title or redact_url(url), redact_text(problem, url)))
            continue
        paused = (outline.get(f"{_MINIFLUX}disabled") or "").strip().lower() in ("true", "1")
        found.append(
            Subscription(
                title=title,
                url=url,
                folder=folder or _first_category(outline.get("category") or ""),
                enabled=not paused,
            )
        )


def _first_category(categories: str) -> str | None:
    for category in categories.split(","):
        parts = [part.strip() for part in category.split("/") if part.strip()]
        if parts:
            return parts[-1]
    return None


def _clean(text: str) -> str:
    return " ".join(text.split())


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
