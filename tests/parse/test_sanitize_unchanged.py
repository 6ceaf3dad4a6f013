"""HTML that nh3 gives back unchanged does not go through it: the same result either way."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.parse import normalize
from aggregator.parse.normalize import sanitize_html

BASE = "https://example.com/news/"
# Pieces of HTML, what the fast path takes among them and what it must not.
PIECES = [
    *("<p>", "</p>", "<h2>", "</h2>", "<h1>", "</h6>", "<h6>", "<P>", "<p >", "<p/>", "</p >"),
    *("<br>", "<b>", "</b>", "<a href='story'>", "</a>", "<img src=/a.png>", "<pre>", "</pre>"),
    *("<!--", "-->", "<![CDATA[", "]]>", "<script>", "</script>", "<textarea>", "<?", "?>"),
    *("a", "b c", " ", "\n", "\t", "  ", "\r", "\r\n", "\x00", "\xa0", "\ufeff", "\u200b"),
    *("&", "&amp;", "&#x27;", "&nbsp;", "<", ">", '"', "'", "=", "/", "é", "€", "日本"),
    *("\U0001f600", "\u2028", "\ufdd0", "\x0c", "\x01", "\x85", "\u202e", "\u201c", "\u2014"),
]


def through_nh3(fragment: str) -> str:
    fast = normalize._UNCHANGED_CHECKED
    normalize._UNCHANGED_CHECKED = False
    try:
        return sanitize_html(fragment, BASE)
    finally:
        normalize._UNCHANGED_CHECKED = fast


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=16).map("".join))
def test_any_fragment_is_sanitized_as_by_nh3(fragment: str) -> None:
    assert sanitize_html(fragment, BASE) == through_nh3(fragment)


@settings(max_examples=1000, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["p", "h2", "h1", "h6", ""]),
            st.lists(st.sampled_from(PIECES[30:]), max_size=10).map("".join),
        ),
        max_size=8,
    ),
    st.sampled_from(["", "\n", " ", "\n\n"]),
)
def test_paragraphs_are_sanitized_as_by_nh3(blocks: list[tuple[str, str]], between: str) -> None:
    fragment = between.join(f"<{tag}>{text}</{tag}>" if tag else text for tag, text in blocks)
    assert sanitize_html(fragment, BASE) == through_nh3(fragment)


@pytest.mark.parametrize(
    "fragment",
    [
        "",
        "Plain text, \u201cquoted\u201d \u2014 it's all.",
        "<p>One paragraph.</p>\n<p>Another, with\ta tab.</p>",
        "  <h2>A heading</h2>\n<p>Text</p>  ",
        "<p>" + "word " * 30_000 + "</p>",  # cut at MAX_HTML_CHARS: nh3 closes the paragraph
        "<p>x</p>" * 300,  # more tags than MAX_DEPTH, none nested
        "\x00<p>controls\x07 go first</p>",
    ],
)
def test_plain_html_is_given_back_as_nh3_would(fragment: str) -> None:
    assert normalize._UNCHANGED_CHECKED  # this nh3 gives such HTML back unchanged
    assert sanitize_html(fragment, BASE) == through_nh3(fragment)
