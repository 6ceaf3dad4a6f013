"""The OPML subscription list: parses back, escapes, groups by section, is deterministic."""

from __future__ import annotations

import xml.etree.ElementTree as ET

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
