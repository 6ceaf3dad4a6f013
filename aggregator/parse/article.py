"""Local article files (plain text, Markdown, HTML) -> one :class:`ParsedItem` each.

The body is normalized to simple HTML (``<h2>`` headings, ``<p>`` paragraphs)
so the section splitter treats a local article exactly like a feed entry.

Plain text follows the seed article's conventions: the first ``**bold**`` line
is the title, each later bold line starts a section, and a closing
``Read More @ example.com`` names the original, which becomes the link and is
not body text.  Markdown uses ``#`` headings.  Either may start with a front
matter block (``---`` lines around ``key: value`` pairs: title, date, link,
language); the published date is from there, else the file's mtime.
"""

from __future__ import annotations

import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

from ..errors import ParseError
from ..models import Document, ParsedItem
from .normalize import (
    http_url,
    normalize_language,
    plain_text,
    sanitize_html,
    strip_control,
    utc_from_text,
)

_BOLD_LINE = re.compile(r"^\s*\*\*(.+?)\*\*\s*$")
_MARKDOWN_HEADING = re.compile(r"^\s*(#{1,6})\s+(.+?)\s*#*\s*$")
_READ_MORE = re.compile(
    r"^\s*read\s+more\s*(?:@|at|on|:)\s*(?P<site>(?:https?://)?[\w.-]+\.[a-z]{2,}[^\s]*)\s*$",
    re.IGNORECASE,
)
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_HTML_HEADING = re.compile(r"<h([1-6])[^>]*>(.*?)</h\1\s*>", re.IGNORECASE | re.DOTALL)
_HTML_TITLE = re.compile(r"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_HTML_BODY = re.compile(r"<body[^>]*>(.*)</body\s*>", re.IGNORECASE | re.DOTALL)


def parse_article(document: Document, source: str) -> ParsedItem:
    """Read one article file; raise :class:`ParseError` if it has no text at all."""
    path = Path(document.location)
    text = _decode(document.body, source, path)
    meta, text = _front_matter(text)
    if path.suffix.lower() in (".html", ".htm"):
        title, body_html, link = _from_html(text, document.location)
    else:
        title, body_html, link = _from_text(text)
    if not title and not body_html:
        raise ParseError(source, f"{path.name}: the file has no text")
    link = http_url(meta.get("link") or meta.get("url"), None) or link
    published = utc_from_text(meta.get("date") or meta.get("published")) or document.modified
    return ParsedItem(
        entry_id=path.name,
        title=plain_text(meta.get("title") or title or path.stem.replace("_", " ")),
        link=link,
        published=published,
        updated=utc_from_text(meta.get("updated")) or published,
        content_html=sanitize_html(body_html, link),
        author=plain_text(meta.get("author") or "") or None,
        language=normalize_language(meta.get("language") or meta.get("lang")),
    )


def text_to_html(text: str) -> tuple[str, str | None]:
    """Plain text or Markdown-ish text -> (HTML body, link named by a "Read more" line).

    ``**Bold**`` lines and ``#`` lines become headings; other lines are
    paragraphs (a blank line or a new line both end one, as in the seed).
    """
    parts: list[str] = []
    paragraph: list[str] = []
    link = None

    def flush() -> None:
        if paragraph:
            parts.append(f"<p>{escape(' '.join(paragraph))}</p>")
            paragraph.clear()

    for raw in text.splitlines():
        line = raw.strip()
        heading = _BOLD_LINE.match(line) or _MARKDOWN_HEADING.match(line)
        read_more = _READ_MORE.match(line)
        if not line:
            flush()
        elif read_more:
            flush()
            site = read_more.group("site")
            link = http_url(site if "://" in site else f"https://{site}", None)
        elif heading:
            flush()
            level = len(heading.group(1)) if heading.re is _MARKDOWN_HEADING else 2
            content = heading.group(heading.lastindex or 1)
            parts.append(f"<h{max(level, 2)}>{escape(content.strip('* '))}</h{max(level, 2)}>")
        else:
            # A line of its own is a paragraph of its own, as in the seed,
            # unless it continues a Markdown paragraph wrapped by hand.
            if paragraph and not raw.startswith(" ") and _ends_sentence(paragraph[-1]):
                flush()
            paragraph.append(line)
    flush()
    return "".join(parts), link


def _from_text(text: str) -> tuple[str, str, str | None]:
    body_html, link = text_to_html(text)
    match = re.match(r"<h[1-6]>(.*?)</h[1-6]>", body_html)
    if match is None:
        return "", body_html, link
    return match.group(1), body_html[match.end() :], link


def _from_html(text: str, location: str) -> tuple[str, str, str | None]:
    body_match = _HTML_BODY.search(text)
    body = body_match.group(1) if body_match else text
    heading = _HTML_HEADING.search(body)
    if heading is not None:
        title = plain_text(heading.group(2))
        body = body[: heading.start()] + body[heading.end() :]
    else:
        title_match = _HTML_TITLE.search(text)
        title = plain_text(title_match.group(1)) if title_match else ""
    link = _canonical_link(text)
    return title, body, link


def _canonical_link(text: str) -> str | None:
    class Finder(HTMLParser):
        found: str | None = None

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            values = dict(attrs)
            if tag == "link" and (values.get("rel") or "").lower() == "canonical":
                self.found = self.found or values.get("href")

    finder = Finder()
    finder.feed(text)
    return http_url(finder.found, None)


def _front_matter(text: str) -> tuple[dict[str, str], str]:
    match = _FRONT_MATTER.match(text)
    if match is None:
        return {}, text
    meta = {}
    for line in match.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep:
            meta[key.strip().lower()] = value.strip().strip("\"'")
    return meta, text[match.end() :]


def _ends_sentence(line: str) -> bool:
    return line.rstrip().endswith((".", "!", "?", ":", "\u201d", '"', "»"))


def _decode(body: bytes, source: str, path: Path) -> str:
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        # Old files in a local encoding: cp1252 decodes any byte, so the text
        # survives with at worst a few wrong characters.
        text = body.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise ParseError(source, f"{path.name}: binary file, not an article")
    return strip_control(text.replace("\r\n", "\n").replace("\r", "\n"))
