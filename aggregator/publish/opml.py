"""The subscription list as OPML 2.0, so a reader can follow the sources themselves.

    render_opml(sources, title=...) -> bytes     (pure: no clock, no I/O)

One ``<outline>`` per section, in the order the sections are first seen, each
holding one ``type="rss"`` outline per source.  Local-file sources have no URL
a reader could poll, so they are left out (and a section left empty by that is
left out too).  There is no ``dateCreated``: the same sources always give the
same bytes, so the server's ETag stays put between restarts.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass

from aggregator.redact import redact_url

__all__ = ["OpmlSource", "render_opml"]

# Characters XML 1.0 cannot carry at all, even escaped; ElementTree would write
# them as they are and produce a file no reader parses.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class OpmlSource:
    """One source as a subscription: ``xml_url`` is the feed, ``html_url`` its site."""

    name: str
    section: str
    xml_url: str | None
    html_url: str | None = None


def render_opml(sources: Sequence[OpmlSource], *, title: str) -> bytes:
    """The OPML 2.0 document for ``sources``, UTF-8 encoded with an XML declaration.

    Escaping is ElementTree's (``&``, ``<``, ``>`` and ``"`` in attributes), so
    names and URLs are written as given, never interpreted; URLs in their
    public form, without credentials (:func:`~aggregator.redact.redact_url`).
    """
    sections: dict[str, list[OpmlSource]] = {}
    for source in sources:
        if source.xml_url:
            sections.setdefault(source.section, []).append(source)

    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = _xml(title)
    body = ET.SubElement(root, "body")
    for section, members in sections.items():
        group = ET.SubElement(body, "outline", text=_xml(section), title=_xml(section))
        for source in members:
            attributes = {
                "type": "rss",
                "text": _xml(source.name),
                "title": _xml(source.name),
                "xmlUrl": _xml(redact_url(source.xml_url or "")),
            }
            if source.html_url:
                attributes["htmlUrl"] = _xml(redact_url(source.html_url))
            ET.SubElement(group, "outline", attributes)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _xml(text: str) -> str:
    return _NOT_XML.sub("", text)
