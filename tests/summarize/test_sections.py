"""split_sections: headings, paragraphs, boilerplate, and no text lost."""

from __future__ import annotations

import html
import json
import os
import re
import sys

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st

from aggregator.models import Section
from aggregator.parse.normalize import sanitize_html
from aggregator.summarize import split_sections
from aggregator.summarize.sections import (
    _BOILERPLATE_PATTERNS,
    _collapse,
    _feed_regular_html,
    _HTMLSplitter,
    _SectionBuilder,
    _split,
    is_boilerplate,
    is_boilerplate_heading,
)

from .seed import ROOT, SEED_HEADINGS, SEED_LEAD, seed_html, seed_text


def headings(sections: tuple[Section, ...]) -> list[str | None]:
    return [s.heading for s in sections]


def all_paragraphs(sections: tuple[Section, ...]) -> list[str]:
    return [p for s in sections for p in s.paragraphs]


# --- the seed article ---------------------------------------------------------


def test_seed_html_has_a_lead_and_five_headed_sections() -> None:
    sections = split_sections(seed_html())

    assert headings(sections) == [None, *SEED_HEADINGS]
    lead = sections[0]
    assert len(lead.paragraphs) == 1
    assert lead.paragraphs[0].startswith(SEED_LEAD)
    assert all(len(s.paragraphs) == 1 for s in sections)
    assert not [p for p in all_paragraphs(sections) if "Read More" in p]


def test_seed_plain_text_keeps_its_title_as_the_first_heading() -> None:
    # As plain text the title line is just another bold line; dropping it is
    # the article parser's job, not the splitter's.
    sections = split_sections(seed_text())

    assert headings(sections) == [
        "Western Troop Deployment to Ukraine Gains Momentum",
        *SEED_HEADINGS,
    ]
    assert sections[0].paragraphs[0].startswith(SEED_LEAD)
    assert not [p for p in all_paragraphs(sections) if "Read More" in p]


# --- headings -----------------------------------------------------------------


def test_html_without_headings_is_one_lead_section() -> None:
    assert split_sections("<p>One.</p><p>Two.</p>") == (Section(None, ("One.", "Two.")),)


@pytest.mark.parametrize("level", range(1, 7))
def test_every_heading_level_splits(level: int) -> None:
    html_text = f"<p>Lead.</p><h{level}>Head</h{level}><p>Body.</p>"
    assert split_sections(html_text) == (
        Section(None, ("Lead.",)),
        Section("Head", ("Body.",)),
    )


@pytest.mark.parametrize("tag", ["strong", "b"])
def test_a_paragraph_bold_from_end_to_end_is_a_heading(tag: str) -> None:
    html_text = f"<p>Lead.</p><p><{tag}>Head</{tag}></p><p>Body.</p>"
    assert headings(split_sections(html_text)) == [None, "Head"]


def test_bold_line_before_a_break_is_a_heading() -> None:
    sections = split_sections("<p><strong>Head</strong><br>Body text.</p>")
    assert sections == (Section("Head", ("Body text.",)),)


@pytest.mark.parametrize(
    "html_text",
    [
        "<p>Partly <strong>bold</strong> text</p>",
        "<p><strong>A bold lead paragraph that is a sentence.</strong></p>",
        "<p><strong>" + "long " * 40 + "</strong></p>",
        "<ul><li><strong>Bold item</strong></li></ul>",
    ],
)
def test_emphasis_that_is_not_a_heading_stays_a_paragraph(html_text: str) -> None:
    sections = split_sections(html_text)
    assert headings(sections) == [None]
    assert len(sections[0].paragraphs) == 1


def test_plain_text_bold_lines_are_headings() -> None:
    text = "Lead line.\n**First**\nBody one.\n**Second**\nBody two."
    assert split_sections(text) == (
        Section(None, ("Lead line.",)),
        Section("First", ("Body one.",)),
        Section("Second", ("Body two.",)),
    )


def test_markdown_headings_split_plain_text() -> None:
    text = "# Title\n\nIntro paragraph.\n\n## Part one ##\n\nWrapped\nparagraph.\n\n### Part two\n"
    assert split_sections(text) == (
        Section("Title", ("Intro paragraph.",)),
        Section("Part one", ("Wrapped paragraph.",)),
        Section("Part two", ()),
    )


@pytest.mark.parametrize("line", ["**a** and **b**", "#hashtag", "Not **a** heading"])
def test_lines_that_only_look_like_headings_are_text(line: str) -> None:
    assert split_sections(f"{line}\nNext.") == (Section(None, (line, "Next.")),)


def test_markdown_setext_and_underscore_headings() -> None:
    text = "Title\n=====\n\nIntro.\n\nPart one\n--------\n\nBody.\n\n__Part two__\n\nMore."
    assert split_sections(text) == (
        Section("Title", ("Intro.",)),
        Section("Part one", ("Body.",)),
        Section("Part two", ("More.",)),
    )


def test_a_rule_under_a_sentence_is_not_a_heading_and_not_text() -> None:
    text = "A full sentence here.\n---\nNext paragraph."
    assert split_sections(text) == (Section(None, ("A full sentence here.", "Next paragraph.")),)


@pytest.mark.parametrize(
    "text",
    [
        "Intro.\n\n1. Background\n\nThe story so far.\n\n2. What next\n\nThe plan.",
        "Intro.\n1. Background\nThe story so far.\n2. What next\nThe plan.",
        "<p>Intro.</p><p>1. Background</p><p>The story so far.</p>"
        "<p>2. What next</p><p>The plan.</p>",
    ],
)
def test_numbered_headings(text: str) -> None:
    assert split_sections(text) == (
        Section(None, ("Intro.",)),
        Section("1. Background", ("The story so far.",)),
        Section("2. What next", ("The plan.",)),
    )


@pytest.mark.parametrize("heading", ["II. The plan", "1.2 Costs", "3) Reactions", "12. Итоги"])
def test_numbered_heading_styles(heading: str) -> None:
    assert headings(split_sections(f"Lead.\n\n{heading}\n\nBody.")) == [None, heading]


@pytest.mark.parametrize(
    "text",
    [
        # A list: numbered lines next to each other.
        "You need:\n\n1. Flour\n\n2. Eggs\n\n3. Milk\n\nThen bake.",
        "You need:\n1. Flour\n2. Eggs\nThen bake.",
        "<p>You need:</p><ol><li>1. Flour</li></ol><p>Then bake.</p>",
        # Sentences, lower case, too long, or nothing after it.
        "Lead.\n\n1. The vote was held on Monday.\n\nBody.",
        "Lead.\n\n2. then we left\n\nBody.",
        "Lead.\n\n3. " + "Long " * 30 + "\n\nBody.",
        "Lead.\n\n4. Last line",
        # Numbers that are not headings at all.
        "Lead.\n\n12 people were hurt\n\nBody.",
        "Lead.\n\n2024 Was a year\n\nBody.",
    ],
)
def test_numbered_lines_that_are_not_headings(text: str) -> None:
    assert headings(split_sections(text)) == [None]


def test_a_heading_without_paragraphs_is_kept_and_an_empty_lead_is_not() -> None:
    sections = split_sections("<h2>One</h2><h2>Two</h2><p>Body.</p><h3></h3>")
    assert sections == (Section("One", ()), Section("Two", ("Body.",)))


# --- paragraphs ---------------------------------------------------------------


def test_paragraph_text_is_plain() -> None:
    html_text = (
        "<div>Top  text\n  <a href='x'>link</a>&nbsp;<em>here</em></div>"
        "<p>AT&amp;T &lt;b&gt; caf&eacute; &#8217;q&#x2019;</p>"
        "<p>line one<br/>line two</p>"
        "<ul><li>item one</li><li>item <b>two</b></li></ul>"
        "<table><tr><td>cell</td></tr></table>"
    )
    assert all_paragraphs(split_sections(html_text)) == [
        "Top text link here",
        "AT&T <b> café ’q’",
        "line one",
        "line two",
        "item one",
        "item two",
        "cell",
    ]


def test_plain_text_entities_are_decoded() -> None:
    assert split_sections("AT&amp;T and a < b") == (Section(None, ("AT&T and a < b",)),)


def test_script_and_style_are_not_text() -> None:
    html_text = "<style>p {}</style><p>Shown.</p><script>var hidden = 1;</script>"
    assert all_paragraphs(split_sections(html_text)) == ["Shown."]


@pytest.mark.parametrize(
    "html_text",
    ["<p>a</p><![foo bar]>x", "<![ x]><p>a</p>x", "<p>a</p><![CDATA[ hidden ]]>x"],
)
def test_marked_sections_that_python_chokes_on_are_skipped(html_text: str) -> None:
    assert all_paragraphs(split_sections(html_text)) == ["a", "x"]


def test_unclosed_heading_does_not_swallow_the_body() -> None:
    assert split_sections("<h2>Head<p>Body.</p><p>More.</p>") == (
        Section("Head", ("Body.", "More.")),
    )


def test_a_line_break_inside_a_heading_is_a_space() -> None:
    assert headings(split_sections("<h2>Two<br>lines</h2><p>x</p>")) == ["Two lines"]


@pytest.mark.parametrize("text", ["", "   ", "<p></p>", "<p> &nbsp; </p><br>", "<!-- c -->"])
def test_no_text_gives_no_sections(text: str) -> None:
    assert split_sections(text) == ()


# --- boilerplate --------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Read more",
        "Read More @ euromaidanpress.com",
        "Read more: the earlier story",
        "Read the full story at the BBC",
        "The post Troops in Ukraine appeared first on Example News.",
        "Share this:",
        "Share on Facebook",
        "Subscribe to our newsletter",
        "Sign up for the morning briefing",
        "Get our newsletter delivered to your inbox",
        "Photo: Reuters",
        "Photo by Jane Doe/AP",
        "Image credit: NASA",
        "(Photo: AP)",
        "Pictured: the mayor at the opening",
        "Jane Doe/Getty Images",
        "John Smith / AFP via Getty Images",
        "© Reuters 2024",
        "Continue reading →",
        "Keep reading",
        "[…]",
        "(more…)",
        "Click here to read the report",
        "Share via Email",
        "Facebook Twitter Email",
        "Share Tweet WhatsApp Copy link",
        "Follow us on Telegram",
        "Get the best stories delivered straight to your inbox every morning",
        "Enter your email address",
        "Download our app",
        "Advertisement",
        "ADVERTISEMENT",
        "Scroll down for video",
    ],
)
def test_boilerplate_paragraphs_are_dropped(line: str) -> None:
    assert is_boilerplate(line)
    assert split_sections(f"<p>Body.</p><p>{html.escape(line)}</p>") == (Section(None, ("Body.",)),)


@pytest.mark.parametrize(
    "line",
    [
        "Read more than 200 pages of documents, the committee said.",
        "Subscribers were told to wait.",
        "Sharing intelligence is the core of the deal.",
        "Photographers gathered outside the ministry.",
        "Read more: " + " ".join(["a long paragraph that only starts like a prompt"] * 6),
        "Facebook shares fell after the report.",
        "Pictures of the flood spread online.",
        "The minister resigned, Reuters reported.",
        "Sources said the talks would resume.",
        "Clicking through the report takes hours.",
    ],
)
def test_prose_that_starts_like_boilerplate_is_kept(line: str) -> None:
    assert not is_boilerplate(line)
    assert all_paragraphs(split_sections(f"<p>{html.escape(line)}</p>")) == [line]


def test_captions_and_page_furniture_are_not_text() -> None:
    html_text = (
        "<html><head><title>Site - Story</title></head><body>"
        "<nav><a href='/'>Home</a> World</nav>"
        "<p>Body one.</p>"
        "<figure><img src='x.jpg'><figcaption>The mayor, pictured on Monday. "
        "Photo: AP</figcaption></figure>"
        "<aside><p>Most popular: another story</p></aside>"
        "<p>Body two.</p>"
        "<form><button>Subscribe</button></form><footer>© Site 2024</footer>"
        "</body></html>"
    )
    assert split_sections(html_text) == (Section(None, ("Body one.", "Body two.")),)


def test_lists_of_links_are_dropped_and_lists_of_text_kept() -> None:
    html_text = (
        "<p>Body.</p>"
        "<ul><li><a href='/a'>Another story</a></li><li><a href='/b'>And another</a></li></ul>"
        "<ul><li>A point with a <a href='/c'>link</a> in it</li></ul>"
    )
    assert all_paragraphs(split_sections(html_text)) == ["Body.", "A point with a link in it"]


@pytest.mark.parametrize(
    "heading",
    ["Related", "Related stories:", "Read also", "More on this story", "Most read", "See also"],
)
def test_sections_of_other_stories_are_dropped_heading_and_all(heading: str) -> None:
    html_text = (
        f"<p>Body.</p><h2>Next part</h2><p>More.</p><h3>{heading}</h3>"
        "<p>Headline of another story</p><p>And another</p><h2>After</h2><p>Kept.</p>"
    )
    assert split_sections(html_text) == (
        Section(None, ("Body.",)),
        Section("Next part", ("More.",)),
        Section("After", ("Kept.",)),
    )


@pytest.mark.parametrize(
    "heading", ["Related party transactions", "Read also the fine print", "Seeing also"]
)
def test_headings_that_only_start_like_related_links_are_content(heading: str) -> None:
    assert not is_boilerplate_heading(heading)


# --- properties ---------------------------------------------------------------

# Visible text without control characters; whitespace is collapsed below, as
# the splitter promises to do.  Not boilerplate, not a "Related" heading, and
# not starting like a numbered heading ("1. Title"), which the splitter is
# meant to treat differently.
paragraph_text = (
    st.text(
        st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn")),
        min_size=1,
        max_size=80,
    )
    .map(lambda text: " ".join(text.split()))
    .filter(
        lambda text: (
            bool(text)
            and not is_boilerplate(text)
            and not is_boilerplate_heading(text)
            and not re.match(r"[\dIVX]", text)
        )
    )
)


@given(st.lists(paragraph_text, min_size=1, max_size=8))
def test_paragraphs_come_back_exactly_once_in_order(paragraphs: list[str]) -> None:
    html_text = "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)
    assert split_sections(html_text) == (Section(None, tuple(paragraphs)),)


@given(st.lists(st.tuples(st.booleans(), paragraph_text), min_size=1, max_size=10))
def test_headings_and_paragraphs_come_back_in_order(parts: list[tuple[bool, str]]) -> None:
    html_text = "".join(
        f"<h2>{html.escape(text)}</h2>" if is_heading else f"<p>{html.escape(text)}</p>"
        for is_heading, text in parts
    )
    sections = split_sections(html_text)
    flattened: list[tuple[bool, str]] = []
    for section in sections:
        if section.heading is not None:
            flattened.append((True, section.heading))
        flattened.extend((False, p) for p in section.paragraphs)
    assert flattened == parts


markup_pieces = st.sampled_from(
    [
        *"<>/![]-&#;= \n\"'abhlpr12*",
        *("<p>", "</p>", "<h2>", "</h2>", "<b>", "</b>", "<br>"),
        *("<!--", "<![", "<![CDATA[", "<![if ", "<!doctype ", "<?"),
    ]
)


@given(st.lists(markup_pieces, max_size=40).map("".join))
def test_odd_markup_never_raises(text: str) -> None:
    sections = split_sections(text)
    assert all(isinstance(s, Section) for s in sections)
    assert all(p == " ".join(p.split()) and p for p in all_paragraphs(sections))


# --- the fast path for regular HTML --------------------------------------------

# split_sections reads the sanitizer's regular HTML with one regex instead of
# html.parser; the sections must be the same for every input, which these
# compare.  SECTIONS_EXAMPLES raises the number of generated documents (say
# 20000) for a thorough run.
_EXAMPLES = int(os.environ.get("SECTIONS_EXAMPLES", "100"))
_BASE_URL = "https://example.com/news/"


class _Recorder(_HTMLSplitter):
    """The handler calls made, text between two tags merged into one call, as
    the splitter only joins it (html.parser cuts it at a lone "<")."""

    def __init__(self) -> None:
        super().__init__(_SectionBuilder())
        self.calls: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.calls.append(("start", tag))

    def handle_endtag(self, tag: str) -> None:
        self.calls.append(("end", tag))

    def handle_data(self, data: str) -> None:
        if self.calls and self.calls[-1][0] == "data":
            data = self.calls.pop()[1] + data
        self.calls.append(("data", data))


def _assert_fast_path_as_html_parser(html_text: str) -> bool:
    """Same sections both ways, and the same handler calls where the fast
    path takes the HTML; whether it did."""
    assert _split(html_text, fast=True) == _split(html_text, fast=False)
    fast = _Recorder()
    if not _feed_regular_html(html_text, fast):
        assert fast.calls == []  # nothing called before giving up
        return False
    slow = _Recorder()
    slow.feed(html_text)
    slow.close()
    assert fast.calls == slow.calls
    return True


@pytest.mark.parametrize(
    "html_text",
    [
        "<p>AT&amp;T &lt;b&gt; &quot;q&quot; &#39;s&#39; a&nbsp;b caf&eacute;</p>",
        # "&" rules at the end of the input, and bare or unfinished references
        "<p>a</p>AT&T",
        "<p>a</p>x &amp",
        "<p>a</p>x &#",
        "<p>a</p>x &#x27",
        "<p>a</p>&",
        "<p>x & y</p>a &ampnbsp; &notit; &#1; &#0;",
        # tags written in every way html.parser reads alike
        "<P>Up</P><H2 CLASS=x>Head</H2><p>b</p>",
        "<p>line<br>two<br/>three<br />four<p/>five</p>",
        "<p><a href=\"/a?x=1&amp;y=2\" title='it&#39;s > 1'>link</a> text</p>",
        '<p><a title="a<b" rel=nofollow>t</a></p><p class = "x" hidden>b</p>',
        "<p>\n<strong\n>Head</strong></p>\n<p\r\n\tclass\f=\n'x'\n/>Body.</p>",
        "<h2>Two<br>lines</h2><p>x</p><ul><li><a href=x>Link</a></li></ul>",
    ],
)
def test_regular_html_takes_the_fast_path(html_text: str) -> None:
    assert _assert_fast_path_as_html_parser(html_text)
    assert _assert_fast_path_as_html_parser(sanitize_html(html_text, _BASE_URL))


@pytest.mark.parametrize(
    "html_text",
    [
        # near misses of a regular tag, where html.parser's rules get intricate
        "<img src=x/><p>a</p>",
        "<p a='x'b>text</p>",
        "<p\vclass=x>text</p>",
        "<p\xa0class=x>text</p>",
        "<p a=b\u2003c>text</p>",
        "<p>a</p></ p><p>b</p >",
        "<p>a</p></>",
        "<p>a</p><p>unclosed <b",
        '<p>a</p><a href="x>b</a>',
        # a lone "<", comments and declarations, elements of raw text
        "<p>a < b</p>",
        "<p>a <3</p>",
        "<p>a</p><",
        "<p>a</p><!-- c --><p>b</p>",
        "<p>a</p><!doctype html><p>b</p>",
        "<?xml version='1.0'?><p>a</p>",
        "<script>x</script><p>a</p>",
        "<p>a</p><textarea><p>b</textarea><title>t</title>",
    ],
)
def test_irregular_html_goes_to_html_parser(html_text: str) -> None:
    assert not _assert_fast_path_as_html_parser(html_text)
    assert _assert_fast_path_as_html_parser(sanitize_html(html_text, _BASE_URL))


def test_sanitized_html_takes_the_fast_path() -> None:
    html_text = (
        "<h2 id=top>Head &amp; more</h2><p class='lead'>Lead <b>bold</b>,<br/>"
        '<a href="/x?a=1&b=2" onclick="f()">link</a> &nbsp;&#8217;s</p>'
        "<figure><img src=a.jpg><figcaption>Photo: AP</figcaption></figure>"
        "<ul><li>One</li><li>Two</ul><!-- gone --><script>gone()</script><p>a < b"
    )
    sanitized = sanitize_html(html_text, _BASE_URL)
    assert _assert_fast_path_as_html_parser(sanitized)
    assert _assert_fast_path_as_html_parser(seed_html())
    assert not _assert_fast_path_as_html_parser(html_text)


def _repository_texts() -> list[str]:
    """The repository's articles and test data: whole files, and every string
    of the JSON files (the expected items of the parser tests hold HTML)."""
    texts = []
    files = [*ROOT.glob("seeds/*.txt"), *(ROOT / "tests" / "data").rglob("*")]
    for path in sorted(files):
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        texts.append(text)
        if path.suffix == ".json":
            texts.extend(_json_strings(json.loads(text)))
    return texts


def _json_strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        value = list(value.values())
    if isinstance(value, list):
        return [text for item in value for text in _json_strings(item)]
    return []


def test_the_fast_path_changes_nothing_on_the_repository_data() -> None:
    texts = _repository_texts()
    assert len(texts) > 20
    taken = 0
    for text in texts:
        taken += _assert_fast_path_as_html_parser(text)
        taken += _assert_fast_path_as_html_parser(sanitize_html(text, _BASE_URL))
    assert taken > 20


_EVAL = ROOT.parent / "shared" / "eval" / "summaries-dev.jsonl"


@pytest.mark.skipif(not _EVAL.exists(), reason="no evaluation articles")
def test_the_fast_path_changes_nothing_on_real_articles() -> None:
    for line in _EVAL.read_text(encoding="utf-8").splitlines():
        article = json.loads(line)["article"]
        sentences = re.split(r"(?<=[.!?])\s+", article)
        paragraphs = [" ".join(sentences[i : i + 3]) for i in range(0, len(sentences), 3)]
        as_html = "\n".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
        assert _assert_fast_path_as_html_parser(sanitize_html(as_html, _BASE_URL))
        _assert_fast_path_as_html_parser(as_html)


# Generated HTML: the sanitizer's tags and others, attributes written every
# way, entities, lone "<" and "&", tags left open, closed out of order or
# never, comments and declarations.  Most such documents go to html.parser
# (and their sanitized HTML to the fast path), so regular documents, made of
# only what the fast path reads but in all its forms, are generated too.
_TEXT_PIECES = [
    "Word", "two words", "Head", "Body text.", "1. Background", "Read more", "Related",
    " ", "  ", "\n", "\t", "\r\n", "\xa0", "\u2003", "\v", "\x00",
    "&amp;", "&#39;", "&nbsp;", "&lt;", "&gt;", "&quot;", "&eacute;", "&#8217;", "&#x2019;",
    "&", "&amp", "&#", "&#x", "&#39", "&ampx;", "&notit;", "&#1;", "&#0;", "& ", "&;",
    "<", "< ", "<3", "a<b", ">", '"', "'", "=", "/",
]  # fmt: skip
_TAG_NAMES = [
    "p", "h2", "h3", "strong", "b", "a", "em", "ul", "ol", "li", "blockquote", "figure",
    "figcaption", "aside", "div", "br", "img", "P", "H2", "Strong", "LI",
]  # fmt: skip
_ODD_TAG_NAMES = ["script", "style", "title", "textarea", "h2:x", "x-y"]
_SPACES = [" ", "  ", "\n", "\t", "\f", "\r\n"]
_ODD_SPACES = ["\v", "\xa0", "/", " / ", ""]
_ATTRIBUTE_NAMES = ["href", "class", "title", "HREF", "data-x", "x:y", "a.b", "_u"]
_ODD_ATTRIBUTE_NAMES = ["=x", "'q", '"q', "<a"]
_ATTRIBUTE_VALUES = ["", "x", "a b", "a>b", "<p>", "</p>", "&amp;", "&quot;", "&", "=", "`"]
_BARE_VALUES = ["x", "1", "a.b", "a&amp;b", "&", "#x"]
_ODD_BARE_VALUES = ["", "/", "x/", "a\xa0b", "a>b", "'", "=", "`"]
_ODD_MARKUP = [
    "<!-- c -->", "<!--", "<!doctype html>", "<?php x ?>", "<![CDATA[x]]>", "<![if x]>",
    "</>", "</ p>", "</3>", "<a", "</", "<!", "<?",
]  # fmt: skip


def _choice(regular: bool, common: list[str], odd: list[str]) -> st.SearchStrategy[str]:
    return st.sampled_from(common if regular else common + odd)


@st.composite
def _texts(draw: st.DrawFn, regular: bool) -> str:
    pieces = [p for p in _TEXT_PIECES if not regular or "<" not in p]
    return "".join(draw(st.lists(st.sampled_from(pieces), min_size=1, max_size=4)))


@st.composite
def _attributes(draw: st.DrawFn, regular: bool) -> str:
    space = draw(_choice(regular, _SPACES, _ODD_SPACES))
    name = draw(_choice(regular, _ATTRIBUTE_NAMES, _ODD_ATTRIBUTE_NAMES))
    form = draw(
        st.sampled_from(["none", "double", "single", "bare", *([] if regular else ["unclosed"])])
    )
    if form == "none":
        return space + name
    value = draw(st.sampled_from(_ATTRIBUTE_VALUES))
    quoted = {
        "double": '"' + value.replace('"', "") + '"',
        "single": "'" + value.replace("'", "") + "'",
        "bare": draw(_choice(regular, _BARE_VALUES, _ODD_BARE_VALUES)),
        "unclosed": '"' + value,
    }[form]
    equals = draw(_choice(regular, ["=", " = ", "\n=\t"], ["==", "\v=", "=\xa0"]))
    return space + name + equals + quoted


@st.composite
def _start_tags(draw: st.DrawFn, regular: bool, name: str | None = None) -> str:
    name = name or draw(_choice(regular, _TAG_NAMES, _ODD_TAG_NAMES))
    attributes = "".join(draw(st.lists(_attributes(regular), max_size=3)))
    end = draw(_choice(regular, [">", ">", ">", "/>", " />", " >", "\n>"], ["", "/ >"]))
    return f"<{name}{attributes}{end}"


@st.composite
def _end_tags(draw: st.DrawFn, regular: bool, name: str | None = None) -> str:
    name = name or draw(_choice(regular, _TAG_NAMES, _ODD_TAG_NAMES))
    end = draw(_choice(regular, [">"], [" >", "\n>", " x>", "/>", ""]))
    return f"</{name}{end}"


@st.composite
def _elements(draw: st.DrawFn, children: st.SearchStrategy[str], regular: bool) -> str:
    name = draw(_choice(regular, _TAG_NAMES, _ODD_TAG_NAMES))
    content = "".join(draw(st.lists(children, max_size=4)))
    # Mostly closed as opened; sometimes by another tag, or never.
    end = draw(st.sampled_from([name, name, name, None, ""]))
    closing = draw(_end_tags(regular, end)) if end != "" else ""
    return draw(_start_tags(regular, name)) + content + closing


def _documents(regular: bool) -> st.SearchStrategy[str]:
    leaves = [_texts(regular), _texts(regular), _start_tags(regular), _end_tags(regular)]
    if not regular:
        leaves.append(st.sampled_from(_ODD_MARKUP))
    fragments = st.recursive(
        st.one_of(leaves), lambda children: _elements(children, regular), max_leaves=24
    )
    return st.lists(fragments, min_size=1, max_size=6).map("".join)


@settings(max_examples=_EXAMPLES, deadline=None)
@given(st.one_of(_documents(regular=True), _documents(regular=False)))
def test_the_fast_path_reads_generated_html_as_html_parser_does(html_text: str) -> None:
    # --hypothesis-show-statistics tells how often each path was taken.
    event(f"raw HTML on the fast path: {_assert_fast_path_as_html_parser(html_text)}")
    sanitized = sanitize_html(html_text, _BASE_URL)
    event(f"sanitized on the fast path: {_assert_fast_path_as_html_parser(sanitized)}")


def test_only_spaces_and_non_printable_characters_are_whitespace() -> None:
    # What _collapse relies on to skip the split for text collapsed already.
    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    assert [c for c in spaces if c != " " and c.isprintable()] == []


@settings(max_examples=_EXAMPLES, deadline=None)
@given(st.text(st.sampled_from("ab .\n\t\r\v\x1f\x85\xa0\u2003\u2028\u3000\u200b"), max_size=12))
def test_collapse_is_split_and_join(text: str) -> None:
    assert _collapse(text) == " ".join(text.split())


_BOILERPLATE_PIECES = [
    "Read more", "Photo", ": ", "share", " on ", "Facebook", "Twitter", "/", "AFP",
    "via ", "Getty Images", "newsletter", " sign up", "…", "(", ")", "x", " ", "©",
]  # fmt: skip


@settings(max_examples=_EXAMPLES, deadline=None)
@given(st.lists(st.sampled_from(_BOILERPLATE_PIECES), max_size=8).map("".join))
def test_the_boilerplate_regex_is_any_of_its_patterns(text: str) -> None:
    expected = any(re.fullmatch(p, text.strip(), re.IGNORECASE) for p in _BOILERPLATE_PATTERNS)
    assert is_boilerplate(text) == expected


@settings(max_examples=_EXAMPLES, deadline=None)
@given(st.text(st.sampled_from("<<>/=\"' abp2\t\n\v\xa0&#;!-?"), max_size=30))
def test_the_fast_path_reads_markup_soup_as_html_parser_does(html_text: str) -> None:
    _assert_fast_path_as_html_parser(html_text)
