"""The parser on hostile bytes, one case at a time (the whole pass: tests/hostile)."""

from __future__ import annotations

import logging
import time
from typing import Any

import pytest

from aggregator.errors import NotAFeed, ParseError
from aggregator.models import Document, ParsedFeed
from aggregator.parse import parse_document
from aggregator.parse.normalize import (
    MAX_HTML_CHARS,
    MAX_ID_CHARS,
    MAX_NAME_CHARS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    absolute_url,
    impossible_date,
    nesting_depth,
    plain_text,
    sanitize_html,
)
from aggregator.parse.xmlguard import (
    MAX_DEPTH,
    MAX_EXPANSION,
    MAX_TEXT_BYTES,
    bound_texts,
    prepare_xml,
)
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


# A header's bytes past ASCII reach the parser as lone surrogates (the HTTP
# client reads headers as UTF-8 with surrogateescape): "\xe9" is "\udce9".
@pytest.mark.parametrize(
    "charset", ["\udce9", "utf-\udcfc8", '"x-\udcff\udcfe"', "undefined", "idna", "rot13"]
)
@pytest.mark.parametrize("media_type", ["application/rss+xml", "text/xml"])
def test_a_header_charset_that_names_no_encoding_is_ignored(
    charset: str, media_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    # Not ASCII, so that a charset read as ASCII would fail it.
    feed = parse(corpus._one("Café au lait".encode()), f"{media_type}; charset={charset}")
    assert feed.items[0].title == "Café au lait"
    assert feed.warning is not None and "ignored the Content-Type's charset" in feed.warning
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


@pytest.mark.parametrize("encoding", [b"undefined", b"idna", b"punycode", b"rot13"])
def test_a_declared_encoding_python_cannot_decode_with_is_ignored(
    encoding: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    prolog = b'<?xml version="1.0" encoding="' + encoding + b'"?>'
    feed = parse(corpus._one("Café au lait".encode(), prolog))
    assert feed.items[0].title == "Café au lait"
    assert feed.warning is not None and "encoding declaration" in feed.warning
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


@pytest.mark.parametrize("name", [b"undefined", b"\xe9"])
@pytest.mark.parametrize(
    "prolog",
    [b'<?xml version="1.0"?>', b"", b'<?app encoding="undefined"?>'],
)
def test_what_looks_like_an_encoding_later_on_the_first_line_is_text(
    name: bytes, prolog: bytes
) -> None:
    # feedparser reads the encoding from the first line, from a "<?" at the
    # start up to the last 'encoding="..."': here one in a title.
    title = b'Says encoding="' + name + b'" ?>'
    body = corpus._one(title, prolog).replace(b"\n", b"")
    assert parse(body).items[0].title == title.decode("latin-1")


def test_utf16_with_entities() -> None:
    text = '<?xml version="1.0" encoding="utf-16"?><!DOCTYPE rss [<!ENTITY e "É">]>'
    body = text + '<rss version="2.0"><channel><title>t</title><item><title>&e;té</title>'
    body += "</item></channel></rss>"
    assert parse(body.encode("utf-16")).items[0].title == "Été"


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32"])
def test_a_repaired_wide_document_reads_alike_with_a_content_type_charset(codec: str) -> None:
    """feedparser decodes in the Content-Type's charset first: a repaired wide
    document handed on in UTF-8 was decoded as UTF-16 there, and was garbage
    ("not well-formed") or read with a warning that it was not UTF-16."""
    body = corpus.encoded(corpus.small_entities(), codec)
    plain = parse(body)
    labelled = parse(body, f"application/xml; charset={codec}")
    assert (labelled.items, labelled.warning) == (plain.items, plain.warning)
    assert plain.items[0].title == "Small entities © Hostile & Co → work"


# What a hostile DTD is refused with, in UTF-8: the same words whatever the
# encoding, so that a DTD bomb is never "not a well-formed feed" in one of them.
_DTD_ATTACKS = {
    "billion-laughs": (corpus.billion_laughs, "refused: entity 'lol1' refers to entity 'lol'"),
    "quadratic": (corpus.quadratic_blowup, "refused: entity references would add more than"),
    "xxe-system": (lambda: corpus.xxe("system"), "refused: external entity 'xxe' (SYSTEM"),
    "xxe-public": (lambda: corpus.xxe("public"), "refused: external entity 'xxe' (PUBLIC"),
    "xxe-parameter": (lambda: corpus.xxe("parameter"), "refused: parameter entity 'dtd'"),
}
# Code pages feedparser decodes after an EBCDIC "<?xm", by the name declared:
# US/Canada, international, US with the euro, German, Greek.
_EBCDIC = ("cp037", "cp500", "cp1140", "cp273", "cp875", "IBM037", "ebcdic-cp-be")


@pytest.mark.parametrize("attack", sorted(_DTD_ATTACKS))
@pytest.mark.parametrize("codec", [*_EBCDIC, "utf-7", "utf-16"])
def test_a_dtd_attack_is_refused_alike_in_every_encoding(codec: str, attack: str) -> None:
    make, phrase = _DTD_ATTACKS[attack]
    expected = refused(make())
    assert phrase in expected
    assert refused(corpus.encoded(make(), codec)) == expected


@pytest.mark.parametrize("attack", sorted(_DTD_ATTACKS))
def test_a_dtd_attack_in_the_content_types_charset_is_refused_alike(attack: str) -> None:
    make, _phrase = _DTD_ATTACKS[attack]
    body = corpus.encoded(make(), "cp500", declared="")
    assert refused(body, "application/xml; charset=IBM500") == refused(make())


@pytest.mark.parametrize("attack", sorted(_DTD_ATTACKS))
@pytest.mark.parametrize("codec", ["cp037", "cp500", "cp1140", "cp273"])
def test_an_ebcdic_document_without_a_declaration_is_refused(codec: str, attack: str) -> None:
    """Nothing says its code page but a guess (chardet's, which feedparser
    would ask): its DTD would reach feedparser unseen.  XML requires the
    declaration; a Content-Type charset naming the code page is enough."""
    make, _phrase = _DTD_ATTACKS[attack]
    body = corpus.encoded(make(), codec, declared="")
    message = "src: refused: an EBCDIC document without an XML declaration naming its code page"
    assert refused(body) == message
    assert refused(b"\x40\x25" + corpus.encoded(corpus._one(b"Plain"), codec, declared="")) == (
        message
    )
    assert refused(body, f"application/xml; charset={codec}") == refused(make())


@pytest.mark.parametrize("body", [b"Lorem ipsum", b"<rss>", b"LZW", b"L\xc3\xa9"])
def test_what_only_looks_like_ebcdic_in_ascii_is_not_taken_for_it(body: bytes) -> None:
    """'L' then 'Z', 'O' or a byte past ASCII: no XML in any ASCII-based
    encoding, so refusing it as EBCDIC takes nothing readable."""
    message = refused(body)
    if body[1:2] in (b"Z", b"O") or body[1] >= 0x80:
        assert "EBCDIC" in message
    else:
        assert "EBCDIC" not in message


@pytest.mark.parametrize("codec", [*_EBCDIC, "utf-7"])
def test_small_entities_work_in_every_encoding(codec: str) -> None:
    feed = parse(corpus.encoded(corpus.small_entities(), codec))
    assert feed.items[0].title == "Small entities © Hostile & Co → work"


def test_an_ebcdic_document_stays_in_its_code_page() -> None:
    plain = corpus.encoded(corpus._one(b"Plain"), "cp500")
    assert prepare_xml(plain, "src").body is plain
    with_dtd = corpus.encoded(corpus.small_entities(), "cp500")
    out = prepare_xml(with_dtd, "src").body
    assert out.decode("cp500").startswith('<?xml version="1.0" encoding="cp500"?>\n\n<rss')


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


@pytest.mark.parametrize(
    ("body", "content_type", "not_a_feed"),
    [
        (b'<?xml version="1.0"?>\n<html><body>x</body></html>', "application/xml", True),
        (b'<?xml version="1.0"?><article><p>x</p></article>', "application/xml", True),
        (b'{"a": 1}', "application/json", True),
        (corpus.billion_laughs(), "application/xml", False),
        (corpus.rss(b"<item><title>Unclosed</item>"), "application/xml", False),
    ],
    ids=["xhtml", "other-xml", "other-json", "refused", "not-well-formed"],
)
def test_another_kind_of_document_is_not_a_feed_and_a_broken_feed_is_not(
    body: bytes, content_type: str, not_a_feed: bool
) -> None:
    # What `aggregate summarize` reads as a page instead (JSON aside: it
    # reports both, see tests/commands/test_summarize.py), and what it reports.
    with pytest.raises(ParseError) as caught:
        parse(body, content_type)
    assert isinstance(caught.value, NotAFeed) is not_a_feed


def test_json_that_does_not_read_is_one_short_line_saying_where() -> None:
    body = (
        b'{\n "version": "https://jsonfeed.org/version/1.1",\n "items": [\n  {"id": "1" "x": 2}\n]}'
    )
    message = "src: not valid JSON: Expecting ',' delimiter: line 4 column 14"
    assert refused(body, "application/feed+json") == message
    assert refused(b"[1, 2]", "application/json") == (
        "src: JSON document is not a JSON Feed (an array, not an object)"
    )
    # A file has no content type: its .json name says JSON instead.
    document = Document("feeds/news.json", b"Plain text, no JSON at all.", None)
    with pytest.raises(ParseError) as caught:
        parse_document(document, "src", local=True)
    assert str(caught.value) == "src: not valid JSON: Expecting value: line 1 column 1"


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
    feed = parse(corpus.odd_dates())
    for item in feed.items:
        assert item.published is None or 1900 <= item.published.year <= 9999
    # 99999, 0000-00-00, a +2400 offset, "yesterday at noon" and February 30th;
    # 9999-12-31T23:59:59-12:00 is past what a date can hold once in UTC.
    assert feed.warning == (
        "6 entries with an impossible or unreadable date, taken as undated"
        " (first: 'Odd date 0' dated 'Fri, 31 Dec 99999 23:59:59 GMT')"
    )


@pytest.mark.parametrize(
    ("text", "impossible"),
    [
        ("2026-02-30T10:00:00Z", True),
        ("2026-02-28T10:00:00-24:00", True),
        ("2026-02-28T10:00:00+23:59", False),
        ("2026-02-28T23:59:60Z", False),  # a leap second
        ("2026-02-28T10:60:00Z", True),
        ("2024-02-29", False),
        ("2023-02-29", True),
        ("0001-01-01T00:00:00Z", False),  # a placeholder, clamped later: see tests/hostile
        ("Tue, 31 Apr 2024 10:00:00 GMT", True),
        ("Mon, 1 January 2024 10:00 EST", False),
        ("Thu, 29 Feb 23 10:00:00 GMT", False),  # a two-digit year: its parser places it
        ("Fri, 3 Juin 2024 10:00:00 GMT", False),  # not an English month: its parser decides
        ("yesterday", False),  # not a date this reads: its parser decides
    ],
)
def test_impossible_dates(text: str, impossible: bool) -> None:
    assert impossible_date(text) is impossible


def test_max_items() -> None:
    feed = parse(corpus.many_items(50), max_items=10)
    assert [i.title for i in feed.items][-1] == "Item 9 of the long feed"
    assert feed.warning == "read the first 10 of 50 entries (fetch.max_items)"


def test_a_huge_text_node_is_cut() -> None:
    feed = parse(corpus.single_text_node(2_000_000))
    assert len(feed.items[0].content_html) <= MAX_HTML_CHARS + 100
    assert feed.warning == f"1 entries cut to {MAX_HTML_CHARS} characters"


def read_uncut(monkeypatch: pytest.MonkeyPatch, body: bytes) -> ParsedFeed:
    """The feed as read before texts were bounded: every text whole."""
    from aggregator.parse import xmlguard

    with monkeypatch.context() as patch:
        patch.setattr(xmlguard, "bound_texts", lambda body: (body, 0))
        return parse(body)


_OVER = MAX_TEXT_BYTES + 1000
# Long texts of every kind, each past the bound with spaces to cut at.


def over_the_bound(piece: bytes) -> bytes:
    return piece * (_OVER // len(piece) + 1)


LONG_TEXTS = {
    "plain": over_the_bound(b"word "),
    "references": over_the_bound(b"a &amp; b &#233;&#x4e2d; &lt;p&gt; "),
    "multi-byte": over_the_bound("\u00e9t\u00e9 \u4e2d\u6587 ".encode()),
    "cdata": b"<![CDATA[<p>" + over_the_bound(b"word ") + b"</p>]]>",
    "no space": over_the_bound(b"x"),  # nowhere to cut: read whole
}


@pytest.mark.parametrize("kind", LONG_TEXTS)
def test_a_text_past_the_bound_is_cut_before_parsing_to_the_same_item(
    monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    from aggregator.parse import feed as feed_module

    given: list[int] = []
    real = feed_module._read

    def spy(body: bytes, headers: dict[str, str], source: str) -> object:
        given.append(len(body))
        return real(body, headers, source)

    long = LONG_TEXTS[kind]
    body = corpus.rss(corpus.item(b"Long", long) + corpus.item(b"After it", b"The entry after it."))
    whole = read_uncut(monkeypatch, body)
    monkeypatch.setattr(feed_module, "_read", spy)
    cut = parse(body)
    assert cut.items == whole.items
    if kind == "no space":
        assert cut == whole
        assert given == [len(body)]
        return
    assert given[0] < MAX_TEXT_BYTES + 1000  # the long text cut
    assert cut.warning == f"1 texts cut to {MAX_TEXT_BYTES} bytes; {whole.warning}"


# Documents whose bytes do not write markup as ASCII, and what names their
# encoding: (codec, declared as in corpus.encoded, Content-Type).
_OWN_ENCODINGS = {
    "utf-16": ("utf-16", None, "application/xml"),  # little-endian, byte-order mark
    "utf-16-le": ("utf-16-le", None, "application/xml"),
    "utf-16-be": ("utf-16-be", None, "application/xml"),
    "utf-32": ("utf-32", None, "application/xml"),
    "utf-16-charset": ("utf-16", None, "application/rss+xml; charset=utf-16"),
    "cp037": ("cp037", None, "application/xml"),
    "cp500": ("cp500", None, "application/xml"),
    "cp1140": ("cp1140", None, "application/xml"),
    "cp500-charset": ("cp500", "", "application/xml; charset=IBM500"),
    "utf-7": ("utf-7", None, "application/xml"),
}


@pytest.mark.parametrize("name", _OWN_ENCODINGS)
def test_a_text_past_the_bound_is_cut_as_in_utf8_in_every_encoding(
    monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The same document in UTF-8 is the golden one: the same entries, the
    same warnings, and feedparser reads the long text cut at the same place."""
    from aggregator.parse import feed as feed_module

    codec, declared, content_type = _OWN_ENCODINGS[name]
    texts_read: list[str] = []
    real = feed_module._read

    def spy(body: bytes, headers: dict[str, str], source: str) -> Any:
        result = real(body, headers, source)
        texts_read.append(result["entries"][0]["summary"])
        return result

    monkeypatch.setattr(feed_module, "_read", spy)
    # corpus.encoded writes UTF-7 for ASCII text only.
    piece = b"word " if codec == "utf-7" else "Café crème ".encode()
    items = corpus.item(b"Long", over_the_bound(piece))
    items += corpus.item(b"After it", b"The entry after it.")
    # Without a declaration to name the encoding, none to leave a line break behind.
    body = corpus.rss(items) if declared is None else corpus.rss(items, b"")
    in_utf8 = parse(body)
    feed = parse(corpus.encoded(body, codec, declared), content_type)
    assert (feed.items, feed.warning) == (in_utf8.items, in_utf8.warning)
    assert feed.warning is not None
    assert feed.warning.startswith(f"1 texts cut to {MAX_TEXT_BYTES} bytes")
    utf8_text, text = texts_read
    assert text == utf8_text
    assert MAX_TEXT_BYTES <= len(text.encode()) < MAX_TEXT_BYTES + len(piece)
    assert text.startswith(piece.decode() * 3)


def test_a_long_comment_is_not_a_text() -> None:
    comment = b"<!-- " + b"note " * (_OVER // 5) + b"-->"
    assert bound_texts(corpus.rss(comment + corpus.item(b"Fine"))) == (
        corpus.rss(comment + corpus.item(b"Fine")),
        0,
    )


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
        # A port urllib cannot read leads nowhere: the link is dropped.
        ("http://x.example:99999/a", None),
        ("http://x.example:65536/a", None),
        ("http://user@x.example:abc/", None),
        ("https://x.example:-1/", None),
        ("http://x.example: 80/", None),
        ("//x.example:99999/a", None),
        ("http://[::1]:99999/", None),
        ("http://x.example:8080/a", "http://x.example:8080/a"),
        ("http://x.example:/a", "http://x.example:/a"),  # an empty port: the default
        ("http://[::1]:8080/", "http://[::1]:8080/"),
    ],
)
def test_links(url: str, expected: str | None) -> None:
    assert absolute_url(url, "https://base.example/feed") == expected


def test_a_relative_link_against_a_base_with_a_bad_port_is_dropped() -> None:
    assert absolute_url("/a", "http://x.example:99999/feed") is None
    assert absolute_url("https://y.example/a", "http://x.example:99999/feed") == (
        "https://y.example/a"
    )


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        # feedparser takes the last alternate; unusable, the first that is.
        (
            '<link rel="alternate" type="text/html" hreflang="fr" href="/fr/a"/>'
            '<link href="http://bad.example:99999/a"/>',
            "https://hostile.example/fr/a",
        ),
        ('<link href="https://ok.example/a"/><link href="javascript:alert(1)"/>', "https://ok.example/a"),
        # Never an enclosure, a related or an edit link in its place.
        (
            '<link href="http://bad.example:abc/a"/>'
            '<link rel="enclosure" type="audio/mpeg" href="https://ok.example/a.mp3"/>'
            '<link rel="related" href="https://ok.example/other"/>'
            '<link rel="edit" href="https://ok.example/edit"/>',
            None,
        ),
        # Both usable: feedparser's choice (the last) stands.
        ('<link href="https://first.example/a"/><link href="https://second.example/a"/>',
         "https://second.example/a"),
        ('<link href="https://first.example/a"/><link href="http://bad.example:99999/a"/>',
         "https://first.example/a"),
    ],
)  # fmt: skip
def test_an_unusable_entry_link_gives_way_to_its_next_alternate(
    links: str, expected: str | None
) -> None:
    body = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>T</title><id>urn:t</id>'
        f"<entry><id>urn:e</id><title>E</title>{links}<summary>Body.</summary></entry></feed>"
    ).encode()
    for content_type in ("application/atom+xml", "text/plain"):  # the fast reader, feedparser
        [entry] = parse(body, content_type).items
        assert entry.link == expected, content_type


# -- field bounds ----------------------------------------------------------------

_LONG = 10  # times a field's bound: long enough to be cut, small enough to be quick


def _long_fields_rss(guid: str) -> bytes:
    title = b"Headline " * (MAX_TITLE_CHARS * _LONG // 9)
    author = b"Name " * (MAX_NAME_CHARS * _LONG // 5)
    link = b"https://long.example/" + b"a" * (MAX_URL_CHARS * _LONG)
    return corpus.rss(
        b"<item><title>" + title + b"</title><author>" + author + b"</author>"
        b"<link>" + link + b"</link><guid>" + guid.encode() + b"</guid>"
        b"<description>Body.</description></item>"
    )


def _long_fields_json(guid: str) -> bytes:
    item = {
        "id": guid,
        "title": "Headline " * (MAX_TITLE_CHARS * _LONG // 9),
        "authors": [{"name": "Name " * (MAX_NAME_CHARS * _LONG // 5)}],
        "url": "https://long.example/" + "a" * (MAX_URL_CHARS * _LONG),
        "content_text": "Body.",
    }
    return corpus.json_feed([item])


@pytest.mark.parametrize("make", [_long_fields_rss, _long_fields_json], ids=["rss", "json"])
def test_long_titles_authors_links_and_ids_are_bounded(make: object) -> None:
    assert callable(make)
    long_id = "id-" + "x" * (MAX_ID_CHARS * _LONG)
    feed = parse(make(long_id))
    item = feed.items[0]
    assert len(item.title) == MAX_TITLE_CHARS
    assert item.title.startswith("Headline Headline") and item.title.endswith("…")
    assert item.author is not None and len(item.author) == MAX_NAME_CHARS
    assert item.author.endswith("…")
    assert item.link is None  # a cut URL would lead somewhere else
    assert item.entry_id is not None and len(item.entry_id) <= MAX_ID_CHARS
    # The same long id is always the same bounded id, and another is another.
    assert parse(make(long_id)).items[0].entry_id == item.entry_id
    assert parse(make(long_id + "y")).items[0].entry_id != item.entry_id
    assert feed.warning is not None and "over their length bounds" in feed.warning


def test_fields_within_their_bounds_are_kept_whole() -> None:
    title = "T" * MAX_TITLE_CHARS
    link = "https://long.example/" + "a" * (MAX_URL_CHARS - len("https://long.example/"))
    guid = "g" * MAX_ID_CHARS
    guid_xml = f"<guid isPermaLink='false'>{guid}</guid>"
    body = corpus.rss(f"<item><title>{title}</title><link>{link}</link>{guid_xml}</item>".encode())
    feed = parse(body)
    assert (feed.items[0].title, feed.items[0].link, feed.items[0].entry_id) == (title, link, guid)
    assert feed.warning is None


def test_a_long_feed_title_is_bounded() -> None:
    body = corpus.rss(corpus.item(b"Fine")).replace(
        b"<title>Hostile</title>", b"<title>" + b"Site " * MAX_TITLE_CHARS + b"</title>"
    )
    title = parse(body).title
    assert title is not None and len(title) == MAX_TITLE_CHARS and title.endswith("…")


def test_a_long_article_title_is_bounded() -> None:
    text = "---\ntitle: " + "Word " * MAX_TITLE_CHARS + "\n---\nA sentence.\n"
    document = Document("/articles/long.md", text.encode(), None)
    item = parse_document(document, "src", local=True).items[0]
    assert len(item.title) == MAX_TITLE_CHARS


# -- invisible characters --------------------------------------------------------

# Bidi embeddings, overrides and isolates reorder what follows them ("evil\u202etxt.exe"
# reads as "evilexe.txt"); C1 controls are invisible.  None of them is text.
_INVISIBLE = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\x80\x85\x9f"


def test_bidi_overrides_and_c1_controls_leave_titles_and_authors() -> None:
    title = "Safe" + _INVISIBLE + " title"
    json_body = corpus.json_feed(
        [{"id": "1", "title": title + "\x01", "authors": [{"name": "A\u202eB"}],
          "content_html": "<p>Text\u202e here\x85.</p>"}]
    )  # fmt: skip
    item = parse(json_body).items[0]
    assert (item.title, item.author) == ("Safe title", "AB")
    assert item.content_html == "<p>Text here.</p>"
    # (feedparser reads C1 bytes in XML as the Windows-1252 characters they
    # usually are, so only the bidi ones are left for us to take out there.)
    bidi = _INVISIBLE.translate({code: None for code in range(0x80, 0xA0)})
    xml_item = parse(corpus._one(f"Safe{bidi} title".encode())).items[0]
    assert xml_item.title == "Safe title"
