"""The OPML subscription list: parses back, escapes, groups by section, is deterministic."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.publish.opml import OpmlSource, render_opml

SOURCES = [
    OpmlSource("Example News", "World", "https://example.com/feed.xml", "https://example.com/"),
    OpmlSource("Gadgets", "Tech", "https://gadgets.example/atom", None),
    OpmlSource("Seed article", "World", None, None),  # a local file: nothing to subscribe to
    OpmlSource("Other Wire", "World", "https://wire.example.net/rss", "https://wire.example.net/"),
    OpmlSource("Notes", "Local only", None, "https://notes.example/"),
]


def parse(document: bytes) -> ET.Element:
    assert document.startswith(b"<?xml version='1.0' encoding='utf-8'?>")
    return ET.fromstring(document)


def test_structure_groups_sources_by_section_in_first_seen_order() -> None:
    root = parse(render_opml(SOURCES, title="Morning Digest"))
    assert root.tag == "opml" and root.get("version") == "2.0"
    assert root.findtext("head/title") == "Morning Digest"
    assert root.find("head/dateCreated") is None
    sections = root.findall("body/outline")
    # "Local only" has no subscribable source, so it is left out entirely.
    assert [(s.get("text"), s.get("title")) for s in sections] == [
        ("World", "World"),
        ("Tech", "Tech"),
    ]
    world = [dict(o.attrib) for o in sections[0].findall("outline")]
    assert world == [
        {
            "type": "rss",
            "text": "Example News",
            "title": "Example News",
            "xmlUrl": "https://example.com/feed.xml",
            "htmlUrl": "https://example.com/",
        },
        {
            "type": "rss",
            "text": "Other Wire",
            "title": "Other Wire",
            "xmlUrl": "https://wire.example.net/rss",
            "htmlUrl": "https://wire.example.net/",
        },
    ]
    (gadgets,) = sections[1].findall("outline")
    assert gadgets.get("xmlUrl") == "https://gadgets.example/atom"
    assert "htmlUrl" not in gadgets.attrib


def test_markup_characters_are_escaped_and_round_trip() -> None:
    tricky = "A & B <\"quoted\"> 'single'"
    url = 'https://example.com/feed?a=1&b=<2>&c="3"'
    document = render_opml(
        [OpmlSource(tricky, "R&D <lab>", url, url)], title='Digest & "friends" <x>'
    )
    assert b"<lab>" not in document and b'"quoted"' not in document
    root = parse(document)
    assert root.findtext("head/title") == 'Digest & "friends" <x>'
    (section,) = root.findall("body/outline")
    assert section.get("text") == "R&D <lab>"
    (source,) = section.findall("outline")
    assert source.get("text") == source.get("title") == tricky
    assert source.get("xmlUrl") == source.get("htmlUrl") == url


def test_characters_xml_cannot_carry_are_dropped() -> None:
    root = parse(render_opml([OpmlSource("bell\x07 é 🚀", "S", "https://x/", None)], title="t"))
    assert root.find("body/outline/outline").get("text") == "bell é 🚀"  # type: ignore[union-attr]


def test_same_sources_give_same_bytes() -> None:
    assert render_opml(SOURCES, title="t") == render_opml(list(SOURCES), title="t")


def test_no_subscribable_sources_gives_an_empty_body() -> None:
    root = parse(render_opml([OpmlSource("local", "S", None, None)], title="t"))
    body = root.find("body")
    assert body is not None and list(body) == []


# The lines as ElementTree wrote them before the document was written line by
# line: the reference the rendering must match byte for byte.
def _element_tree_rendering(sources: list[OpmlSource], title: str) -> bytes:
    from aggregator.redact import redact_url

    def xml(text: str) -> str:
        return "".join(c for c in text if _XML_CHAR.fullmatch(c))

    sections: dict[str, list[OpmlSource]] = {}
    for source in sources:
        if source.xml_url:
            sections.setdefault(source.section, []).append(source)
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = xml(title)
    body = ET.SubElement(root, "body")
    for section, members in sections.items():
        group = ET.SubElement(body, "outline", text=xml(section), title=xml(section))
        for source in members:
            attributes = {
                "type": "rss",
                "text": xml(source.name),
                "title": xml(source.name),
                "xmlUrl": xml(redact_url(source.xml_url or "")),
            }
            if source.html_url:
                attributes["htmlUrl"] = xml(redact_url(source.html_url))
            ET.SubElement(group, "outline", attributes)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


_XML_CHAR = re.compile("[\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
# Markup, quotes, line ends and tabs, characters XML cannot carry, non-ASCII.
_HOSTILE = st.text(alphabet=st.sampled_from("ab &<>\"'\r\n\t\x07\x00é🚀\ud800\ufffe]>;=:/?@"))
_URL = st.one_of(st.none(), st.just(""), _HOSTILE, st.just("https://user:pw@x.example/f?a=1&b=2"))


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.builds(
            OpmlSource, _HOSTILE, st.sampled_from(["A", "B & C", "<s>"]) | _HOSTILE, _URL, _URL
        ),
        max_size=6,
    ),
    _HOSTILE,
)
def test_bytes_are_those_elementtree_wrote(sources: list[OpmlSource], title: str) -> None:
    assert render_opml(sources, title=title) == _element_tree_rendering(sources, title)


def test_sources_may_come_from_a_generator() -> None:
    assert render_opml((s for s in SOURCES), title="t") == render_opml(SOURCES, title="t")
