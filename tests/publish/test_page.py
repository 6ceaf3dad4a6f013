from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

from aggregator.models import SectionSummary, Summary
from aggregator.publish import render_page
from tests.publish.golden import assert_golden
from tests.publish.sample import ENTRIES, LOCAL, MERGED, META

_VOID = {"meta", "link", "br", "img", "hr", "input"}


class _Outline(HTMLParser):
    """Collects what the tests look at, and checks that tags nest properly."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.alternates: list[tuple[str, str]] = []
        self.section_ids: list[str] = []
        self.hrefs: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        self.tags.add(tag)
        if tag == "link" and values.get("rel") == "alternate":
            self.alternates.append((values["type"], values["href"]))
        if tag == "section":
            self.section_ids.append(values["id"])
        if tag == "a":
            self.hrefs.append(values["href"])
        if tag not in _VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()


def _outline(html: bytes) -> _Outline:
    parser = _Outline()
    parser.feed(html.decode("utf-8"))
    parser.close()
    assert parser.open == []
    return parser


def test_golden() -> None:
    assert_golden("expected.html", render_page(ENTRIES, META))


def test_rendering_is_byte_identical() -> None:
    assert render_page(ENTRIES, META) == render_page(list(ENTRIES), META)


def test_autodiscovery_links_for_every_feed_and_section() -> None:
    outline = _outline(render_page(ENTRIES, META))
    assert outline.alternates == [
        ("application/atom+xml", "feed.atom"),
        ("application/rss+xml", "feed.rss"),
        ("application/feed+json", "feed.json"),
        *[
            (media_type, f"sections/{slug}.{extension}")
            for slug in ("world", "tech-science", "empty")
            for media_type, extension in (
                ("application/atom+xml", "atom"),
                ("application/rss+xml", "rss"),
                ("application/feed+json", "json"),
            )
        ],
    ]


def test_sections_in_configured_order_then_others_and_empty_ones_left_out() -> None:
    extra = dataclasses.replace(LOCAL, id="urn:x", section="Aardvarks")
    outline = _outline(render_page([*ENTRIES, extra], META))
    assert outline.section_ids == [
        "section-world",
        "section-tech-science",
        "section-aardvarks",
    ]


def test_no_script_and_text_is_escaped() -> None:
    html = render_page(ENTRIES, META).decode()
    outline = _outline(render_page(ENTRIES, META))
    assert "script" not in outline.tags
    assert "<als>" not in html and "<vorläufig>" not in html
    assert "Größer &lt;als&gt; 5 &amp;" in html


def test_unsafe_entry_link_is_not_clickable() -> None:
    hostile = dataclasses.replace(MERGED, link="javascript:alert(1)")
    outline = _outline(render_page([hostile], META))
    assert not [href for href in outline.hrefs if "javascript" in href]


def test_empty_page() -> None:
    html = render_page([], META).decode()
    assert "No entries yet." in html
    assert "Last updated" not in html
    _outline(render_page([], META))


def test_no_control_or_bidi_character_reaches_the_page() -> None:
    # Entries stored before sources' text was cleaned on the way in, and
    # settings, can still hold them.
    invisible = "\x01\x08\x0b\x1b\x7f\x85\x9f\u202a\u202e\u2066\u2069"
    summary = Summary((SectionSummary(f"Head{invisible}ing", (f"A sen{invisible}tence.",)),))
    hostile = dataclasses.replace(
        MERGED, title=f"Ti{invisible}tle", author=f"Au{invisible}thor", summary=summary
    )
    meta = dataclasses.replace(META, title=f"Di{invisible}gest")
    html = render_page([hostile], meta).decode()
    assert not any(character in html for character in invisible)
    assert "Title" in html and "Heading" in html and "A sentence." in html
    assert "<title>Digest</title>" in html
