"""Split an article into sections along its headings.

    split_sections(html) -> (Section(None, lead paragraphs), Section("Heading", ...), ...)

The input is the sanitized HTML of a feed entry (local articles arrive already
converted to ``<h2>``/``<p>``), or plain text when it holds no tag at all.

What counts as a heading:

- HTML: ``<h1>``-``<h6>``, and a paragraph that is bold from end to end
  (``<p><strong>...</strong></p>``), which is how many CMSs mark subheads.
- Plain text: a line that is all ``**bold**`` (or ``__bold__``), a Markdown
  ``#`` line, or a line underlined with ``===`` or ``---`` (Markdown's other
  heading style).
- Both: a numbered heading, ``1. Background``, ``2) What next``, ``1.2 Costs``
  or ``IV. Outlook``, standing alone between paragraphs: short, capitalized,
  without a final period.  Numbered lines next to each other are a list, not
  headings.

What is dropped as boilerplate, the site talking rather than the article:

- whole paragraphs matching :data:`_BOILERPLATE` (and short): "Read more"
  and "Continue reading" lines, share and follow prompts, newsletter and
  subscription prompts, photo captions and credits, "Advertisement";
- in HTML, what a reader does not read as the article: ``<figcaption>``
  (captions), ``<aside>`` (boxes, related links), ``<nav>``, ``<footer>``,
  ``<form>``, and a page's ``<head>``; list items that are nothing but a link
  (lists of related stories);
- a section headed "Related", "Read also", "More on this story", "Most
  read" and the like, heading and all.

The splitter keeps every other piece of body text exactly once, in document
order.  It does not judge content, summarize, or detect the language, and it
never raises on bad HTML: :class:`html.parser.HTMLParser` reads any string,
and unclosed tags only move a paragraph boundary.

Reading HTML is most of the splitter's time, and html.parser tokenizes in pure
Python.  The HTML it gets is nearly always the sanitizer's output, which is
regular (quoted attributes, escaped text, no comments), so such HTML is
tokenized by one regex instead, which makes the same handler calls
html.parser would (:func:`_feed_regular_html`); anything else, and anything
html.parser reads by rules not mirrored there, still goes to html.parser.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

from ..models import Section

__all__ = ["is_boilerplate", "is_boilerplate_heading", "split_sections"]

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
# Their content is not article text: not shown at all (script, style, a
# page's head), or the page's furniture around the article (navigation,
# sidebars and boxes, footers, forms), or an image's caption and credit.  The
# sanitizer removes some already; the rest matter for whole web pages given to
# ``aggregate summarize URL`` and for feeds that embed figures and asides.
_SKIPPED_TAGS = frozenset(
    {
        "script", "style", "template", "head", "title", "noscript",
        "nav", "aside", "footer", "form", "button", "select", "svg",
        "iframe", "object", "figcaption",
    }
)  # fmt: skip

# A bold "paragraph" longer than this, or ending in a period, is an emphasized
# lead or note, not a subhead; news sites often bold their first paragraph.
_MAX_HEADING_CHARS = 150

# Lines that are the site talking, not the article.  Each pattern must match
# the whole paragraph and the paragraph must be short, so a sentence that only
# starts like one ("Subscribers were told...") stays.
_MAX_BOILERPLATE_CHARS = 250
_BOILERPLATE_PATTERNS = (
    # "Read more", "Read More @ euromaidanpress.com", "Read more at ...", "Read
    # the full story"; not "Read more than 200 pages...", which is prose.
    r"read more(?:\s*[:@.…»›>→-].*|\s+(?:at|on|here|from)\b.*)?",
    r"read the (?:full|original|rest of the) (?:story|article|post)\b.*",
    r"(?:continue|keep) reading\b.*",
    r"\[?(?:…|\.\.\.)\]?|\(more…?\)",
    r"click here\b.*",
    # WordPress appends this to every item of its feeds.
    r"the post .+ appeared first on .+",
    # Share and subscribe prompts: "Share this:", "Share on Facebook", "Subscribe now".
    r"share(?: this(?: article| story| post)?| on \w+| via \w+)?\s*[:!.]?",
    r"(?:(?:share|tweet|email|e-mail|print|copy link|facebook|twitter|x|linkedin"
    r"|whatsapp|telegram|reddit|pinterest|flipboard|messenger|bluesky)\W*){2,10}",
    r"(?:follow|like|join) us on .+",
    r"(?:subscribe|sign up)\b.*",
    r".{0,40}\bnewsletter\b.*(?:sign up|subscribe|inbox)\b.*",
    r".{0,80}\b(?:delivered|straight) to your inbox\b.*",
    r"(?:enter|type) your e-?mail\b.*",
    r"download (?:our|the) app\b.*",
    r"advertisement|sponsored(?: content)?|scroll (?:down|to continue)\b.*",
    # Captions and credits: "Photo: Reuters", "Image credit: ...", "Photo by X",
    # "Pictured: ...", "(Photo: AP)", "Jane Doe/Getty Images", "© Reuters".
    r"\(?(?:photo(?:graph)?|image|picture|illustration|video|footage)s?(?: credits?)?"
    r"\s*(?::|©|by |via |courtesy ).*",
    r"(?:image|photo) credits?\b.*",
    r"(?:pictured|credit|source)\s*:.*",
    r"©.*",
    r".{0,120}/\s*(?:getty images|afp|reuters|ap|epa|shutterstock|alamy)(?: via .+)?\)?",
)
# All in one regex, one match per paragraph instead of one per pattern: a full
# match of an alternation is a full match of one of its alternatives.
_BOILERPLATE = re.compile(
    "|".join(f"(?:{pattern})" for pattern in _BOILERPLATE_PATTERNS), re.IGNORECASE
)
# Headings of sections that are lists of other stories; the heading and its
# section go.  Only the exact phrases: "Related party transactions" is content.
_BOILERPLATE_HEADING = re.compile(
    r"(?:related(?: (?:articles?|stories|posts|coverage|content|links|reading|news|topics))?"
    r"|(?:see|read) also|also read|further reading|you (?:may|might) also like"
    r"|more (?:on this|about this|from|stories|news|coverage)\b.*"
    r"|recommended(?: for you| reading| stories)?|most (?:read|popular|viewed)"
    r"|trending(?: now)?|top stories|latest (?:news|stories))\s*[:.]?",
    re.IGNORECASE,
)

_PLAIN_BOLD_LINE = re.compile(r"(?P<mark>\*\*|__)(?P<text>[^*_](?:.*[^*_])?)(?P=mark)")
_MARKDOWN_HEADING = re.compile(r"#{1,6}[ \t]+(?P<text>.*?)(?:[ \t]+#+)?")
_SETEXT_UNDERLINE = re.compile(r"={3,}|-{3,}")
# "1. Background", "2) Next", "1.2 Costs", "IV. Outlook": the number and the title.
_NUMBER = re.compile(r"(?:\d{1,2}(?:\.\d{1,2})*[.)]|\d{1,2}(?:\.\d{1,2})+|[IVX]{1,5}[.)])\s+")
_MAX_NUMBERED_HEADING_CHARS = 80
# A start or end tag, comment or doctype; a lone "<" as in "a < b" is text.
_ANY_TAG = re.compile(
    r"<(?:/?[A-Za-z][A-Za-z0-9-]*(?:[\s/][^<>]*)?|!--.*?--|![A-Za-z][^<>]*)>", re.DOTALL
)


# A tag of regular HTML, for the fast path: an end tag "</p>" (group 1: the
# name), or a start tag (group 2: the name; group 3: the "/" of "<br/>") with
# attributes separated by whitespace, each with a quoted value, a bare value
# or none.  Each form accepted is one html.parser reads as the same tag, ending
# at the same ">".  Near misses, where its rules get intricate, are left to
# html.parser: whitespace is ASCII only, and no other kind appears outside
# quotes, as html.parser ends a tag name at ASCII whitespace only but an
# attribute at any; a bare value must end at whitespace or ">", as html.parser
# takes a "/" after it into the value ("<img src=x/>"); an end tag is exactly
# "</name>".
_REGULAR_TAG = re.compile(
    r"<(?:/([A-Za-z][A-Za-z0-9]*)"
    r"|([A-Za-z][A-Za-z0-9]*)"
    r"(?:[\t\n\r\f ]+[A-Za-z_:][-A-Za-z0-9_:.]*"
    r"(?:[\t\n\r\f ]*=[\t\n\r\f ]*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`/]+(?=[\t\n\r\f >])))?)*"
    r"[\t\n\r\f ]*(/?))>"
)
# Elements whose content html.parser does not read as markup: script and
# style in Python 3.11, some of the others in later releases.  The sanitizer
# allows none of them; where they occur, html.parser reads the whole input.
_RAW_TEXT_TAGS = frozenset(
    {"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "noscript",
     "plaintext"}
)  # fmt: skip


def split_sections(html_or_text: str) -> tuple[Section, ...]:
    """The article's sections in order: the lead (heading None, only if it has text) first."""
    return _split(html_or_text, fast=True)


def _split(html_or_text: str, *, fast: bool) -> tuple[Section, ...]:
    """:func:`split_sections`; with ``fast=False`` html.parser reads all HTML,
    so tests can check that the fast path changes nothing."""
    builder = _SectionBuilder()
    if _ANY_TAG.search(html_or_text):
        parser = _HTMLSplitter(builder)
        if not (fast and _feed_regular_html(html_or_text, parser)):
            parser.feed(html_or_text)
            parser.close()
        parser.flush()
    else:
        _split_plain_text(html_or_text, builder)
    return builder.sections()


def _feed_regular_html(html_text: str, parser: _HTMLSplitter) -> bool:
    """Make the handler calls that ``parser.feed(html_text); parser.close()``
    would, if the HTML is regular, and return True; else return False having
    called nothing.

    Regular: every "<" starts a :data:`_REGULAR_TAG`, and none opens an element
    of raw text.  Then html.parser (with ``convert_charrefs``) hands each run
    of text between two tags to ``handle_data`` unescaped, whole: its
    rules for a "&" near the end of the input only delay the text to
    ``close()``, and its rules for other "<"s never come into play.
    """
    # [text, end tag, start tag, "/", text, end tag, ..., text]
    parts = _REGULAR_TAG.split(html_text)
    if "<" in "".join(parts[::4]):
        return False  # a comment, declaration, lone "<" or a tag not read here
    if not _RAW_TEXT_TAGS.isdisjoint(map(str.lower, filter(None, parts[2::4]))):
        return False
    unescape = html.unescape  # what html.parser uses
    handle_data = parser.handle_data
    handle_starttag = parser.handle_starttag
    handle_endtag = parser.handle_endtag
    # The splitter reads no attributes, so none are parsed: each tag gets [].
    for text, end_name, start_name, self_closing in zip(*[iter(parts)] * 4, strict=False):
        if text:
            handle_data(unescape(text))
        if end_name is not None:
            handle_endtag(end_name.lower())
        elif self_closing:
            parser.handle_startendtag(start_name.lower(), [])
        else:
            handle_starttag(start_name.lower(), [])
    if parts[-1]:
        handle_data(unescape(parts[-1]))
    return True


def is_boilerplate(paragraph: str) -> bool:
    """True for a "Read more" line, a share/subscribe prompt, a caption or credit."""
    text = paragraph.strip()
    if len(text) > _MAX_BOILERPLATE_CHARS:
        return False
    return _BOILERPLATE.fullmatch(text) is not None


def is_boilerplate_heading(heading: str) -> bool:
    """True for the heading of a list of other stories ("Related", "Most read")."""
    return bool(_BOILERPLATE_HEADING.fullmatch(heading.strip()))


def _collapse(text: str) -> str:
    # Splitting into words is the costly part, so text that is collapsed
    # already (most paragraphs) is only checked: every whitespace character
    # but " " is a control or separator, which str.isprintable() rejects.
    if text.isprintable() and "  " not in text and text[:1] != " " and text[-1:] != " ":
        return text
    return " ".join(text.split())


def _looks_like_heading(text: str) -> bool:
    return len(text) <= _MAX_HEADING_CHARS and not text.endswith(".")


def _numbered_title(text: str) -> str | None:
    """The title of a numbered line ("1. Background" -> "Background"), else None."""
    number = _NUMBER.match(text)
    return text[number.end() :] if number else None


def _looks_like_numbered_heading(text: str) -> bool:
    title = _numbered_title(text)
    return (
        title is not None
        and len(text) <= _MAX_NUMBERED_HEADING_CHARS
        and title[:1].isalpha()
        and not title[:1].islower()  # capitalized, or a script without case
        and not title.endswith((".", "!", "?", ",", ";", ":"))
    )


class _SectionBuilder:
    """Collects headings and paragraphs in order; the one place sections are made.

    Blocks are kept until the end, because whether "2. Results" is a heading
    depends on what stands around it.
    """

    _HEADING, _PARAGRAPH, _ITEM = "heading", "paragraph", "item"

    def __init__(self) -> None:
        self._blocks: list[tuple[str, str]] = []

    def heading(self, text: str) -> None:
        self.collapsed_heading(_collapse(text))

    def paragraph(self, text: str, *, item: bool = False) -> None:
        """Body text; ``item`` for a list item or table cell, never a numbered heading."""
        self.collapsed_paragraph(_collapse(text), item=item)

    # The HTML splitter collapses whitespace itself; doing it twice cost time.
    def collapsed_heading(self, text: str) -> None:
        if text:  # an empty <h2></h2> divides nothing
            self._blocks.append((self._HEADING, text))

    def collapsed_paragraph(self, text: str, *, item: bool = False) -> None:
        if text and not is_boilerplate(text):
            self._blocks.append((self._ITEM if item else self._PARAGRAPH, text))

    def sections(self) -> tuple[Section, ...]:
        done: list[Section] = []
        heading: str | None = None
        paragraphs: list[str] = []
        skipping = False

        def close() -> None:
            # The lead exists only if it has text; a headed section exists even
            # when empty, because its heading is content too.
            if not skipping and (heading is not None or paragraphs):
                done.append(Section(heading, tuple(paragraphs)))

        for index, (kind, text) in enumerate(self._blocks):
            if kind == self._HEADING or self._numbered_heading(index):
                close()
                heading, paragraphs = text, []
                skipping = is_boilerplate_heading(text)
            else:
                paragraphs.append(text)
        close()
        return tuple(done)

    def _numbered_heading(self, index: int) -> bool:
        kind, text = self._blocks[index]
        if kind != self._PARAGRAPH or not _looks_like_numbered_heading(text):
            return False
        # A heading stands between paragraphs: it has body text after it, and
        # no numbered line next to it (that would make both list items).
        before = self._blocks[index - 1] if index > 0 else None
        after = self._blocks[index + 1] if index + 1 < len(self._blocks) else None
        return (
            after is not None
            and after[0] != self._HEADING
            and _numbered_title(after[1]) is None
            and (before is None or _numbered_title(before[1]) is None)
        )


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
        self._link_depth = 0
        # Whether the pending text has visible characters outside / inside bold,
        # and outside links.
        self._has_plain = False
        self._has_bold = False
        self._has_unlinked = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag in _BOLD_TAGS:
            self._bold_depth += 1
        elif tag == "a":
            self._link_depth += 1
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
        elif tag == "a":
            self._link_depth = max(0, self._link_depth - 1)
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
            if not self._link_depth:
                self._has_unlinked = True

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
        if not (self._has_plain or self._has_bold):
            # Nothing but whitespace pending (most flushes: every block tag
            # flushes, and the newline between two paragraphs is text too), so
            # nothing to hand over: the text would collapse to "".
            self._text = []
            self._in_heading = False
            return
        text = _collapse("".join(self._text))
        bold_line = self._has_bold and not self._has_plain and not self._item_depth
        if self._in_heading or (bold_line and _looks_like_heading(text)):
            self._builder.collapsed_heading(text)
        elif self._item_depth and not self._has_unlinked:
            pass  # a list item that is only a link: a list of other stories
        else:
            self._builder.collapsed_paragraph(text, item=self._item_depth > 0)
        self._text = []
        self._in_heading = False
        self._has_plain = self._has_bold = self._has_unlinked = False


def _split_plain_text(text: str, builder: _SectionBuilder) -> None:
    """Lines -> paragraphs: blank lines separate them when the text has any
    (lines between are one wrapped paragraph); otherwise each line is one.
    A numbered line always starts a paragraph, so a list stays a list."""
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
        if _SETEXT_UNDERLINE.fullmatch(line):
            # "Title" over "=====" is a heading; a rule under a sentence or
            # a wrapped paragraph is only a rule, and a rule is not text.
            if len(pending) == 1 and _looks_like_heading(pending[0]):
                builder.heading(pending.pop())
            flush()
        elif heading is not None:
            flush()
            builder.heading(heading)
        elif not line:
            flush()
        else:
            if not by_blank_lines or _NUMBER.match(line):
                flush()
            pending.append(_strip_bold_markers(line))
    flush()


def _plain_heading(line: str) -> str | None:
    """The heading text if the line is one, else None."""
    markdown = _MARKDOWN_HEADING.fullmatch(line)
    if markdown:
        # Markdown says outright that this is a heading, whatever its length.
        return _strip_bold_markers(markdown["text"]) or None
    bold = _PLAIN_BOLD_LINE.fullmatch(line)
    if bold and bold["mark"] not in bold["text"] and _looks_like_heading(bold["text"]):
        return bold["text"]
    return None


def _strip_bold_markers(line: str) -> str:
    """``**Whole line bold**`` -> its text; the markers are not words.  Partly
    bold lines ("**a** and b") keep their markers, like any other Markdown."""
    bold = _PLAIN_BOLD_LINE.fullmatch(line)
    return bold["text"] if bold and bold["mark"] not in bold["text"] else line
