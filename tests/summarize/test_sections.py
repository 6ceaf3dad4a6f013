"""split_sections: headings, paragraphs, boilerplate, and no text lost."""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from aggregator.models import Section
from aggregator.summarize import split_sections
from aggregator.summarize.sections import is_boilerplate, is_boilerplate_heading

from .seed import SEED_HEADINGS, SEED_LEAD, seed_html, seed_text


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
