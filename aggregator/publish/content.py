"""An entry's body as HTML, shared by every published format.

Everything in it is built here from plain text and escaped here; it does not
pass through source HTML, so callers may embed it as-is (the page marks it safe).
"""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from aggregator.models import DigestLine, Entry, SourceRef

# Links from sources end up as hrefs in our own page, so a "javascript:" URL
# from a hostile feed must not become clickable; such a link is shown as text.
_SAFE_SCHEMES = frozenset({"http", "https"})


def entry_content_html(entry: Entry, *, heading_level: int = 3) -> str:
    """The summary sections, the other sources, then a link to the original.

    A section without sentences is left out, heading too: a heading over
    nothing reads as a rendering fault.  ``heading_level`` lets the HTML page
    nest the headings under its own entry titles.  Returns "" when the entry
    has neither summary sentences nor sources nor a link.
    """
    if not 1 <= heading_level <= 6:
        raise ValueError(f"heading_level must be 1..6, not {heading_level}")
    parts: list[str] = []
    if entry.digest:
        parts.append("<ul>" + "".join(_digest_line(line) for line in entry.digest) + "</ul>")
    for section in entry.summary.sections:
        if not section.sentences:
            continue
        if section.heading is not None:
            tag = f"h{heading_level}"
            parts.append(f"<{tag}>{escape(section.heading)}</{tag}>")
        parts.append("<p>" + " ".join(escape(s) for s in section.sentences) + "</p>")
    if len(entry.sources) > 1:
        others = ", ".join(_source_link(source) for source in entry.sources[1:])
        parts.append(f"<p>Also reported by: {others}</p>")
    link = safe_href(entry.link)
    if link is not None and not entry.digest:  # a digest's link is our own page
        label = f"Read the original at {entry.origin_name}"
        parts.append(f'<p><a href="{escape(link)}">{escape(label)}</a></p>')
    return "\n".join(parts)


def safe_href(url: str | None) -> str | None:
    """``url`` if it may be a link target in our HTML (http or https), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    return url if scheme in _SAFE_SCHEMES else None


def _digest_line(line: DigestLine) -> str:
    href = safe_href(line.link)
    source = escape(line.source)
    credit = f'<a href="{escape(href)}">{source}</a>' if href else source
    return f"<li>{escape(line.sentence)} ({credit})</li>"


def _source_link(source: SourceRef) -> str:
    href = safe_href(source.item_link)
    if href is None:
        return escape(source.title)
    return f'<a href="{escape(href)}">{escape(source.title)}</a>'
