"""Split an article into sections along its headings.

    split_sections(html) -> (Section(None, lead paragraphs), Section("Heading", ...), ...)

The input is the sanitized HTML of a feed entry (local articles arrive already
converted to ``<h2>``/``<p>``), or plain text when it holds no tag at all.

What counts as a heading:

- HTML: ``<h1>``-``<h6>``, and a paragraph that is bold from end to end
  (``<p><strong>...</strong></p>``), which is how many CMSs mark subheads.
- Plain text: a line that is all ``**bold**``, or a Markdown ``#`` line.

The splitter keeps every piece of body text exactly once, in document order,
except the boilerplate lines in :data:`_BOILERPLATE`.  It does not judge
content, summarize, or detect the language, and it never raises on bad HTML:
:class:`html.parser.HTMLParser` reads any string, and unclosed tags only move
a paragraph boundary.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from ..models import Section

__all__ = ["is_boilerplate", "split_sections"]

# Tags that end one paragraph and start the next.  Anything not listed here is
# inline: its text joins the surrounding paragraph without a break.
_BLOCK_TAGS = frozenset(
    {
        "address", "article", "aside", "blockquote", "body", "br", "caption",
        "dd", "details", "dialog", "div", "dl", "dt", "fieldset", "figcaption",
        "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary",
        "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_BOLD_TAGS = frozenset({"b", "strong"})
# A bold line inside these is an emphasized list item or table cell, not a
# subhead of the article.
_ITEM_TAGS = frozenset({"li", "dt", "dd", "td", "th", "caption", "figcaption", "blockquote"})
# Their content is not text a reader sees.  The sanitizer removes them already;
# this is for HTML that did not pass through it.
_SKIPPED_TAGS = frozenset({"script", "style", "template"})

# A bold "paragraph" longer than this, or ending in a period, is an emphasized
# lead or note, not a subhead; news sites often bold their first paragraph.
_MAX_HEADING_CHARS = 150

# Lines that are the site talking, not the article.  Each pattern must match
# the whole paragraph and the paragraph must be short, so a sentence that only
# starts like one ("Subscribers were told...") stays.
_MAX_BOILERPLATE_CHARS = 250
_BOILERPLATE = tuple(
    re.compile(pattern, re.IGNORECASE)
    for pattern in (
        # "Read more", "Read More @ euromaidanpress.com", "Read more at ...", "Read
        # the full story"; not "Read more than 200 pages...", which is prose.
        r"read more(?:\s*[:@.…»›>→-].*|\s+(?:at|on|here|from)\b.*)?",
        r"read the (?:full|original|rest of the) (?:story|article|post)\b.*",
        # WordPress appends this to every item of its feeds.
        r"the post .+ appeared first on .+",
        # Share and subscribe prompts: "Share this:", "Share on Facebook", "Subscribe now".
        r"share(?: this(?: article| story| post)?| on \w+)?\s*[:!.]?",
        r"(?:subscribe|sign up)\b.*",
        r".{0,40}\bnewsletter\b.*(?:sign up|subscribe|inbox)\b.*",
        # Captions and credits: "Photo: Reuters", "Image credit: ...", "Photo by X".
        r"(?:photo|image|picture|illustration)s?(?: credits?)?\s*(?::|©|by |via |courtesy ).*",
        r"(?:image|photo) credits?\b.*",
    )
)

_PLAIN_BOLD_LINE = re.compile(r"\*\*(?P<text>[^*](?:.*[^*])?)\*\*")
_MARKDOWN_HEADING = re.compile(r"#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?")
# A start or end tag, comment or doctype; a lone "<" as in "a < b" is text.
_ANY_TAG = re.compile(
    r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?:[\s/][^<>]*)?|!--.*?--|![A-Za-z][^<>]*)>", re.DOTALL
)


def split_sections(html_or_text: str) -> tuple[Section, ...]:
    """The article's sections in order: the lead (heading None, only if it has text) first."""
    builder = _SectionBuilder()
    if _ANY_TAG.search(html_or_text):
        parser = _HTMLSplitter(builder)
        parser.feed(html_or_text)
        parser.close()
        parser.flush()
    else:
        _split_plain_text(html_or_text, builder)
    return builder.sections()


def is_boilerplate(paragraph: str) -> bool:
    """True for a "Read more" line, a share/subscribe prompt or a photo credit."""
    text = paragraph.strip()
    if len(text) > _MAX_BOILERPLATE_CHARS:
        return False
    return any(pattern.fullmatch(text) for pattern in _BOILERPLATE)


def _collapse(text: str) -> str:
    return " ".join(text.split())


def _looks_like_heading(text: str) -> bool:
    return len(text) <= _MAX_HEADING_CHARS and not text.endswith(".")


class _SectionBuilder:
    """Collects headings and paragraphs in order; the one place sections are made."""

    def __init__(self) -> None:
        self._done: list[Section] = []
        self._heading: str | None = None
        self._paragraphs: list[str] = []

    def heading(self, text: str) -> None:
        text = _collapse(text)
        if not text:
            return  # an empty <h2></h2> divides nothing
        self._close_section()
        self._heading = text

    def paragraph(self, text: str) -> None:
        text = _collapse(text)
        if text and not is_boilerplate(text):
            self._paragraphs.append(text)

    def sections(self) -> tuple[Section, ...]:
        self._close_section()
        return tuple(self._done)

    def _close_section(self) -> None:
        # The lead exists only if it has text; a headed section exists even
        # when empty, because its heading is content too.
        if self._heading is not None or self._paragraphs:
            self._done.append(Section(self._heading, tuple(self._paragraphs)))
        self._heading = None
        self._paragraphs = []


class _HTMLSplitter(HTMLParser):
    """Feeds text to the builder, ending a paragraph at every block tag."""

    def __init__(self, builder: _SectionBuilder) -> None:
        super().__init__(convert_charrefs=True)
        self._builder = builder
        self._text: list[str] = []
        self._in_heading = False
        self._bold_depth = 0
        self._item_depth = 0
        self._skip_depth = 0
        # Whether the pending text has visible characters outside / inside bold.
        self._has_plain = False
        self._has_bold = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag in _BOLD_TAGS:
            self._bold_depth += 1
        elif tag == "br" and self._in_heading:
            self._text.append(" ")  # a line break inside a heading is still one heading
        elif tag in _BLOCK_TAGS:
            # Inside an open heading, a block tag ends the heading only once it
            # has text: "<h2><span>..." and "<h2><div>Title</div></h2>" are one
            # heading, while an unclosed "<h2>Title<p>Body" must not swallow the body.
            if not self._in_heading or "".join(self._text).strip():
                self.flush()
            if tag in _HEADING_TAGS:
                self._in_heading = True
            elif tag in _ITEM_TAGS:
                self._item_depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _BOLD_TAGS:
            self._bold_depth = max(0, self._bold_depth - 1)
        elif tag == "br" and self._in_heading:
            pass
        elif tag in _BLOCK_TAGS:
            self.flush()
            if tag in _ITEM_TAGS:
                self._item_depth = max(0, self._item_depth - 1)

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        self._text.append(data)
        if data.strip():
            if self._bold_depth:
                self._has_bold = True
            else:
                self._has_plain = True

    def parse_marked_section(self, i: int, report: bool = True) -> int:
        # Python before 3.13 raises AssertionError on "<![foo ...]>" (any
        # keyword but CDATA and the MS Office ones).  Browsers read it as a
        # bogus comment, ending at the next ">", and so does this.
        try:
            return super().parse_marked_section(i, report)
        except AssertionError:
            end = self.rawdata.find(">", i)
            return -1 if end < 0 else end + 1

    def flush(self) -> None:
        """Hand the pending text to the builder as a heading or a paragraph."""
        text = _collapse("".join(self._text))
        bold_line = self._has_bold and not self._has_plain and not self._item_depth
        if self._in_heading or (bold_line and _looks_like_heading(text)):
            self._builder.heading(text)
        else:
            self._builder.paragraph(text)
        self._text = []
        self._in_heading = False
        self._has_plain = self._has_bold = False


def _split_plain_text(text: str, builder: _SectionBuilder) -> None:
    """Lines -> paragraphs: blank lines separate them when the text has any
    (lines between are one wrapped paragraph); otherwise each line is one."""
    # Plain text from a feed is often HTML-escaped text that simply has no tags.
    lines = html.unescape(text).splitlines()
    by_blank_lines = any(not line.strip() for line in lines)
    pending: list[str] = []

    def flush() -> None:
        if pending:
            builder.paragraph(" ".join(pending))
            pending.clear()

    for raw in lines:
        line = raw.strip()
        heading = _plain_heading(line)
        if heading is not None:
            flush()
            builder.heading(heading)
        elif not line:
            flush()
        else:
            pending.append(_strip_bold_markers(line))
            if not by_blank_lines:
                flush()
    flush()


def _plain_heading(line: str) -> str | None:
    """The heading text if the line is one, else None."""
    markdown = _MARKDOWN_HEADING.fullmatch(line)
    if markdown:
        # Markdown says outright that this is a heading, whatever its length.
        return _strip_bold_markers(markdown["text"]) or None
    bold = _PLAIN_BOLD_LINE.fullmatch(line)
    if bold and "**" not in bold["text"] and _looks_like_heading(bold["text"]):
        return bold["text"]
    return None


def _strip_bold_markers(line: str) -> str:
    """``**Whole line bold**`` -> its text; the markers are not words.  Partly
    bold lines ("**a** and b") keep their markers, like any other Markdown."""
    bold = _PLAIN_BOLD_LINE.fullmatch(line)
    return bold["text"] if bold and "**" not in bold["text"] else line
