"""Hostile feeds, made in code: every case the aggregator must survive, with what it should say.

    CASES            the cases served over HTTP, each a :class:`Case` (route + expected outcome)
    serve(server)    put every case on a :class:`~tests.feedserver.FeedServer`
    config_lines()   the ``sources:`` entries of a feeds.yaml that polls them all

Shared by ``tests/hostile`` and ``benchmarks/hostile.py``, so the benchmark
measures exactly what the tests check.  Big bodies (a 50 MB feed, a gzip
bomb that inflates to 1 GB, 20,000 items, a million nested elements, five
feeds of 1 MB titles) are generated on demand, streamed
where they are large, and cached where they are costly to make.

An expected outcome is ``ok`` (the source publishes; its status line is
``new``, ``updated`` or ``unchanged``) or ``error`` with a phrase the one-line
error must contain.  No case may crash the pass, hang it, or stop another
source from publishing.
"""

from __future__ import annotations

import codecs
import json
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache

from aggregator.parse.normalize import MAX_TITLE_CHARS
from tests.feedserver import FeedServer, Route, gzipped

SECRET_MARK = "root:x:0:0"  # what /etc/passwd starts with; must never be published
MB = 1 << 20


@dataclass(frozen=True)
class Case:
    """One hostile source: where it is served, and what the pass must say about it."""

    name: str
    route: Callable[[], Route]
    outcome: str  # "ok" or "error"
    expect: str = ""  # a phrase of the status line
    allow_private: bool = True
    host: str | None = None  # in the configured URL instead of 127.0.0.1 (e.g. localhost)
    # What the published output must contain for an "ok" case (a title, say).
    published: tuple[str, ...] = field(default=())

    @property
    def path(self) -> str:
        return f"/{self.name}"

    def url(self, server: FeedServer) -> str:
        url = server.url(self.path)
        return url.replace("127.0.0.1", self.host, 1) if self.host else url


def rss(items: bytes, prolog: bytes = b'<?xml version="1.0" encoding="utf-8"?>\n') -> bytes:
    return (
        prolog + b'<rss version="2.0"><channel><title>Hostile</title>'
        b"<link>http://hostile.example/</link>" + items + b"</channel></rss>"
    )


def item(
    title: bytes, body: bytes = b"A plain sentence about the news.", guid: bytes = b""
) -> bytes:
    guid_xml = b"<guid isPermaLink='false'>" + guid + b"</guid>" if guid else b""
    return (
        b"<item><title>"
        + title
        + b"</title>"
        + guid_xml
        + b"<description>"
        + body
        + b"</description>"
        b"<pubDate>Mon, 03 Jun 2024 12:00:00 GMT</pubDate></item>"
    )


def _one(title: bytes, prolog: bytes = b'<?xml version="1.0" encoding="utf-8"?>\n') -> bytes:
    return rss(item(title), prolog)


# -- big bodies ------------------------------------------------------------


@cache
def gzip_bomb(inflated_mb: int = 1024) -> bytes:
    """About 1 MB of gzip that inflates to ``inflated_mb`` MB of zero bytes.

    Built from one full-flushed deflate block repeated: each block ends on a
    byte boundary and resets the dictionary, so copies of it concatenate.
    """
    zeros = bytes(MB)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(zeros) + compressor.flush(zlib.Z_FULL_FLUSH)
    end = compressor.flush(zlib.Z_FINISH)
    crc = 0
    for _ in range(inflated_mb):
        crc = zlib.crc32(zeros, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, (inflated_mb * MB) & 0xFFFFFFFF)
    return header + block * inflated_mb + end + trailer


def huge_feed_chunks(total: int = 50 * MB) -> Iterator[bytes]:
    """A well-formed-looking RSS feed of ``total`` bytes, made as it is sent."""
    head = rss(b"", b'<?xml version="1.0"?>\n').split(b"</channel>")[0]
    yield head
    sent = len(head)
    one = item(b"Filler", b"Filler text. " * 60)
    batch = one * 256
    while sent < total:
        yield batch
        sent += len(batch)
    yield b"</channel></rss>"


@cache
def huge_feed(total: int = 50 * MB) -> bytes:
    return b"".join(huge_feed_chunks(total))


@cache
def many_items(count: int = 20_000) -> bytes:
    """A feed of ``count`` small, distinct items (a few MB: under the size cap)."""
    parts = [
        b"<item><title>Item %d of the long feed</title>"
        b"<link>http://long.example/items/%d</link><guid>long-%d</guid>"
        b"<description>Item %d says one short thing.</description></item>" % (i, i, i, i)
        for i in range(count)
    ]
    return rss(b"".join(parts))


@cache
def single_text_node(size: int = 9_900_000) -> bytes:
    """One item whose description is one text node of ``size`` bytes (under 10 MB)."""
    words = b"word " * (size // 5)
    return rss(item(b"One enormous text node", words))


@cache
def utf16_text_node(size: int = 4_000_000) -> bytes:
    """:func:`single_text_node` in UTF-16, big-endian with its byte-order mark:
    a text node of ``size`` characters in twice as many bytes (under 10 MB)."""
    words = b"word " * (size // 5)
    feed = rss(
        item(b"One enormous UTF-16 text node", words),
        b'<?xml version="1.0" encoding="utf-16"?>\n',
    )
    return codecs.BOM_UTF16_BE + feed.decode("ascii").encode("utf-16-be")


@cache
def deep_xml(levels: int = 1_000_000) -> bytes:
    """An item with ``levels`` nested elements in it: 7 MB for a million."""
    nested = b"<x>" * levels + b"</x>" * levels
    return rss(b"<item><title>Deeply nested XML</title>" + nested + b"</item>")


@cache
def deep_html(levels: int = 100_000) -> bytes:
    nested = b"<div>" * levels + b"deep text" + b"</div>" * levels
    return rss(item(b"Deeply nested HTML", b"<![CDATA[" + nested + b"]]>"))


@cache
def long_fields(number: int, title_chars: int = MB) -> bytes:
    """An item with a title of ``title_chars`` characters, a long author, link and guid.

    Under the byte cap; five such feeds had made 47 MB of published files.
    """
    # A word of its own in each title, so that the five are not one story.
    title = (b"Long%d title " % number) * (title_chars // len(b"Long0 title "))
    author = b"Author " * (MB // 4 // 7)
    link = b"http://long.example/%d/" % number + b"a" * (MB // 16)
    guid = b"long-%d-" % number + b"g" * (MB // 16)
    return rss(
        b"<item><title>" + title + b"</title><author>" + author + b"</author><link>" + link
        + b"</link><guid isPermaLink='false'>" + guid + b"</guid>"
        b"<description>" + (b"Story %d. " % number) * 50 + b"</description></item>"
    )  # fmt: skip


def long_title_published(number: int) -> str:
    """The title :func:`long_fields` is published with: cut to its bound."""
    title = f"Long{number} title " * (MAX_TITLE_CHARS // 10)
    return title[: MAX_TITLE_CHARS - 1] + "\u2026"


def billion_laughs(one_line: bool = False) -> bytes:
    declarations = [b'<!ENTITY lol "lol">']
    for level in range(1, 10):
        reference = b"&lol%d;" % (level - 1) if level > 1 else b"&lol;"
        declarations.append(b'<!ENTITY lol%d "%s">' % (level, reference * 10))
    glue = b"" if one_line else b"\n"
    doctype = b"<!DOCTYPE rss [" + glue + glue.join(declarations) + glue + b"]>\n"
    return _one(b"&lol9;", b'<?xml version="1.0"?>\n' + doctype)


def quadratic_blowup() -> bytes:
    value = b"A" * 4000
    doctype = b'<!DOCTYPE rss [<!ENTITY a "' + value + b'">]>\n'
    return rss(item(b"Quadratic", b"&a;" * 20_000), b'<?xml version="1.0"?>\n' + doctype)


def xxe(kind: str) -> bytes:
    prolog = b'<?xml version="1.0"?>\n'
    if kind == "system":
        doctype = b'<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n'
        return _one(b"Secret: &xxe;", prolog + doctype)
    if kind == "public":
        doctype = b'<!DOCTYPE rss [<!ENTITY xxe PUBLIC "-//x//y" "file:///etc/passwd">]>\n'
        return _one(b"Secret: &xxe;", prolog + doctype)
    if kind == "parameter":
        doctype = b'<!DOCTYPE rss [\n<!ENTITY % dtd SYSTEM "file:///etc/passwd">\n%dtd;\n]>\n'
        return _one(b"Parameter entity", prolog + doctype)
    if kind == "dtd":
        # An external DTD on the DOCTYPE itself: dropped, never read; the
        # feed is otherwise fine, so it publishes (without the secret).
        doctype = b'<!DOCTYPE rss SYSTEM "file:///etc/passwd">\n'
        return _one(b"External DTD ignored", prolog + doctype)
    raise ValueError(kind)


def encoded(body: bytes, codec: str, declared: str | None = None) -> bytes:
    """A UTF-8 or ASCII case of this module in another encoding, its XML
    declaration naming ``declared`` (``codec`` by default) or, with "", none
    (the Content-Type's charset must then name it).  For UTF-7, markup is
    written as it may be there ("+ADw-" for '<'), where no ASCII byte shows it."""
    text = body.decode("utf-8")
    _declaration, _, rest = text.partition("?>") if text.startswith("<?xml") else ("", "", text)
    name = codec if declared is None else declared
    prolog = f'<?xml version="1.0" encoding="{name}"?>' if name else ""
    if codec == "utf-7":
        return prolog.encode() + rest.replace("<", "+ADw-").replace("[", "+AFs-").encode()
    return (prolog + rest).encode(codec)


def small_entities() -> bytes:
    doctype = (
        b'<!DOCTYPE rss [\n<!ENTITY copy "&#169;">\n<!ENTITY org "Hostile &amp; Co">\n'
        b"<!ENTITY rarr '&#8594;'>\n]>\n"
    )
    return _one(b"Small entities &copy; &org; &rarr; work", b'<?xml version="1.0"?>\n' + doctype)


def odd_dates() -> bytes:
    dates = [
        b"Fri, 31 Dec 99999 23:59:59 GMT",
        b"0000-00-00T00:00:00Z",
        b"9999-12-31T23:59:59-12:00",
        b"Tue, 10 Jun 2003 04:00:00 +2400",
        b"yesterday at noon",
        b"2024-02-30T10:00:00Z",
        b"1 Jan 1900 00:00:00 GMT",
        b"",
    ]
    items = b"".join(
        b"<item><title>Odd date %d</title><link>http://dates.example/%d</link>"
        b"<pubDate>%s</pubDate><description>Dated oddly.</description></item>" % (i, i, d)
        for i, d in enumerate(dates)
    )
    return rss(items)


def duplicate_ids() -> bytes:
    return rss(
        item(b"First under a shared id", b"The first story.", b"same")
        + item(b"Second under a shared id", b"The second story.", b"same")
        + item(b"First under a shared id", b"The first story.", b"same")
    )


def bare_entries() -> bytes:
    return rss(
        b"<item></item>"
        b"<item><description>An entry with text only.</description></item>"
        b"<item><title>An entry with a title only</title></item>"
        b"<item><link>http://bare.example/link-only</link></item>"
    )


def json_feed(items: list[object]) -> bytes:
    return json.dumps(
        {"version": "https://jsonfeed.org/version/1.1", "title": "Hostile JSON", "items": items}
    ).encode()


def year_one(kind: str) -> bytes:
    """An entry dated 0001-01-01, the way each format dates it."""
    if kind == "atom":
        return (
            b'<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
            b"<title>Year one</title><id>urn:year-one</id><updated>2024-06-03T12:00:00Z</updated>"
            b"<entry><title>Year one in Atom</title><id>urn:year-one:1</id>"
            b'<link href="http://dates.example/atom"/>'
            b"<updated>0001-01-01T00:00:00Z</updated><published>0001-01-01T00:00:00Z</published>"
            b"<summary>Dated at the start of the era.</summary></entry></feed>"
        )
    if kind == "dc":
        return rss(
            b"<item><title>Year one in dc:date</title><link>http://dates.example/dc</link>"
            b"<dc:date>0001-01-01T00:00:00Z</dc:date>"
            b"<description>Dated at the start of the era.</description></item>"
        ).replace(b"<rss ", b'<rss xmlns:dc="http://purl.org/dc/elements/1.1/" ')
    if kind == "json":
        return json_feed(
            [
                {
                    "id": "year-one",
                    "title": "Year one in JSON Feed",
                    "url": "http://dates.example/json",
                    "date_published": "0001-01-01T00:00:00Z",
                    "content_text": "Dated at the start.",
                }
            ]
        )
    return rss(
        b"<item><title>Year one in RSS</title><link>http://dates.example/rss</link>"
        b"<pubDate>Mon, 01 Jan 0001 00:00:00 GMT</pubDate>"
        b"<description>Dated at the start of the era.</description></item>"
    )


def odd_hints(ttl: bytes, frequency: bytes) -> bytes:
    """A feed whose polling hints are out of any range."""
    return rss(
        b"<ttl>" + ttl + b"</ttl><sy:updatePeriod>hourly</sy:updatePeriod>"
        b"<sy:updateFrequency>"
        + frequency
        + b"</sy:updateFrequency>"
        + item(b"Odd hints " + ttl[:8])
    ).replace(b"<rss ", b'<rss xmlns:sy="http://purl.org/rss/1.0/modules/syndication/" ')


def lone_surrogate() -> bytes:
    """A JSON Feed whose strings hold unpaired UTF-16 surrogates (valid JSON, not valid text)."""
    return (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "Surrogates \\ud800",'
        b' "items": [{"id": "s\\udfff", "title": "Lone \\ud83d surrogate",'
        b' "url": "http://surrogates.example/1", "content_text": "Half \\udc00 a pair."}]}'
    )


def _route(body: bytes, content_type: str = "application/xml", **options: object) -> Route:
    return Route(body, content_type=content_type, **options)  # type: ignore[arg-type]


CASES: tuple[Case, ...] = (
    # Malformed XML
    Case("unclosed-tags", lambda: _route(rss(b"<item><title>Unclosed</item>")), "error",
         "well-formed"),
    Case("undefined-entity", lambda: _route(_one(b"Undefined &bogus; entity")), "error",
         "undefined entity"),
    Case("html-entities", lambda: _route(_one(b"HTML&nbsp;entities &eacute;t&eacute;")), "ok",
         published=("HTML entities été",)),
    Case("garbage-after-root", lambda: _route(_one(b"Garbage") + b"<junk>trailing garbage"),
         "error", "junk after document element"),
    # Encodings
    Case("missing-encoding", lambda: _route(_one(b"Caf\xe9 without a declaration", b"")), "ok",
         published=("Café without a declaration",)),
    Case("wrong-encoding", lambda: _route(
        _one("Déclaré latin-1 mais UTF-8".encode(), b'<?xml version="1.0" encoding="iso-8859-1"?>')
    ), "ok"),
    Case("invalid-utf8", lambda: _route(_one(b"Broken \xff\xfe\xc3( bytes")), "ok"),
    Case("control-characters", lambda: _route(_one(b"Control\x01 char\x1bacters&#1; here")), "ok",
         published=("Control characters here",)),
    Case("bom-after-declaration", lambda: _route(
        _one(b"BOM after the declaration", b'<?xml version="1.0"?>\xef\xbb\xbf\n')), "ok"),
    Case("bom-after-whitespace", lambda: _route(
        _one(b"BOM after whitespace", b'\n  \xef\xbb\xbf<?xml version="1.0"?>\n')), "ok"),
    Case("utf16", lambda: _route(
        _one("UTF-16 feed é".encode(), b'<?xml version="1.0" encoding="utf-16"?>')
        .decode("utf-8").encode("utf-16")), "ok", published=("UTF-16 feed é",)),
    Case("charset-not-ascii", lambda: _route(
        _one("Charset byte é in the header".encode()), "application/rss+xml; charset=\xe9"),
        "ok", "ignored the Content-Type's charset",
        published=("Charset byte é in the header",)),
    Case("declared-undefined", lambda: _route(
        _one("Declared é undefined".encode(), b'<?xml version="1.0" encoding="undefined"?>')),
        "ok", "encoding declaration", published=("Declared é undefined",)),
    # Not a feed, or not what it says it is
    Case("html-page", lambda: _route(
        b"<!DOCTYPE html><html><head><title>Page</title></head><body><p>Hi</p></body></html>",
        "text/html"), "error", "HTML page"),
    Case("empty-200", lambda: _route(b""), "error", "empty"),
    Case("json-not-feed", lambda: _route(b'{"status": "ok", "items": [1, 2]}',
                                         "application/json"), "error", "not a JSON Feed"),
    Case("rss-as-json", lambda: _route(_one(b"RSS labelled JSON"), "application/json"), "ok",
         published=("RSS labelled JSON",)),
    Case("json-as-html", lambda: _route(json_feed(
        [{"id": "1", "title": "JSON labelled HTML", "content_text": "Text."}]), "text/html"), "ok",
         published=("JSON labelled HTML",)),
    Case("json-deep", lambda: _route(b'{"version": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
                                     "application/feed+json"), "error", "JSON nested too deep"),
    Case("json-huge-number", lambda: _route(b'{"version": ' + b"9" * 100_000 + b"}",
                                            "application/feed+json"), "error", "JSON"),
    # Size
    Case("huge-50mb", lambda: _route(b"", stream=lambda: huge_feed_chunks()), "error", "cap"),
    Case("huge-50mb-declared", lambda: _route(huge_feed()), "error", "cap"),
    Case("many-items", lambda: _route(many_items()), "ok", "read the first 1000 of 20000",
         published=("Item 0 of the long feed",)),
    Case("gzip-bomb", lambda: _route(gzip_bomb(), gzip=True), "error", "after decompression"),
    Case("gzip-in-gzip", lambda: _route(gzipped(gzipped(_one(b"Twice compressed"))), gzip=True),
         "error", "gzip"),
    Case("gzip-in-gzip-bomb", lambda: _route(gzipped(gzip_bomb()), gzip=True), "error", "gzip"),
    Case("single-text-node", lambda: _route(single_text_node()), "ok",
         published=("One enormous text node",)),
    Case("utf16-text-node", lambda: _route(utf16_text_node()), "ok", "texts cut to",
         published=("One enormous UTF-16 text node",)),
    Case("deep-xml", lambda: _route(deep_xml()), "error", "nested more than"),
    *(
        Case(f"long-fields-{number}", lambda number=number: _route(long_fields(number)), "ok",
             "over their length bounds", published=(long_title_published(number),))
        for number in range(5)
    ),
    Case("deep-html", lambda: _route(deep_html()), "ok", published=("Deeply nested HTML",)),
    # Entities
    Case("billion-laughs", lambda: _route(billion_laughs()), "error", "refused"),
    Case("billion-laughs-one-line", lambda: _route(billion_laughs(one_line=True)), "error",
         "refused"),
    Case("quadratic-blowup", lambda: _route(quadratic_blowup()), "error", "refused"),
    Case("xxe-system", lambda: _route(xxe("system")), "error", "external entity"),
    Case("xxe-public", lambda: _route(xxe("public")), "error", "external entity"),
    Case("xxe-parameter", lambda: _route(xxe("parameter")), "error", "parameter entity"),
    Case("external-dtd", lambda: _route(xxe("dtd")), "ok", published=("External DTD ignored",)),
    Case("small-entities", lambda: _route(small_entities()), "ok",
         published=("Small entities © Hostile & Co → work",)),
    # The same in encodings that do not write markup as ASCII bytes: EBCDIC
    # (by its "<?xm", then its declaration), UTF-7, a Content-Type's charset.
    Case("ebcdic-billion-laughs", lambda: _route(encoded(billion_laughs(), "cp037")), "error",
         "refused"),
    Case("ebcdic-xxe", lambda: _route(encoded(xxe("system"), "cp1140")), "error",
         "external entity"),
    Case("utf7-billion-laughs", lambda: _route(encoded(billion_laughs(), "utf-7")), "error",
         "refused"),
    Case("charset-ebcdic-xxe", lambda: _route(encoded(xxe("parameter"), "cp500", ""),
                                              "application/xml; charset=IBM500"),
         "error", "parameter entity"),
    Case("ebcdic-small-entities", lambda: _route(encoded(small_entities(), "cp500", "IBM500")),
         "ok", published=("Small entities © Hostile & Co → work",)),
    # The network
    Case("trickle", lambda: _route(_one(b"Slow " * 100), trickle=1.0), "error", "timed out"),
    Case("redirect-loop", lambda: _route(b"", status=302, etag=False,
                                         headers={"Location": "/redirect-loop"}),
         "error", "redirects"),
    Case("redirect-to-file", lambda: _route(b"", status=302, etag=False,
                                            headers={"Location": "file:///etc/passwd"}),
         "error", "refused"),
    Case("private-address", lambda: _route(_one(b"Never fetched")), "error",
         "not a public address", allow_private=False),
    Case("private-via-dns", lambda: _route(_one(b"Never fetched")), "error",
         "not a public address", allow_private=False, host="localhost"),
    # Entries
    Case("odd-dates", lambda: _route(odd_dates()), "ok", published=("Odd date 0",)),
    Case("duplicate-ids", lambda: _route(duplicate_ids()), "ok",
         published=("First under a shared id", "Second under a shared id")),
    Case("bare-entries", lambda: _route(bare_entries()), "ok",
         published=("An entry with a title only",)),
    # A source that crashed the whole pass once (issue 12): now one error or a clamped value
    Case("retry-after-huge", lambda: _route(b"", status=503, etag=False,
                                            headers={"Retry-After": "999999999999"}),
         "error", "HTTP 503"),
    Case("retry-after-superscript", lambda: _route(b"", status=429, etag=False,
                                                   headers={"Retry-After": "\u00b2"}),
         "error", "HTTP 429"),
    Case("retry-after-4400-digits", lambda: _route(b"", status=503, etag=False,
                                                   headers={"Retry-After": "9" * 4400}),
         "error", "HTTP 503"),
    Case("year-one-rss", lambda: _route(year_one("rss")), "ok", published=("Year one in RSS",)),
    Case("year-one-atom", lambda: _route(year_one("atom")), "ok",
         published=("Year one in Atom",)),
    Case("year-one-dc-date", lambda: _route(year_one("dc")), "ok",
         published=("Year one in dc:date",)),
    Case("year-one-json", lambda: _route(year_one("json"), "application/feed+json"), "ok",
         published=("Year one in JSON Feed",)),
    Case("ttl-huge", lambda: _route(odd_hints(b"9" * 4400, b"9" * 4400)), "ok",
         published=("Odd hints 99999999",)),
    Case("ttl-superscript", lambda: _route(odd_hints("\u00b2".encode(), "\u00b3".encode())),
         "ok"),
    Case("ttl-overflow", lambda: _route(odd_hints(b"9" * 400, b"0")), "ok"),
    Case("json-lone-surrogate", lambda: _route(lone_surrogate(), "application/feed+json"), "ok",
         published=("Lone \ufffd surrogate",)),
)  # fmt: skip


def serve(server: FeedServer, cases: tuple[Case, ...] = CASES) -> dict[str, Route]:
    """Every case on ``server``; returns the routes by case name."""
    return {case.name: server.add(case.path, case.route()) for case in cases}


def config_lines(server: FeedServer, cases: tuple[Case, ...] = CASES) -> list[str]:
    """``sources:`` list entries (indented two spaces) for every case."""
    lines = []
    for case in cases:
        lines += [
            f"  - name: {case.name}",
            f"    url: {case.url(server)}",
            "    section: Hostile",
        ]
        if not case.allow_private:
            lines.append("    allow_private: false")
    return lines
