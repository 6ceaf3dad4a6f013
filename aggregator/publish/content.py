"""An entry's body as HTML, shared by every published format.

Everything in it is built here from plain text and escaped here; it does not
pass through source HTML, so callers may embed it as-is (the page marks it safe).

It is bounded: a summary shows at most :data:`MAX_SUMMARY_CHARS` characters
of sentences and headings, the last sentence cut with an ellipsis, because a
source without punctuation makes one "sentence" of its whole text.
:func:`entry_chars` is what an entry adds to a published document, for the
bound on the whole document (:func:`aggregator.publish.publish`).
"""

from __future__ import annotations

from functools import lru_cache
from html import escape
from urllib.parse import urlsplit

from aggregator.models import DigestLine, Enclosure, Entry, SourceRef, Summary

# Links from sources end up as hrefs in our own page, so a "javascript:" URL
# from a hostile feed must not become clickable; such a link is shown as text.
_SAFE_SCHEMES = frozenset({"http", "https"})
MAX_SUMMARY_CHARS = 6000  # of one entry's summary (or digest) text, headings included
_ELLIPSIS = "\u2026"


def entry_content_html(entry: Entry, *, heading_level: int = 3) -> str:
    """The summary sections, the other sources, then a link to the original.

    A section without sentences is left out, heading too: a heading over
    nothing reads as a rendering fault.  ``heading_level`` lets the HTML page
    nest the headings under its own entry titles.  Returns "" when the entry
    has neither summary sentences nor sources nor a link.
    """
    if not 1 <= heading_level <= 6:
        raise ValueError(f"heading_level must be 1..6, not {heading_level}")
    return _content_html(entry, heading_level)


# One publish renders each entry into every format, and into its section's
# feeds too: seven times the same HTML.  Entries are frozen, so it is made once.
@lru_cache(maxsize=4096)
def _content_html(entry: Entry, heading_level: int) -> str:
    parts: list[str] = []
    image = safe_href(entry.image)
    if image is not None:
        parts.append(f'<p><img src="{escape(image)}" alt=""></p>')
    if entry.digest:
        lines = _bounded_digest(entry.digest)
        parts.append("<ul>" + "".join(_digest_line(line, text) for line, text in lines) + "</ul>")
    for heading, sentences in _bounded_summary(entry.summary):
        if heading is not None:
            tag = f"h{heading_level}"
            parts.append(f"<{tag}>{escape(heading)}</{tag}>")
        parts.append("<p>" + " ".join(escape(s) for s in sentences) + "</p>")
    if len(entry.sources) > 1:
        others = ", ".join(_source_link(source) for source in entry.sources[1:])
        parts.append(f"<p>Also reported by: {others}</p>")
    files = [_enclosure_link(e) for e in entry.enclosures if safe_href(e.url) is not None]
    if files:
        parts.append(f"<p>Files: {', '.join(files)}</p>")
    link = safe_href(entry.link)
    if link is not None and not entry.digest:  # a digest's link is our own page
        label = f"Read the original at {entry.origin_name}"
        parts.append(f'<p><a href="{escape(link)}">{escape(label)}</a></p>')
    return "\n".join(parts)


def entry_chars(entry: Entry) -> int:
    """Characters of text and links an entry puts in a published document.

    Markup and escaping are left out: they add about the same to every
    entry, so the bound on a document's entries bounds its bytes.
    """
    fields = [entry.id, entry.title, entry.link, entry.author, entry.section, entry.language]
    fields += [entry.image, *(enclosure.url for enclosure in entry.enclosures)]
    for source in entry.sources:
        fields += [source.name, source.title, source.site_link, source.feed_url, source.item_link]
    for line, text in _bounded_digest(entry.digest):
        fields += [text, line.link, line.source]
    for heading, sentences in _bounded_summary(entry.summary):
        fields += [heading, *sentences]
    return sum(len(field) for field in fields if field)


def _bounded_summary(summary: Summary) -> list[tuple[str | None, list[str]]]:
    """The sections that have sentences, headings and sentences as far as the bound goes."""
    budget = _Budget(MAX_SUMMARY_CHARS)
    sections: list[tuple[str | None, list[str]]] = []
    for section in summary.sections:
        if not section.sentences:
            continue
        heading = None if section.heading is None else budget.take(section.heading)
        sentences = []
        for sentence in section.sentences:
            taken = budget.take(sentence)
            if taken is None:
                break
            sentences.append(taken)
        if not sentences:
            break  # the bound is reached: no heading over nothing
        sections.append((heading, sentences))
    return sections


def _bounded_digest(lines: tuple[DigestLine, ...]) -> list[tuple[DigestLine, str]]:
    budget = _Budget(MAX_SUMMARY_CHARS)
    shown = []
    for line in lines:
        taken = budget.take(line.sentence)
        if taken is None:
            break
        shown.append((line, taken))
    return shown


class _Budget:
    """Characters left to show; texts are taken whole while they fit, the last one cut."""

    def __init__(self, chars: int):
        self.left = chars

    def take(self, text: str) -> str | None:
        """``text``, or its start with an ellipsis; None once nothing is left."""
        if len(text) <= self.left:
            self.left -= len(text)
            return text
        if self.left <= len(_ELLIPSIS):
            self.left = 0
            return None
        cut = text[: self.left - len(_ELLIPSIS)] + _ELLIPSIS
        self.left = 0
        return cut


def safe_href(url: str | None) -> str | None:
    """``url`` if it may be a link target in our HTML (http or https), else None."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:  # e.g. an invalid IPv6 host
        return None
    return url if scheme in _SAFE_SCHEMES else None


def _digest_line(line: DigestLine, text: str) -> str:
    href = safe_href(line.link)
    source = escape(line.source)
    credit = f'<a href="{escape(href)}">{source}</a>' if href else source
    return f"<li>{escape(text)} ({credit})</li>"


def _enclosure_link(enclosure: Enclosure) -> str:
    """A file (with a safe URL) as a link named by its file name, with its type
    and size when known."""
    name = enclosure.url.rstrip("/").rsplit("/", 1)[-1] or enclosure.url
    facts = [enclosure.media_type] if enclosure.media_type else []
    if enclosure.length:
        facts.append(_size(enclosure.length))
    label = escape(name) + (f" ({escape(', '.join(facts))})" if facts else "")
    return f'<a href="{escape(enclosure.url)}">{label}</a>'


def _size(length: int) -> str:
    if length < 1000:
        return f"{length} bytes"
    size = length / 1000
    for unit in ("kB", "MB"):
        if size < 1000:
            return f"{size:.1f} {unit}"
        size /= 1000
    return f"{size:.1f} GB"


def _source_link(source: SourceRef) -> str:
    href = safe_href(source.item_link)
    if href is None:
        return escape(source.title)
    return f'<a href="{escape(href)}">{escape(source.title)}</a>'
