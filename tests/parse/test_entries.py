"""Entries whose bytes the source sent last time are not parsed again.

Two halves: where :func:`entry_spans` says the entries are (checked against
feedparser's own count and against tricky markup), and what a parse with
``known`` digests gives (checked against a parse of the whole document: an
entry left out must be one that would have parsed to the same item).
"""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

import feedparser
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from aggregator.errors import ParseError
from aggregator.models import Document, EntryDigests, ParsedFeed
from aggregator.parse import parse_document
from aggregator.parse.entries import entry_spans
from aggregator.parse.normalize import limit_note
from tests.conftest import DATA

FEEDS = DATA / "feeds"
SPLITTABLE = ["atom03.xml", "atom10.xml", "rss091.xml", "rss10.rdf", "rss20.xml"]


def parse(
    body: bytes,
    known: EntryDigests | None = None,
    *,
    location: str = "https://example.org/feed",
    context: tuple[str, ...] = (),
    max_items: int = 1000,
) -> ParsedFeed:
    document = Document(location, body, "application/xml")
    return parse_document(
        document, "src", local=False, max_items=max_items, known=known, context=context
    )


# -- where the entries are ---------------------------------------------------------


@pytest.mark.parametrize("name", SPLITTABLE)
def test_spans_are_the_entries_feedparser_finds(name: str) -> None:
    body = (FEEDS / name).read_bytes()
    spans = entry_spans(body)
    assert spans is not None
    assert len(spans.spans) == len(feedparser.parse(body).entries)
    for start, end in spans.spans:
        piece = body[start:end]
        assert piece.startswith((b"<item", b"<entry"))
        assert piece.endswith((b"</item>", b"</entry>"))
    assert spans.frame.count(b"<item") + spans.frame.count(b"<entry") == 0


def rss(*items: bytes, channel: bytes = b"<channel>", prolog: bytes = b"") -> bytes:
    return (
        prolog
        + b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0">'
        + channel
        + b"<title>T</title>"
        + b"".join(items)
        + b"</channel></rss>"
    )


@pytest.mark.parametrize(
    "item",
    [
        b"<item><title>a</title><description><![CDATA[</item><item>]]></description></item>",
        b"<item><!-- </item> --><title>a</title></item>",
        b'<item><title x="a>b">a</title></item>',
        b"<item/>",
        b'<item a="/>"/>',
        b"<item><title>a</title><item><title>inner</title></item></item>",
        b"<item ><title>\xc3\xa9t\xc3\xa9</title></item >",
    ],
)
def test_an_entry_ends_where_its_element_ends(item: bytes) -> None:
    body = rss(b"<item><title>first</title></item>", item)
    spans = entry_spans(body)
    assert spans is not None
    assert [body[start:end] for start, end in spans.spans] == [
        b"<item><title>first</title></item>",
        item,
    ]


def test_a_byte_order_mark_shifts_nothing() -> None:
    body = b"\xef\xbb\xbf" + rss(b"<item><title>a</title></item>")
    spans = entry_spans(body)
    assert spans is not None
    ((start, end),) = spans.spans
    assert body[start:end] == b"<item><title>a</title></item>"


def test_the_frame_is_the_prolog_and_the_start_tags_around_the_entries() -> None:
    body = rss(
        b"<item><title>a</title></item>",
        channel=b'<channel xml:base="https://base.example/">',
        prolog=b"",
    )
    spans = entry_spans(body)
    assert spans is not None
    assert b'<rss version="2.0">' in spans.frame
    assert b'<channel xml:base="https://base.example/">' in spans.frame
    assert b"<?xml" in spans.frame
    assert b"<title>T</title>" not in spans.frame  # a sibling, not an ancestor


@pytest.mark.parametrize(
    "body",
    [
        rss(b"<item><title>a</title>"),  # not well-formed
        rss(),  # no entries
        rss(b"<item><title>a</title></item>").decode().encode("utf-16"),
        b"",
    ],
    ids=["malformed", "empty", "utf-16", "nothing"],
)
def test_what_cannot_be_split_is_none(body: bytes) -> None:
    assert entry_spans(body) is None


def test_without_takes_out_exactly_those_entries() -> None:
    items = [b"<item><title>%d</title></item>" % n for n in range(4)]
    body = rss(*items)
    spans = entry_spans(body)
    assert spans is not None
    assert spans.without({1, 3}) == rss(items[0], items[2])
    assert spans.without(set()) == body


# -- parsing with what was known -----------------------------------------------------


def item(n: int, text: str = "text") -> bytes:
    return (
        f"<item><title>Story {n}</title><link>https://example.org/{n}</link>"
        f"<description>&lt;p&gt;{text} {n}.&lt;/p&gt;</description></item>"
    ).encode()


def test_a_feed_that_gained_an_entry_parses_only_that_entry() -> None:
    first = parse(rss(item(1), item(2), channel=b"<channel><lastBuildDate>1</lastBuildDate>"))
    assert first.digests is not None and len(first.digests.entries) == 2
    body = rss(item(3), item(1), item(2), channel=b"<channel><lastBuildDate>2</lastBuildDate>")
    second = parse(body, first.digests)
    assert [i.title for i in second.items] == ["Story 3"]
    assert second.unchanged == 2
    assert second.items == parse(body).items[:1]
    assert second.digests is not None and len(second.digests.entries) == 3
    assert second.digests == parse(body).digests


def test_an_edited_entry_is_parsed_again() -> None:
    first = parse(rss(item(1), item(2)))
    second = parse(rss(item(1, "edited"), item(2)), first.digests)
    assert [(i.title, i.content_html) for i in second.items] == [("Story 1", "<p>edited 1.</p>")]
    assert second.unchanged == 1


def test_nothing_new_parses_no_entry_and_is_still_a_feed() -> None:
    body = rss(item(1), item(2))
    first = parse(body)
    second = parse(body, first.digests)
    assert (second.items, second.unchanged, second.title) == ((), 2, "T")
    assert second.digests == first.digests


@pytest.mark.parametrize(
    ("change", "options"),
    [
        ("language", {}),
        ("base", {}),
        ("namespace", {}),
        ("location", {"location": "https://moved.example/feed"}),
        ("context", {"context": ("fr",)}),
    ],
)
def test_a_change_entries_inherit_reads_them_all(change: str, options: dict[str, object]) -> None:
    body = rss(item(1), item(2), channel=b"<channel><language>en</language>")
    first = parse(body)
    assert first.digests is not None
    if change == "language":
        body = body.replace(b"<language>en</language>", b"<language>de</language>")
    elif change == "base":
        body = body.replace(b"<channel>", b'<channel xml:base="https://other.example/">')
    elif change == "namespace":
        body = body.replace(b"<rss ", b'<rss xmlns:dc="http://purl.org/dc/elements/1.1/" ')
    second = parse(body, first.digests, **options)  # type: ignore[arg-type]
    assert second.unchanged == 0
    assert len(second.items) == 2
    if change == "language":
        assert {i.language for i in second.items} == {"de"}


def test_entries_feedparser_counts_otherwise_are_not_remembered() -> None:
    # An item in a namespace feedparser does not know is no entry to it.
    body = rss(
        item(1),
        b'<x:item xmlns:x="https://unknown.example/"><title>not an entry</title></x:item>',
    )
    assert parse(body).digests is None


def test_a_document_cut_at_max_items_is_not_remembered() -> None:
    body = rss(item(1), item(2), item(3))
    assert parse(body, max_items=2).digests is None
    assert parse(body, max_items=3).digests is not None


def test_an_encoding_that_only_a_left_out_entry_forced_is_kept() -> None:
    # Declared UTF-8, but one entry has a Windows-1252 byte: feedparser reads
    # the whole document as Windows-1252.  Without that entry the rest would
    # read as UTF-8, and the new entry's "é" differently: so all are read.
    bad = b"<item><title>caf\xe9</title><link>https://example.org/c</link></item>"
    new = "<item><title>\u00e9t\u00e9</title><link>https://example.org/e</link></item>"
    first = parse(rss(bad, item(1)))
    body = rss(new.encode(), bad, item(1))
    second = parse(body, first.digests)
    assert second.items == parse(body).items
    assert second.unchanged == 0


# -- the property: a left-out entry is one that would parse to the same item ------

_TEXT = st.text(alphabet=st.sampled_from(list("ab <>&\"'] é\u4e2d\n")), min_size=0, max_size=12)


@dataclass(frozen=True)
class Story:
    title: str
    text: str
    number: int


def _entry_xml(story: Story, atom: bool, cdata: bool) -> str:
    link = f"https://example.org/{story.number}"
    body = f"<![CDATA[<p>{story.text.replace(']]>', '')}</p>]]>" if cdata else escape(story.text)
    if atom:
        return (
            f"<entry><id>{link}</id><title>{escape(story.title)}</title>"
            f"<link href={quoteattr(link)}/><updated>2024-06-0{story.number % 9 + 1}T00:00:00Z"
            f'</updated><content type="html">{body}</content></entry>'
        )
    return (
        f"<item><title>{escape(story.title)}</title><link>{link}</link>"
        f"<description>{body}</description></item>"
    )


def _document(stories: list[Story], atom: bool, cdata: bool, language: str, stamp: int) -> bytes:
    entries = "\n".join(_entry_xml(s, atom, cdata) for s in stories)
    if atom:
        text = (
            f'<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="{language}"><title>F</title>'
            f"<id>urn:f</id><updated>2024-06-0{stamp}T00:00:00Z</updated>{entries}</feed>"
        )
    else:
        text = (
            f'<rss version="2.0"><channel><title>F</title><language>{language}</language>'
            f"<lastBuildDate>{stamp}</lastBuildDate>{entries}</channel></rss>"
        )
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + text).encode()


_STORIES = st.lists(
    st.builds(Story, _TEXT, _TEXT, st.integers(0, 50)),
    max_size=6,
    unique_by=lambda s: s.number,
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    before=_STORIES,
    after=_STORIES,
    keep=st.lists(st.booleans(), min_size=6, max_size=6),
    atom=st.booleans(),
    cdata=st.booleans(),
    languages=st.tuples(st.sampled_from(["en", "fr"]), st.sampled_from(["en", "fr"])),
)
def test_a_left_out_entry_would_have_parsed_to_the_same_item(
    before: list[Story],
    after: list[Story],
    keep: list[bool],
    atom: bool,
    cdata: bool,
    languages: tuple[str, str],
) -> None:
    kept = [s for s, k in zip(before, keep, strict=False) if k]
    fresh = [s for s in after if s.number not in {k.number for k in kept}]
    old_body = _document(before, atom, cdata, languages[0], 1)
    new_body = _document(fresh + kept, atom, cdata, languages[1], 2)
    old = parse(old_body)
    whole = parse(new_body)
    delta = parse(new_body, old.digests)

    event(f"left out: {'some' if delta.unchanged else 'none'}")
    assert delta.digests == whole.digests
    assert (delta.title, delta.link, delta.language) == (whole.title, whole.link, whole.language)
    assert len(delta.items) + delta.unchanged == len(whole.items)
    # What was read is what a whole read gives for those entries, in order ...
    read = iter(whole.items)
    assert all(any(item == other for other in read) for item in delta.items)
    # ... and every entry left out is an item the source already gave.
    left_out = [i for i in whole.items if i not in delta.items]
    assert len(left_out) == delta.unchanged
    assert all(i in old.items for i in left_out)


def guid_item(guid: str, n: int) -> bytes:
    return (
        f"<item><guid isPermaLink='false'>{guid}</guid><title>Story {n}</title>"
        f"<link>https://example.org/{n}</link></item>"
    ).encode()


def test_a_new_entry_with_the_id_of_a_known_one_reads_them_all() -> None:
    # Which of the two keeps the id depends on both: the first in the document.
    first = parse(rss(guid_item("x", 1)))
    body = rss(guid_item("x", 2), guid_item("x", 1))
    second = parse(body, first.digests)
    assert second.unchanged == 0
    assert second.items == parse(body).items
    assert [i.entry_id for i in second.items] == ["x", None]


def test_a_document_whose_entries_share_an_id_is_not_remembered() -> None:
    assert parse(rss(guid_item("x", 1), guid_item("x", 2))).digests is None
    assert parse(rss(guid_item("x", 1), guid_item("y", 2))).digests is not None


def test_a_bug_in_finding_entries_reads_the_document_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aggregator.parse import feed

    def broken(body: bytes) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr(feed, "entry_spans", broken)
    parsed = parse(rss(item(1), item(2)))
    assert [i.title for i in parsed.items] == ["Story 1", "Story 2"]
    assert parsed.digests is None


# -- a document of more entries than max_items: the rest are not read ---------------


def test_no_reader_sees_the_entries_past_max_items(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aggregator.parse import feed

    given: list[bytes] = []
    real = feed._read

    def spy(body: bytes, headers: dict[str, str], source: str) -> object:
        given.append(body)
        return real(body, headers, source)

    monkeypatch.setattr(feed, "_read", spy)
    parsed = parse(rss(*(item(n) for n in range(1, 6))), max_items=2)
    assert [i.title for i in parsed.items] == ["Story 1", "Story 2"]
    assert parsed.warning == limit_note(2, 5)
    assert len(given) == 1
    assert b"Story 2" in given[0]
    assert not any(b"Story %d" % n in given[0] for n in (3, 4, 5))


def parse_or_error(body: bytes, max_items: int) -> ParsedFeed | str:
    try:
        return parse(body, max_items=max_items)
    except ParseError as error:
        return str(error)


def read_whole(monkeypatch: pytest.MonkeyPatch, body: bytes, max_items: int) -> ParsedFeed | str:
    """What the document gives when feedparser reads all of it, as it once did."""
    from aggregator.parse import feed

    with monkeypatch.context() as patch:
        patch.setattr(feed, "_read_first", lambda *_args: None)
        return parse_or_error(body, max_items)


# Each poisons the third entry, which a cut at two leaves out, in a way that
# changes what feedparser makes of the whole document.
POISONS = {
    # A Windows-1252 byte: the whole document is read as Windows-1252, so
    # the first entry's UTF-8 "été" reads as mojibake.
    "encoding": b"<item><title>caf\xe9</title><link>https://example.org/c</link></item>",
    # Well-formed to expat reading bytes, not once decoded: U+FFFF.
    "character": b"<item><title>nonchar \xef\xbf\xbf</title></item>",
    # An unbound prefix: well-formed XML, not well-formed with namespaces.
    "namespace": b"<item><title>p</title><dc:creator>someone</dc:creator></item>",
    # An entry in an entry: the inner one's end ends the outer for
    # feedparser, and the title after it is the feed's.
    "nested": b"<item><title>outer</title><item><title>inner</title></item>"
    b"<title>the feed's now</title></item>",
    # An item in a namespace feedparser does not know: no entry to it, and
    # its link is the feed's.
    "foreign": b'<x:item xmlns:x="https://unknown.example/"><title>x</title>'
    b"<link>https://example.org/the-feed-s</link></x:item>",
    # A channel's end inside an entry: what follows is no longer the feed's.
    "channel": b"<item><title>c</title><channel></channel></item>",
    # Nothing the first entries depend on: read cut, same result.
    "none": item(3),
}


@pytest.mark.parametrize("poison", POISONS)
def test_a_cut_document_reads_as_the_whole_one_would(
    monkeypatch: pytest.MonkeyPatch, poison: str
) -> None:
    first = "<item><title>\u00e9t\u00e9</title><link>https://example.org/e</link></item>"
    body = rss(
        first.encode(),
        item(2),
        POISONS[poison],
        item(4),
        channel=b"<channel><language>fr</language>",
    ).replace(b"</channel>", b"<link>https://example.org/after-the-entries</link></channel>")
    assert parse_or_error(body, 2) == read_whole(monkeypatch, body, 2)


def test_entries_in_a_namespace_feedparser_does_not_know_are_read_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # feedparser names an element of such a namespace by a prefix bound to
    # it anywhere before, if any: a binding in an entry left out renames the
    # feed's link after the entries.
    unknown = b"https://unknown.example/"
    body = (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0" xmlns="' + unknown + b'">'
        b"<channel><title>T</title>" + item(1) + item(2)
        + b'<item><title>3</title><z:x xmlns:z="' + unknown + b'"/></item>'
        b"<link>https://example.org/after-the-entries</link></channel></rss>"
    )  # fmt: skip
    assert parse_or_error(body, 2) == read_whole(monkeypatch, body, 2)


_POISON = st.sampled_from(sorted(POISONS))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    stories=_STORIES,
    poisons=st.lists(st.tuples(st.integers(0, 6), _POISON), max_size=2),
    max_items=st.integers(1, 6),
    atom=st.booleans(),
    cdata=st.booleans(),
)
def test_reading_the_first_entries_is_reading_the_whole_document(
    stories: list[Story],
    poisons: list[tuple[int, str]],
    max_items: int,
    atom: bool,
    cdata: bool,
) -> None:
    body = _document(stories, atom, cdata, "en", 1)
    marker = b"<entry>" if atom else b"<item>"
    for position, poison in poisons:
        # Before the position-th entry, or after the last.
        starts = [i for i in range(len(body)) if body.startswith(marker, i)]
        closing = b"</feed>" if atom else b"</channel>"
        at = starts[position] if position < len(starts) else body.rindex(closing)
        entry = POISONS[poison]
        if atom:
            entry = entry.replace(b"<item>", b"<entry>").replace(b"</item>", b"</entry>")
            entry = entry.replace(b"<channel>", b"<feed>").replace(b"</channel>", b"</feed>")
        body = body[:at] + entry + body[at:]
    with pytest.MonkeyPatch.context() as monkeypatch:
        whole = read_whole(monkeypatch, body, max_items)
    event(f"cut: {'error' if isinstance(whole, str) else 'feed'}")
    assert parse_or_error(body, max_items) == whole
