"""read_opml: which outlines are feeds, and which folder each is in."""

from __future__ import annotations

import pytest

from aggregator.errors import ParseError
from aggregator.parse.opml import Skipped, Subscription, read_opml
from aggregator.parse.xmlguard import MAX_DEPTH


def test_the_innermost_folder_is_the_feeds_and_url_is_read_as_xmlurl() -> None:
    body = b"""\xef\xbb\xbf  <?xml version="1.0" encoding="utf-8"?>
<opml version="2.0"><head/><body>
  <outline title="Outer">
    <outline text="  Inner   folder ">
      <outline text="A" xmlUrl=" https://a.example/feed "/></outline>
    <outline text="B" url="http://b.example/rss" type="rss"/>
  </outline>
  <outline title="Only a title" xmlUrl="https://c.example/" category="x/y, /z"/>
  <outline text="Paused" xmlns:m="https://miniflux.app/opml" m:disabled="1"
           xmlUrl="https://d.example/"/>
</body></opml>"""

    found, skipped = read_opml(body, "list.opml")

    assert found == [
        Subscription("A", "https://a.example/feed", "Inner folder"),
        Subscription("B", "http://b.example/rss", "Outer"),
        Subscription("Only a title", "https://c.example/", "y"),
        Subscription("Paused", "https://d.example/", None, enabled=False),
    ]
    assert skipped == []


def test_an_outline_with_a_url_urllib_cannot_split_is_skipped_not_raised() -> None:
    body = b"""<opml version="2.0"><body>
  <outline text="v6" xmlUrl="http://[::1"/>
  <outline text="Good" xmlUrl="https://good.example/feed"/>
</body></opml>"""

    found, skipped = read_opml(body, "list.opml")

    assert found == [Subscription("Good", "https://good.example/feed", None)]
    assert skipped == [Skipped("v6", "not a valid URL: Invalid IPv6 URL")]


def test_an_untitled_outline_skipped_is_shown_without_its_credentials() -> None:
    body = b"""<opml version="2.0"><body>
  <outline xmlUrl="http://reader:hunter22@[::1/feed?token=s3cr3t"/>
  <outline xmlUrl="https://reader:hunter22@host.example/x" type="link"/>
</body></opml>"""

    _found, skipped = read_opml(body, "list.opml")

    assert len(skipped) == 2
    for outline in skipped:
        shown = f"{outline.title}: {outline.reason}"
        assert "hunter22" not in shown and "s3cr3t" not in shown, shown
    assert skipped[1].title == "https://host.example/x"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"", "not well-formed XML"),
        (b"<html><body></body></html>", "its root is <html>"),
        (b"<opml version='2.0'><head/></opml>", "it has no <body>"),
        (b"<opml><body>" + b"<outline>" * (MAX_DEPTH + 5), "deep"),
    ],
)
def test_what_is_no_opml_document_is_one_parse_error(body: bytes, message: str) -> None:
    with pytest.raises(ParseError) as raised:
        read_opml(body, "list.opml")
    assert str(raised.value).startswith("list.opml: ")
    assert message in str(raised.value) and "\n" not in str(raised.value)
