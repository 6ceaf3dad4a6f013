"""The subscription list as OPML 2.0, so a reader can follow the sources themselves.

    render_opml(sources, title=...) -> bytes     (pure: no clock, no I/O)

One ``<outline>`` per section, in the order the sections are first seen, each
holding one ``type="rss"`` outline per source.  Local-file sources have no URL
a reader could poll, so they are left out (and a section left empty by that is
left out too).  There is no ``dateCreated``: the same sources always give the
same bytes, so the server's ETag stays put between restarts.

Written line by line rather than through an ElementTree: with ten thousand
sources the tree of elements and attribute dictionaries was the largest thing
a pass held while publishing.  The lines are the ones ``ElementTree.indent``
and ``tostring`` wrote, escapes included, byte for byte (the tests compare the
two on hostile names).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from aggregator.redact import redact_url

__all__ = ["OpmlSource", "render_opml"]

# Characters XML 1.0 cannot carry at all, even escaped: a file holding them is
# one no reader parses, so they are dropped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# Markup in text, and in attribute values also the quote and the line-end and
# tab characters, which a parser would otherwise normalize to spaces.
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {
        "&": "&amp;",
        "<": "&lt;",
        ">": "&gt;",
        '"': "&quot;",
        "\r": "&#13;",
        "\n": "&#10;",
        "\t": "&#09;",
    }
)


@dataclass(frozen=True, slots=True)
class OpmlSource:
    """One source as a subscription: ``xml_url`` is the feed, ``html_url`` its site."""

    name: str
    section: str
    xml_url: str | None
    html_url: str | None = None


def render_opml(sources: Iterable[OpmlSource], *, title: str) -> bytes:
    """The OPML 2.0 document for ``sources``, UTF-8 encoded with an XML declaration.

    Names and URLs are written as given, escaped, never interpreted; URLs in
    their public form, without credentials (:func:`~aggregator.redact.redact_url`).
    ``sources`` is read once, so it may be a generator.
    """
    outlines: dict[str, list[str]] = {}  # section -> its sources' lines, first seen first
    for source in sources:
        if source.xml_url:
            outlines.setdefault(source.section, []).append(_source_line(source))

    heading = _text(title)
    lines = [
        "<?xml version='1.0' encoding='utf-8'?>",
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{heading}</title>" if heading else "    <title />",
        "  </head>",
    ]
    if outlines:
        lines.append("  <body>")
        for section, members in outlines.items():
            name = _attribute(section)
            lines.append(f'    <outline text="{name}" title="{name}">')
            lines += members
            lines.append("    </outline>")
        lines.append("  </body>")
    else:
        lines.append("  <body />")
    lines.append("</opml>\n")
    return "\n".join(lines).encode("utf-8")


def _source_line(source: OpmlSource) -> str:
    name = _attribute(source.name)
    line = (
        f'      <outline type="rss" text="{name}" title="{name}" '
        f'xmlUrl="{_attribute(redact_url(source.xml_url or ""))}"'
    )
    if source.html_url:
        line += f' htmlUrl="{_attribute(redact_url(source.html_url))}"'
    return line + " />"


def _text(text: str) -> str:
    return _NOT_XML.sub("", text).translate(_TEXT_ESCAPES)


def _attribute(text: str) -> str:
    return _NOT_XML.sub("", text).translate(_ATTRIBUTE_ESCAPES)
