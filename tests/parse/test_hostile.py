"""The parser on hostile bytes, one case at a time (the whole pass: tests/hostile)."""

from __future__ import annotations

import time

import pytest

from aggregator.errors import ParseError
from aggregator.models import Document, ParsedFeed
from aggregator.parse import parse_document
from aggregator.parse.normalize import (
    MAX_HTML_CHARS,
    absolute_url,
    nesting_depth,
    plain_text,
    sanitize_html,
)
from aggregator.parse.xmlguard import MAX_DEPTH, MAX_EXPANSION, prepare_xml
from tests.hostile import corpus


def parse(body: bytes, content_type: str | None = "application/xml", **options: int) -> ParsedFeed:
    document = Document("https://hostile.example/feed", body, content_type)
    return parse_document(document, "src", local=False, **options)


def refused(body: bytes, content_type: str | None = "application/xml") -> str:
    with pytest.raises(ParseError) as caught:
        parse(body, content_type)
    assert caught.value.source == "src"
    return str(caught.value)


# -- entities and DTDs -----------------------------------------------------------


@pytest.mark.parametrize("one_line", [False, True])
def test_billion_laughs_is_refused_at_once(one_line: bool) -> None:
    started = time.monotonic()
    assert "refers to entity 'lol' (nested)" in refused(corpus.billion_laughs(one_line))
    assert time.monotonic() - started < 1


def test_quadratic_blowup_is_refused() -> None:
    assert f"more than {MAX_EXPANSION} characters" in refused(corpus.quadratic_blowup())


def test_a_long_entity_value_is_refused() -> None:
    body = corpus._one(b"&a;", b'<!DOCTYPE rss [<!ENTITY a "' + b"A" * 5000 + b'">]>')
    assert "characters long" in refused(body)


@pytest.mark.parametrize(
    ("kind", "phrase"),
    [
        ("system", "external entity 'xxe' (SYSTEM \"file:///etc/passwd\")"),
        ("public", "external entity 'xxe' (PUBLIC"),
        ("parameter", "parameter entity 'dtd'"),
    ],
)
def test_external_and_parameter_entities_are_refused(kind: str, phrase: str) -> None:
    assert phrase in refused(corpus.xxe(kind))


def test_an_external_dtd_is_never_read(tmp_path: object) -> None:
    feed = parse(corpus.xxe("dtd"))
    assert feed.items[0].title == "External DTD ignored"
    assert corpus.SECRET_MARK not in repr(feed)


def test_small_internal_entities_work() -> None:
    feed = parse(corpus.small_entities())
    assert feed.items[0].title == "Small entities © Hostile & Co → work"


def test_entities_are_not_expanded_inside_cdata_or_comments() -> None:
    body = corpus.rss(
        b"<item><title>&e;</title><description><![CDATA[keep &e; here]]><!-- &e; -->"
        b"</description></item>",
        b'<!DOCTYPE rss [<!ENTITY e "E">]>',
    )
    item = parse(body).items[0]
    assert item.title == "E"
    assert "keep &amp;e; here" in item.content_html


def test_markup_in_an_entity_value_stays_text() -> None:
    body = corpus._one(b"&x;", b"<!DOCTYPE rss [<!ENTITY x '<b>bold</b>'>]>")
    assert parse(body).items[0].title == "bold"


def test_an_unclosed_doctype_is_an_error_not_a_hang() -> None:
    started = time.monotonic()
    assert "DOCTYPE" in refused(b"<!DOCTYPE rss [" + b"<!-- x -->" * 100_000)
    assert "DOCTYPE" in refused(b"<!DOCTYPE rss " + b"x" * 1_000_000)
    assert time.monotonic() - started < 2


def test_unclosed_cdata_sections_are_linear() -> None:
    started = time.monotonic()
    refused(corpus.rss(b"<item><title>&nbsp;" + b"<![CDATA[" * 200_000 + b"</title></item>"))
    assert time.monotonic() - started < 5


# -- nesting ---------------------------------------------------------------------

# deep_xml(levels) nests its <x> elements in rss, channel and item.
_AROUND_DEEP_XML = 3


def test_xml_nested_deeper_than_the_cap_is_refused_before_parsing() -> None:
    message = refused(corpus.deep_xml(MAX_DEPTH - _AROUND_DEEP_XML + 1))
    assert f"nested more than {MAX_DEPTH} deep" in message
    assert "\n" not in message


def test_xml_nested_up_to_the_cap_is_read() -> None:
    feed = parse(corpus.deep_xml(MAX_DEPTH - _AROUND_DEEP_XML))
    assert feed.items[0].title == "Deeply nested XML"


@pytest.mark.parametrize(
    "inner",
    [
        b"<![CDATA[" + b"<x>" * (2 * MAX_DEPTH) + b"]]>",  # text, not elements
        b"<!--" + b"<x>" * (2 * MAX_DEPTH) + b"-->",
        b"<?pi " + b"<x>" * (2 * MAX_DEPTH) + b"?>",
        b"<br/><hr a='/>' b=\"x>y\"/>" * (2 * MAX_DEPTH),  # empty elements do not nest
        b"<p>a</p>" * (2 * MAX_DEPTH),  # siblings
    ],
    ids=["cdata", "comment", "processing-instruction", "empty-elements", "siblings"],
)
def test_what_does_not_nest_is_not_counted(inner: bytes) -> None:
    body = corpus.rss(b"<item><title>Wide</title><description>" + inner + b"</description></item>")
    assert prepare_xml(body, "src").body is body


def test_an_unclosed_section_ends_the_count() -> None:
    # expat reads the rest as part of the section: no elements in it.
    body = corpus.rss(b"<item><title>t</title><!--" + b"<x>" * (2 * MAX_DEPTH) + b"</item>")
    assert prepare_xml(body, "src").body is body


def test_a_deep_json_feed_is_refused_as_nested_too_deep() -> None:
    deep = b'{"version": "https://jsonfeed.org/version/1.1", "items": [], "x": '
    deep += b"[" * 100_000 + b"]" * 100_000 + b"}"
    message = refused(deep, "application/feed+json")
    assert "nested too deep" in message
    assert "\n" not in message


# -- repairs ---------------------------------------------------------------------


def test_html_entities_are_read() -> None:
    feed = parse(corpus._one(b"caf&eacute;&nbsp;cr&egrave;me"))
    assert feed.items[0].title == "café crème"
    assert feed.warning == "read 3 undeclared HTML entities"


def test_control_characters_are_removed() -> None:
    feed = parse(corpus._one(b"a\x01b\x1bc&#1;d&#x1F;e"))
    assert feed.items[0].title == "abcde"


@pytest.mark.parametrize(
    "prolog",
    [
        b'\n\n  <?xml version="1.0"?>',
        b'\xef\xbb\xbf\xef\xbb\xbf<?xml version="1.0"?>',
        b'<?xml version="1.0"?>\xef\xbb\xbf\n',
        b'<?xml version="1.0" encoding="\x80utf-8"?>',
    ],
)
def test_broken_prologs_are_repaired(prolog: bytes) -> None:
    assert parse(corpus._one(b"Fine", prolog)).items[0].title == "Fine"


def test_utf16_with_entities() -> None:
    text = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [<!ENTITY e "É">]>'
    body = text + '<rss version="2.0"><channel><title>t</title><item><title>&e;té</title>'
    body += "</item></channel></rss>"
    assert parse(body.encode("utf-16")).items[0].title == "Été"


def test_unchanged_bytes_pass_through() -> None:
    body = corpus._one(b"Plain")
    assert prepare_xml(body, "src").body is body


# -- not a feed ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "phrase"),
    [
        (b"", "application/xml", "empty"),
        (b"<!DOCTYPE html><html><body>x</body></html>", "text/html", "HTML page"),
        (b'<?xml version="1.0"?>\n<html><body>x</body></html>', "application/xml", "HTML page"),
        (b'{"a": 1}', "application/json", "not a JSON Feed"),
        (b"[1, 2]", "text/plain", "not a JSON Feed"),
        (b"\x1f\x8b\x08\x00rest", "application/xml", "gzip"),
        (b'{"version": ' + b"[" * 50_000 + b"}", None, "nested too deep"),
        (b'{"version": 1' + b"0" * 10_000 + b"}", None, "not valid JSON"),
    ],
)
def test_not_a_feed(body: bytes, content_type: str | None, phrase: str) -> None:
    assert phrase in refused(body, content_type)


def test_the_bytes_decide_the_format_over_the_content_type() -> None:
    assert parse(corpus._one(b"XML"), "application/json").items[0].title == "XML"
    json_feed = corpus.json_feed([{"id": "1", "title": "JSON"}])
    assert parse(json_feed, "application/rss+xml").items[0].title == "JSON"


# -- entries ---------------------------------------------------------------------


def test_duplicate_ids_keep_both_entries() -> None:
    feed = parse(corpus.duplicate_ids())
    assert [(i.entry_id, i.title) for i in feed.items] == [
        ("same", "First under a shared id"),
        (None, "Second under a shared id"),
    ]
    assert feed.warning is not None and "repeat another entry's id" in feed.warning


def test_entries_without_anything_are_dropped() -> None:
    feed = parse(corpus.bare_entries())
    assert len(feed.items) == 3
    assert feed.warning == "1 entries without title, link or content dropped"


def test_odd_dates_are_none_or_right() -> None:
    for item in parse(corpus.odd_dates()).items:
        assert item.published is None or 1900 <= item.published.year <= 9999


def test_max_items() -> None:
    feed = parse(corpus.many_items(50), max_items=10)
    assert [i.title for i in feed.items][-1] == "Item 9 of the long feed"
    assert feed.warning == "read the first 10 of 50 entries (fetch.max_items)"


def test_a_huge_text_node_is_cut() -> None:
    feed = parse(corpus.single_text_node(2_000_000))
    assert len(feed.items[0].content_html) <= MAX_HTML_CHARS + 100
    assert feed.warning == f"1 entries cut to {MAX_HTML_CHARS} characters"


def test_deep_html_is_reduced_to_text_quickly() -> None:
    started = time.monotonic()
    cleaned = sanitize_html("<div>" * 10_000 + "deep text" + "</div>" * 10_000, None)
    assert cleaned == "<p>deep text</p>"
    assert time.monotonic() - started < 2
    assert nesting_depth("<p>a<li>b<br><img src=x>" * 500) == 0  # tags that never nest


# -- titles and links ------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        ("&lt;script&gt;alert(1)&lt;/script&gt; News", "alert(1) News"),
        ("<b>Bold</b> &amp;lt;i&amp;gt;x", "Bold &lt;i&gt;x"),  # unescaped once: text
        ("a < b and c > d", "a < b and c > d"),
        ("&lt;!-- comment --&gt;Title", "Title"),
    ],
)
def test_titles_never_carry_markup(raw: str, text: str) -> None:
    assert plain_text(raw) == text


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("javascript:alert(1)", None),
        (" JaVaScRiPt:alert(1)", None),
        ("java\tscript:alert(1)", None),
        ("data:text/html,x", None),
        ('http://x.example/a"><script>', "http://x.example/a%22%3E%3Cscript%3E"),
        ("http://x.example/a b", "http://x.example/a%20b"),
        ("/relative", "https://base.example/relative"),
    ],
)
def test_links(url: str, expected: str | None) -> None:
    assert absolute_url(url, "https://base.example/feed") == expected
