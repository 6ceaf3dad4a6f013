"""The feedparser adapter: bytes plus response headers in, a :class:`ParsedFeed` out.

feedparser is imported here only.  It is given the bytes, never a URL, so it
does no I/O of its own.  Its sanitizer and relative-URI resolver are turned
off because they are its slowest parts; :mod:`.normalize` does both with nh3,
faster and with a stricter allow-list.

feedparser never sees the bytes as they came: :func:`.xmlguard.prepare_xml`
first takes out the DTD (refusing external and nested entities, bounding
internal ones) and repairs what breaks expat without changing the text.

Most documents it never sees at all: :mod:`.wellformed` reads well-formed
RSS 2.0, RSS 1.0 and Atom 1.0 about a hundred times faster and gives the
same result, and feedparser reads what that reader declines (ill-formed XML,
other encodings, other versions, anything unusual).  What it must do alike
is handed to it from here (:data:`_RULES`), so feedparser stays imported in
this module only.

Nor does it see the entries past ``max_items``, which would cost its time
and memory (a few kilobytes each: 40 MB for 20,000) to be thrown away:
the document goes to feedparser without them, unless the whole document
would read otherwise (see :func:`_read_first`).
"""

from __future__ import annotations

import functools
import hashlib
import io
import logging
import re
import urllib.parse
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, NamedTuple
from xml.parsers import expat

import feedparser
import feedparser.datetimes
import feedparser.encodings
import feedparser.html
import feedparser.mixin
import feedparser.urls

from .. import __version__
from ..errors import NotAFeed, ParseError
from ..models import DIGEST_BYTES, Document, EntryDigests, ParsedFeed, ParsedItem
from .charsets import content_charset, without_unknown_charset
from .entries import EntrySpans, entry_spans
from .normalize import (
    MAX_HTML_CHARS,
    SANITIZER_VERSION,
    enclosures,
    http_url,
    image_url,
    impossible_date,
    joined_as_is,
    limit_note,
    normalize_language,
    plain_text,
    sanitize_html,
    undated_note,
    utc_from_struct,
)
from .wellformed import Declined, FallbackRules, read_wellformed
from .xmlguard import prepare_xml

log = logging.getLogger(__name__)

_HTML_TYPES = ("text/html", "application/xhtml+xml")
_BENIGN = (feedparser.CharacterEncodingOverride, feedparser.NonXMLContentType)
_GZIP_MAGIC = b"\x1f\x8b"
# Changes when _context hashes other facts, or entries are read for more or
# otherwise (3: enclosures and images; 4: links with a port urllib cannot
# read dropped; 5: impossible dates dropped), so that stored items are read again.
_CONTEXT_FORMAT = "5"
_NO_ID = bytes(DIGEST_BYTES)
_MIXIN = feedparser.mixin._FeedParserMixin


def _urljoin(base: str, uri: str) -> str:
    """feedparser's URL join: a URI that it gives back as it is, without its
    steps: an absolute http(s) URL (:func:`.normalize.joined_as_is`), or one
    of another scheme than the base's, such as an Atom id's urn: or tag:."""
    if _JOINS_AS_IS and (joined_as_is(uri, base) or _other_scheme(uri, base)):
        return uri
    joined: str = feedparser.urls._urljoin(base, uri)
    return joined


# A URI with a scheme (urlsplit's first ':' after scheme characters), no '//'
# after it (no host for urlsplit to check) and none of the characters it
# removes.  urljoin gives it back as it is unless the base has its scheme,
# a relative one (http:x is a relative reference).
_SCHEME_URI = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):(?!//)[^\t\r\n]*")


def _other_scheme(uri: str, base: str) -> bool:
    match = _SCHEME_URI.fullmatch(uri)
    if match is None:
        return False
    scheme = match.group(1).lower()
    base_scheme = _base_scheme(base)
    return base_scheme is not None and (
        scheme != base_scheme or scheme not in urllib.parse.uses_relative
    )


@functools.lru_cache(maxsize=64)
def _base_scheme(base: str) -> str | None:
    """The scheme urljoin reads in ``base``; None when it cannot read it."""
    try:
        return urllib.parse.urlsplit(base).scheme
    except ValueError:
        return None


# feedparser's date parser, remembering its last answers: an Atom entry's
# published and updated dates are mostly the same text.  (A function of the
# text alone, and struct_time is immutable.)
_parse_date = functools.lru_cache(maxsize=256)(feedparser.datetimes._parse_date)

# Whether this feedparser joins as urllib does for such URLs (it rewrites
# slashes after the scheme first, which they have none of).
_JOINS_AS_IS = all(
    feedparser.urls._urljoin(base, uri) == uri
    for base in ("", "http://example.com/feed.xml", "https://example.org/a/")
    for uri in (
        "https://example.com",
        "http://example.com:8080/a//b?c=1#d",
        "urn:example:entry-1",
        "tag:example.com,2024:entry/1?x#y",
    )
)
# What feedparser does that the fast reader must do alike, from feedparser itself.
_RULES = FallbackRules(
    namespaces={namespace.lower(): prefix for namespace, prefix in _MIXIN.namespaces.items()},
    handled=frozenset(
        name.split("_", 2)[2] for name in dir(_MIXIN) if name.startswith(("_start_", "_end_"))
    ),
    parse_date=_parse_date,
    urljoin=_urljoin,
    safe_absolute_uri=feedparser.urls.make_safe_absolute_uri,
    looks_like_html=_MIXIN.looks_like_html,
    cp1252=feedparser.html._cp1252,
    relative_uris=frozenset(_MIXIN.can_be_relative_uri),
)
# Documents read in this process, by reader ("lxml", "feedparser"): for the
# benchmarks' report of how many took the fast path.
READERS: Counter[str] = Counter()


def parse_feed(
    document: Document,
    source: str,
    max_items: int | None = None,
    known: EntryDigests | None = None,
    context: Sequence[str] = (),
) -> ParsedFeed:
    """The feed in ``document``; of its entries, only the first ``max_items`` are read.

    ``known`` is the :class:`EntryDigests` of the source's last document: an
    entry with the same bytes in the same context is not read (it is counted
    in ``unchanged``).  ``context`` is what the caller applies to every entry
    after parsing (a source's language), so that a change of it reads them all.
    """
    headers = dict(document.headers)
    headers["content-location"] = document.location
    # A local file has no content type; feedparser would warn that "none"
    # is not XML, when it is the file name that says what the file is.
    # A charset that names no text encoding would make feedparser (and the
    # fast reader) raise, not fall back: it is left out, and the XML
    # declaration, byte-order mark or sniffing decide, as with no charset.
    content_type, ignored_charset = without_unknown_charset(
        document.content_type or "application/xml"
    )
    headers["content-type"] = content_type
    if not document.body.strip():
        raise ParseError(source, "empty response: no feed in it")
    if document.body.startswith(_GZIP_MAGIC):
        # What is left after the HTTP layer's one decompression, or a .gz
        # file: not inflated again, so a nested bomb goes no further.
        raise ParseError(source, "the body is gzip-compressed data, not a feed")
    prepared = prepare_xml(document.body, source, content_charset(content_type))
    if prepared.root is not None and prepared.root.lower() == "html":
        raise NotAFeed(source, "got an HTML page, not a feed")
    spans = _entry_spans(prepared.body)
    total = None  # the document's entries, when they are more than max_items
    result = None
    if spans is not None and max_items is not None and len(spans.spans) > max_items:
        total = len(spans.spans)
        result = _read_first(spans, max_items, headers, source)
        # Entries past max_items are never read, so never known: a document
        # cut is not remembered, and is read again next time.
        spans = None
    digests = spans.digests() if spans is not None else ()
    omitted: set[int] = set()
    if spans is not None and known is not None:
        omitted = {index for index, digest in enumerate(digests) if digest in known.entries}
    if result is None:
        body = spans.without(omitted) if spans is not None and omitted else prepared.body
        result = _read(body, headers, source)
    state = _context(spans, document, headers, result, context) if spans is not None else None
    if omitted:
        assert spans is not None and known is not None
        skipped = [known.entries[digests[index]] for index in sorted(omitted)]
        if not _reads_alike(result, state, known, skipped, len(digests)):
            # Something the entries inherit changed, feedparser does not see
            # the entries we took out as we do, or a new entry has the id of
            # one taken out (which of them keeps it depends on both): read
            # them all.
            omitted = set()
            result = _read(prepared.body, headers, source)
            state = _context(spans, document, headers, result, context)
    entries = result.get("entries") or []
    remembered = _remember(digests, omitted, entries, known, state)
    problem = result.get("bozo_exception") if result.get("bozo") else None
    # As reader does: a feed that is not well-formed is an error even when
    # feedparser's loose parser salvages entries, since what it salvages from
    # broken markup may be garbage.  A wrong declared encoding or content type
    # that feedparser worked around is only a warning.
    if problem is not None and not isinstance(problem, _BENIGN):
        raise ParseError(source, f"not a well-formed feed: {problem}")
    if not entries and not omitted and not result.get("version"):
        raise NotAFeed(source, "not a feed (no RSS, Atom or JSON Feed found)")
    feed = result.get("feed", {})
    base = document.location
    site_link = http_url(feed.get("link"), base)
    language = normalize_language(feed.get("language"))
    read = [_item(entry, base, language) for entry in entries[:max_items]]
    items = tuple(entry.item for entry in read)
    warnings = list(prepared.notes)
    if ignored_charset is not None:
        warnings.insert(0, f"ignored the Content-Type's charset {ignored_charset[:64]!r}")
    total = total if total is not None else len(entries)
    if max_items is not None and total > max_items:
        warnings.append(limit_note(max_items, total))
    cut = sum(entry.cut for entry in read)
    if cut:
        warnings.append(f"{cut} entries cut to {MAX_HTML_CHARS} characters")
    dropped = sum(entry.dropped for entry in read)
    if dropped:
        warnings.append(f"{dropped} enclosures dropped (not an http(s) URL, or too many)")
    undated = [entry.bad_date for entry in read if entry.bad_date is not None]
    if undated:
        warnings.append(undated_note(len(undated), *undated[0]))
    if problem is not None:
        warnings.append(f"{type(problem).__name__}: {problem}")
    ttl_seconds, hint_warning = _ttl_seconds(feed)
    if hint_warning:
        warnings.append(hint_warning)
    return ParsedFeed(
        title=plain_text(feed.get("title", "")) or None,
        link=site_link,
        language=language,
        items=items,
        warning="; ".join(warnings) or None,
        ttl_seconds=ttl_seconds,
        unchanged=len(omitted),
        digests=remembered,
    )


class EncodingDetectorRefused(Exception):
    """Reading this document needs chardet, and this process refuses to load it
    (:func:`refusing_encoding_detector`).  Not the source's error: the caller
    reads the document again in a process that may load chardet."""


_refusing_detector = False
_chardet_encoding = feedparser.encodings.lazy_chardet_encoding


@contextmanager
def refusing_encoding_detector() -> Iterator[None]:
    """Inside, a document that none of its declared encodings decodes raises
    :class:`EncodingDetectorRefused` instead of loading chardet's models.

    feedparser asks chardet only then, and the first question loads its
    models: about 27 MB that a process keeps until it ends.  A worker that
    lives on for the rest of the pass should not take that on for the rare
    document that needs it; a process that ends with its job may.
    """
    global _refusing_detector
    before, _refusing_detector = _refusing_detector, True
    try:
        yield
    finally:
        _refusing_detector = before


def _detect_encoding(data: bytes) -> str:
    if _refusing_detector:
        raise EncodingDetectorRefused
    assert _chardet_encoding is not None
    return str(_chardet_encoding(data))


# feedparser looks its chardet hook up by name each time it needs it (and
# only then): ours asks whether this process may load chardet first.
if _chardet_encoding is not None:
    feedparser.encodings.lazy_chardet_encoding = _detect_encoding


def _entry_spans(body: bytes) -> EntrySpans | None:
    try:
        return entry_spans(body)
    except Exception:  # a bug of ours: the document is read whole, as before
        log.exception("cannot find the entries of a document")
        return None


def _read_first(spans: EntrySpans, max_items: int, headers: dict[str, str], source: str) -> Any:
    """feedparser's result for the document without its entries past
    ``max_items``; or None when those it keeps could read otherwise than in
    the whole document, which the caller then reads whole.

    What feedparser makes of the entries kept and of the feed depends on the
    rest of the document in three ways, all found here on the whole document
    as feedparser would see it, at a small part of its cost: the encoding it
    reads it in (the first of its candidates that decodes every byte, so one
    stray byte anywhere decides it: its own encoding step, run here); whether
    it is well-formed once decoded (a character XML forbids, an unbound
    namespace prefix make the whole feed an error); and whether each entry
    left out is one entry to feedparser, ending where it ends
    (:func:`_plain_entries`).  The cut document must then be read in the
    same encoding, with the same problem if any, into exactly the entries kept.
    """
    whole: dict[str, Any] = {}
    decoded = feedparser.encodings.convert_to_utf8(headers, spans.body, whole)
    if not _plain_entries(decoded, len(spans.spans)):
        return None
    del decoded
    result = _read(spans.without(range(max_items, len(spans.spans))), headers, source)
    entries = result.get("entries") or []
    if (
        result.get("encoding") != whole.get("encoding")
        or _problem_name(result) != _problem_name(whole)
        or len(entries) != max_items
    ):
        return None
    return result


# What feedparser takes for an entry: the local names .entries finds them by.
_ENTRY_NAMES = frozenset({"item", "entry"})
# Elements that, inside an entry, would end it early to feedparser (another
# entry's end) or end the feed (what follows is then not the feed's): local
# names, lower-cased as feedparser has them.
_BREAKS = frozenset({"item", "entry", "channel", "feed"})
# The namespaces feedparser knows by their address: elements in any other
# are named by whichever prefix the document bound to it first, anywhere.
_KNOWN_NAMESPACES = frozenset(uri.lower() for uri in feedparser.mixin._FeedParserMixin.namespaces)


def _plain_entries(decoded: bytes, count: int) -> bool:
    """Whether ``decoded`` (feedparser's UTF-8 of the document) is
    well-formed with namespaces, and has ``count`` entries, all of one name
    in no namespace or one feedparser knows, none holding an element that
    would end it or the feed early.  Then feedparser reads each entry as one,
    whatever else the document holds.

    expat as feedparser's strict parser uses it (namespaces on), with no
    handler but for start and end tags.
    """
    parser = expat.ParserCreate(namespace_separator=" ")
    names: set[str] = set()
    depth = 0  # elements open
    entry_depth = 0  # elements open from the entry being read, itself included; 0: none
    found = 0
    broken = False

    def start(name: str, _attributes: object) -> None:
        nonlocal depth, entry_depth, found, broken
        depth += 1
        local = name.rpartition(" ")[2]
        if entry_depth:
            entry_depth += 1
            broken = broken or local.lower() in _BREAKS
        elif depth > 1 and local in _ENTRY_NAMES:  # as .entries finds them
            entry_depth = 1
            found += 1
            names.add(name)

    def end(_name: str) -> None:
        nonlocal depth, entry_depth
        depth -= 1
        entry_depth = max(0, entry_depth - 1)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.ordered_attributes = True  # a list is cheaper than a dict, and unused
    try:
        parser.Parse(decoded, True)
    except expat.ExpatError:
        return False  # an error feedparser reports for the whole document
    if broken or found != count or len(names) != 1:
        return False
    namespace = names.pop().rpartition(" ")[0]
    return not namespace or namespace.lower() in _KNOWN_NAMESPACES


def _problem_name(result: Any) -> str:
    problem = result.get("bozo_exception") if result.get("bozo") else None
    return type(problem).__name__ if problem is not None else ""


def _entry_id(entry: Any) -> str | None:
    return (entry.get("id") or "").strip() or None


def _id_digest(entry: Any) -> bytes:
    """A hash of the entry's id (:func:`_entry_id`); zeros when it has none."""
    entry_id = _entry_id(entry)
    if entry_id is None:
        return _NO_ID
    return hashlib.blake2b(
        entry_id.encode("utf-8", "surrogatepass"), digest_size=DIGEST_BYTES
    ).digest()


def _reads_alike(
    result: Any, state: bytes | None, known: EntryDigests, skipped: list[bytes], total: int
) -> bool:
    """Whether the entries read, without those skipped, are read as in the whole document."""
    entries = result.get("entries") or []
    if state != known.context or len(entries) != total - len(skipped):
        return False
    skipped_ids = set(skipped) - {_NO_ID}
    return not any(_id_digest(entry) in skipped_ids for entry in entries)


def _remember(
    digests: tuple[bytes, ...],
    omitted: set[int],
    entries: list[Any],
    known: EntryDigests | None,
    state: bytes | None,
) -> EntryDigests | None:
    """This document's digests, or None when the next one must be read whole:
    feedparser's entries are not the spans, or two entries share an id (which
    of them keeps it would depend on the other)."""
    if state is None or len(entries) != len(digests) - len(omitted):
        return None
    read = iter(entries)
    remembered = {}
    for index, digest in enumerate(digests):
        if index in omitted:
            assert known is not None
            remembered[digest] = known.entries[digest]
        else:
            remembered[digest] = _id_digest(next(read))
    ids = [entry_id for entry_id in remembered.values() if entry_id != _NO_ID]
    if len(set(ids)) != len(ids):
        return None
    return EntryDigests(state, remembered)


_feedparser_only = False


@contextmanager
def feedparser_only() -> Iterator[None]:
    """Inside, feedparser reads every document (the fast reader claims none):
    what the fast reader's results are checked against."""
    global _feedparser_only
    before, _feedparser_only = _feedparser_only, True
    try:
        yield
    finally:
        _feedparser_only = before


def _read(body: bytes, headers: dict[str, str], source: str) -> Any:
    """feedparser's result for ``body``: from the fast reader when it claims
    the document, else from feedparser."""
    if _feedparser_only:
        return _feedparser(body, headers, source)
    try:
        result = read_wellformed(body, headers, _RULES)
    except Exception:  # a bug of ours: feedparser reads it, as before
        log.exception("%s: the fast reader failed", source)
        result = Declined("the fast reader failed")
    if isinstance(result, Declined):
        READERS["feedparser"] += 1
        log.debug("%s: read by feedparser: %s", source, result.reason)
        return _feedparser(body, headers, source)
    READERS["lxml"] += 1
    return result


def _feedparser(body: bytes, headers: dict[str, str], source: str) -> Any:
    try:
        return feedparser.parse(
            io.BytesIO(body),
            response_headers=headers,
            sanitize_html=False,
            resolve_relative_uris=False,
        )
    except EncodingDetectorRefused:
        raise
    except Exception as exc:
        # feedparser's contract is to report bad input as "bozo", but some
        # garbage still gets through to an exception (a non-UTF-8 encoding
        # name, say): bad input all the same, so one line for this source.
        raise ParseError(source, f"unreadable feed: {type(exc).__name__}: {exc}") from None


def _context(
    spans: EntrySpans,
    document: Document,
    headers: dict[str, str],
    result: Any,
    context: Sequence[str],
) -> bytes:
    """A hash of everything an entry's item depends on besides its own bytes.

    That is: the versions of this program and of the libraries that read
    entries (a newer one may read them differently), the document's address
    (links resolve against it), the headers feedparser reads, the prolog and
    the start tags around the entries (namespaces, xml:base, xml:lang), what
    feedparser made of the document as a whole (its encoding, version,
    language, a benign problem), and what the caller applies to every entry.
    """
    problem = result.get("bozo_exception") if result.get("bozo") else None
    facts = [
        _CONTEXT_FORMAT,
        __version__,
        feedparser.__version__,
        SANITIZER_VERSION,
        document.location,
        headers.get("content-type", ""),
        headers.get("content-language", ""),
        str(result.get("encoding", "")),
        str(result.get("version", "")),
        str(normalize_language(result.get("feed", {}).get("language")) or ""),
        type(problem).__name__ if problem is not None else "",
        *context,
    ]
    digest = hashlib.blake2b(digest_size=DIGEST_BYTES)
    digest.update("\x1f".join(facts).encode("utf-8", "surrogatepass"))
    digest.update(b"\x1e")
    digest.update(spans.frame)
    return digest.digest()


_PERIOD_SECONDS = {
    "hourly": 3600,
    "daily": 86400,
    "weekly": 604800,
    "monthly": 2592000,
    "yearly": 31536000,
}


# A polling hint longer than this is a mistake: it is ignored, with a warning.
# (The scheduler clamps what it keeps to max_interval anyway.)
_MAX_HINT_SECONDS = 366 * 86400


def _ttl_seconds(feed: Any) -> tuple[float | None, str | None]:
    """RSS <ttl> (minutes) or sy:updatePeriod / sy:updateFrequency, as seconds;
    and a warning when a hint was out of range and ignored."""
    hints = []
    ignored = []
    ttl = _whole_number(feed.get("ttl"))
    if ttl is not None and 0 < ttl * 60 <= _MAX_HINT_SECONDS:
        hints.append(ttl * 60.0)
    elif str(feed.get("ttl", "")).strip():
        ignored.append("<ttl>")
    period = _PERIOD_SECONDS.get(str(feed.get("sy_updateperiod", "")).strip().lower())
    if period is not None:
        frequency = _whole_number(feed.get("sy_updatefrequency", "1"))
        if frequency is None or frequency <= 0:
            ignored.append("sy:updateFrequency")
            frequency = 1
        hints.append(period / frequency)
    warning = f"ignored an out-of-range {' and '.join(ignored)}" if ignored else None
    return (max(hints) if hints else None), warning


def _whole_number(value: object) -> int | None:
    """A hint's ASCII digits as a number; None for anything else (``²``, a
    4,400-digit number: int() would take the first and refuse the second)."""
    text = str(value if value is not None else "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return None
    return int(text)


class _Read(NamedTuple):
    item: ParsedItem
    cut: bool  # its content was cut to the size bound
    dropped: int  # enclosures dropped
    bad_date: tuple[str, str] | None  # (the entry, its date) when a date was left out


def _item(entry: Any, base: str, feed_language: str | None) -> _Read:
    link = http_url(entry.get("link"), base) or _alternate_link(entry, base)
    content, content_language = _content(entry)
    attached, dropped = enclosures(_enclosure_candidates(entry), link or base)
    title = plain_text(entry.get("title", ""))
    published, bad_published = _date(entry, "published")
    updated, bad_updated = _date(entry, "updated")
    bad = bad_published or bad_updated
    item = ParsedItem(
        entry_id=_entry_id(entry),
        title=title,
        link=link,
        published=published,
        updated=updated,
        content_html=sanitize_html(content, link or base),
        author=plain_text(entry.get("author", "")) or None,
        language=normalize_language(content_language) or feed_language,
        categories=_categories(entry),
        enclosures=attached,
        image=image_url(_image(entry), link or base),
    )
    name = title or _entry_id(entry) or link or "an entry without title"
    return _Read(item, len(content) > MAX_HTML_CHARS, dropped, (name, bad) if bad else None)


def _alternate_link(entry: Any, base: str) -> str | None:
    """The first usable link of the entry's other alternates, when the one
    feedparser took for its link is not (a port past 65535, a javascript:
    URL): Atom may give several, by type or language, and a reader follows
    whichever works.  Never an enclosure, an edit or a related link."""
    for candidate in entry.get("links") or ():
        if not isinstance(candidate, dict) or candidate.get("rel", "alternate") != "alternate":
            continue
        href = candidate.get("href")
        url = http_url(href, base) if isinstance(href, str) else None
        if url is not None:
            return url
    return None


def _date(entry: Any, key: str) -> tuple[datetime | None, str | None]:
    """The entry's ``published`` or ``updated`` date as UTC, and its text when
    it was there but is left out: impossible (feedparser would have moved it
    to another date, see :func:`.normalize.impossible_date`) or unreadable.
    An impossible date is no date, as a missing one is: the entry is dated
    when it was first seen."""
    # dict.get: feedparser's own get() maps a missing updated_parsed to
    # published_parsed (and warns about it); we want each date as given.
    text = dict.get(entry, key)
    text = text.strip() if isinstance(text, str) else ""
    if text and impossible_date(text):
        return None, text
    value = utc_from_struct(dict.get(entry, key + "_parsed"))
    return value, (text if value is None and text else None)


def _enclosure_candidates(entry: Any) -> list[tuple[object, object, object]]:
    """RSS <enclosure> and Atom rel="enclosure" links (feedparser's
    ``enclosures``), then Media RSS <media:content>: (url, type, length)."""
    found: list[tuple[object, object, object]] = []
    for enclosure in entry.get("enclosures") or []:
        if isinstance(enclosure, dict):
            found.append((enclosure.get("href"), enclosure.get("type"), enclosure.get("length")))
    for media in entry.get("media_content") or []:
        if isinstance(media, dict):
            found.append((media.get("url"), media.get("type"), media.get("filesize")))
    return found


def _image(entry: Any) -> object:
    """The entry's main image as given: <media:thumbnail>, <itunes:image>, or
    an image among its <media:content>."""
    for thumbnail in entry.get("media_thumbnail") or []:
        if isinstance(thumbnail, dict) and thumbnail.get("url"):
            return thumbnail["url"]
    image = entry.get("image")
    if isinstance(image, dict) and image.get("href"):
        return image["href"]
    for media in entry.get("media_content") or []:
        if isinstance(media, dict) and (
            media.get("medium") == "image" or str(media.get("type", "")).startswith("image/")
        ):
            return media.get("url")
    return None


# An entry's categories, for filter rules: a few, each short.
_MAX_CATEGORIES = 32
_MAX_CATEGORY_CHARS = 200


def _categories(entry: dict[str, Any]) -> tuple[str, ...]:
    """The entry's categories (RSS <category>, Atom category terms and labels), bounded."""
    names: list[str] = []
    for tag in (entry.get("tags") or ())[:_MAX_CATEGORIES]:
        if isinstance(tag, dict):
            for key in ("term", "label"):
                value = tag.get(key)
                if isinstance(value, str) and value.strip():
                    names.append(plain_text(value)[:_MAX_CATEGORY_CHARS])
    return tuple(dict.fromkeys(names))[:_MAX_CATEGORIES]


def _content(entry: Any) -> tuple[str, str | None]:
    """The fullest body an entry offers: its longest content, else its summary."""
    candidates = []
    for part in entry.get("content") or []:
        value = part.get("value") or ""
        if part.get("type") not in (*_HTML_TYPES, "text/plain", None):
            continue
        if part.get("type") == "text/plain":
            value = _text_to_html(value)
        candidates.append((value, part.get("language")))
    summary = entry.get("summary_detail") or {}
    if entry.get("summary"):
        value = entry["summary"]
        if summary.get("type") == "text/plain":
            value = _text_to_html(value)
        candidates.append((value, summary.get("language")))
    if not candidates:
        return "", None
    return max(candidates, key=lambda pair: len(pair[0]))


def _text_to_html(text: str) -> str:
    from html import escape

    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
