"""Normalizing what sources say: safe HTML, plain-text titles, absolute URLs, UTC dates.

nh3 (the Ammonia sanitizer) is imported here only.  Every HTML fragment that
reaches the store went through :func:`sanitize_html`, so nothing downstream
needs to trust a source.

Bounds, because the sanitizer and the summarizer after it slow down with the
size and nesting of what they get (html5ever is quadratic in the depth of
nested block elements): an entry's HTML is cut at :data:`MAX_HTML_CHARS`, and
HTML nested deeper than :data:`MAX_DEPTH` is kept as its text alone.  Titles,
authors, links and ids are bounded too (:func:`bound_fields`), so what one
entry can bring to the published files is bounded whatever the source sends.
"""

from __future__ import annotations

import calendar
import functools
import hashlib
import html
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urljoin, urlsplit

import nh3

from ..models import Enclosure, ParsedFeed, ParsedItem

# Part of what an entry's stored HTML depends on (see .feed._context).
SANITIZER_VERSION: str = getattr(nh3, "__version__", "")

# Ammonia's defaults minus layout containers that only carry styling;
# no style attributes, no forms, no embedded content besides images.
_TAGS = nh3.ALLOWED_TAGS - {"center", "map", "area", "nav", "header", "footer"}
_ATTRIBUTES = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "a": {"href", "hreflang", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "time": {"datetime"},
}
_URL_ATTRIBUTES = frozenset({"href", "src", "cite"})
_SAFE_SCHEMES = frozenset({"http", "https", "mailto"})
MAX_HTML_CHARS = 100_000  # of one entry's HTML, before sanitizing
MAX_DEPTH = 256  # nested elements; deeper HTML is reduced to its text
# What one entry's fields may hold (see bound_fields): a feed under the byte
# cap with 1 MB titles made 47 MB of published files.
MAX_TITLE_CHARS = 300  # an entry's or a feed's title; longer ones are cut
MAX_NAME_CHARS = 200  # an author's name; longer ones are cut
MAX_URL_CHARS = 4096  # a link; a longer one is dropped (a cut URL leads elsewhere)
MAX_ID_CHARS = 512  # an entry id; a longer one is replaced by a hash of it

# A tag, comment or declaration: "<" then a letter, "/", "!" or "?", as HTML
# reads it ("a < b" is text), up to its ">" or the end (a fragment cut short).
_TAG = re.compile(r"<[A-Za-z/!?][^>]*(?:>|\Z)")
# After unescaping, text that would read as a tag to a reader that takes a
# title for HTML (many do, in RSS): "<script", "</a", "<!--", "<?php", even
# without its closing ">".
_TAG_LIKE = re.compile(r"<[/!?]?[A-Za-z!?][^<>]*>?")
_START_OR_END = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)\b[^>]*?(/?)>")
# Elements that never nest: void ones, and ones the next sibling closes.
_NON_NESTING = frozenset(
    {
        "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
        "source", "track", "wbr", "p", "li", "dt", "dd", "tr", "td", "th", "option",
        "optgroup", "thead", "tbody", "tfoot", "colgroup", "caption", "rb", "rt", "rp",
    }
)  # fmt: skip
_SPACE = re.compile(r"\s+")
# ASCII that RFC 3986 never allows in a URL (besides controls, removed first).
_NOT_IN_URL = re.compile(r"[\s\"<>`{}|\\^]")
# Characters that are not text, removed from everything a source says: C0
# controls other than tab, newline and CR (XML 1.0 forbids them), DEL and the
# C1 controls (invisible), two non-characters, and the bidi embeddings,
# overrides and isolates, which reorder whatever follows them on a page
# ("evil\u202etxt.exe" shows as "evilexe.txt").
_CONTROL = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufffe\uffff]"
)
_ELLIPSIS = "\u2026"


def sanitize_html(fragment: str, base_url: str | None) -> str:
    """Allow-listed HTML with every link made absolute against ``base_url``."""

    def absolutize(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in _URL_ATTRIBUTES:
            return value
        return absolute_url(value, base_url)

    if (
        _UNCHANGED_CHECKED
        and len(fragment) <= MAX_HTML_CHARS
        and _UNCHANGED_AND_NO_CONTROL.fullmatch(fragment)
    ):
        # What the steps below give it (strip_control and the cut change
        # nothing, nh3 gives it back), in one pass over it.
        return fragment.strip()
    fragment = strip_control(fragment)
    if len(fragment) > MAX_HTML_CHARS:
        fragment = fragment[:MAX_HTML_CHARS]
    if _UNCHANGED_CHECKED and _UNCHANGED_BY_NH3.fullmatch(fragment):
        return fragment.strip()  # what nh3 would give, in a tenth of its time
    if nesting_depth(fragment) > MAX_DEPTH:
        fragment = "".join(
            f"<p>{html.escape(line)}</p>" for line in plain_text_lines(fragment) if line
        )
    return _clean(fragment, absolutize).strip()


def _clean(fragment: str, attribute_filter: Callable[[str, str, str], str | None]) -> str:
    cleaned: str = nh3.clean(
        fragment,
        tags=set(_TAGS),
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes=set(_SAFE_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
    return cleaned


# HTML that nh3.clean gives back as it is: text, and paragraphs and headings
# of text without attributes, where the text holds nothing that the HTML
# parser or serializer rewrites: no "<", ">" or "&" (a reference is written
# back decoded, or escaped), no carriage return (read as a line feed), NUL,
# no-break space (written as &nbsp;), byte-order mark or lone surrogate.
# Most entries of many feeds are that, and need no sanitizer (its parse and
# serialization were a third of parsing's time on the benchmark's feeds).
# Possessive, so that no text makes it backtrack.
_TEXT = r"[^<>&\r\x00\xa0\ufeff\ud800-\udfff]"
_UNCHANGED_BY_NH3 = re.compile(rf"(?:{_TEXT}++|<(p|h[1-6])>{_TEXT}*+</\1>)*+")
# The same, and none of the characters strip_control removes: _TEXT's
# negated class with _CONTROL's characters added to it.
_TEXT_NO_CONTROL = _TEXT.removesuffix("]") + _CONTROL.pattern.removeprefix("[")
_UNCHANGED_AND_NO_CONTROL = re.compile(
    rf"(?:{_TEXT_NO_CONTROL}++|<(p|h[1-6])>{_TEXT_NO_CONTROL}*+</\1>)*+"
)


def _unchanged_checked() -> bool:
    """Whether this nh3 gives such HTML back unchanged, as the one this was
    written for does: if a later one does not, every fragment goes through it."""
    samples = (
        "",
        "Text alone, \u201cquoted\u201d \u2014 it's\tall\n.",
        "<p>One paragraph.</p>\n<h2>A heading</h2> between <p></p><h6>x</h6>\n",
    )
    return all(
        _clean(sample, _keep) == sample and _UNCHANGED_BY_NH3.fullmatch(sample)
        for sample in samples
    )


def _keep(tag: str, attribute: str, value: str) -> str:
    return value


_UNCHANGED_CHECKED = _unchanged_checked()


def bound_fields(feed: ParsedFeed) -> ParsedFeed:
    """The feed with each title, author, link and entry id within its bound.

    Every parser's result goes through here, so no format can bring a longer
    field to the store or the published files.  A title or a name is cut,
    with an ellipsis; a link is dropped, as a cut URL would lead somewhere
    else; an id becomes a hash of itself, so it stays the same from poll to
    poll and tells entries apart as the whole id did.
    """
    items = tuple(_bounded_item(item) for item in feed.items)
    over = sum(bounded is not item for bounded, item in zip(items, feed.items, strict=True))
    title = None if feed.title is None else _cut(feed.title, MAX_TITLE_CHARS)
    link = _bounded_url(feed.link)
    if not over and (title, link) == (feed.title, feed.link):
        return feed
    notes = [feed.warning] if feed.warning else []
    if over:
        notes.append(f"{over} entries had fields over their length bounds (cut or dropped)")
    return replace(feed, title=title, link=link, items=items, warning="; ".join(notes) or None)


def _bounded_item(item: ParsedItem) -> ParsedItem:
    title = _cut(item.title, MAX_TITLE_CHARS)
    author = None if item.author is None else _cut(item.author, MAX_NAME_CHARS)
    link = _bounded_url(item.link)
    entry_id = _bounded_id(item.entry_id)
    if (title, author, link, entry_id) == (item.title, item.author, item.link, item.entry_id):
        return item
    return replace(item, title=title, author=author, link=link, entry_id=entry_id)


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - len(_ELLIPSIS)] + _ELLIPSIS


def _bounded_url(url: str | None) -> str | None:
    return url if url is None or len(url) <= MAX_URL_CHARS else None


def _bounded_id(entry_id: str | None) -> str | None:
    if entry_id is None or len(entry_id) <= MAX_ID_CHARS:
        return entry_id
    digest = hashlib.sha256(entry_id.encode("utf-8", "surrogatepass")).hexdigest()
    return f"sha256:{digest}"


def limit_note(kept: int, total: int) -> str:
    """The warning for a feed with more entries than are read."""
    return f"read the first {kept} of {total} entries (fetch.max_items)"


def nesting_depth(fragment: str) -> int:
    """How deep elements nest, counted on the tags as written (no parser), at most.

    An over-estimate for sloppy HTML is harmless: the fragment keeps its text.
    """
    if fragment.count("<") <= MAX_DEPTH:
        return fragment.count("<")
    depth = deepest = 0
    for match in _START_OR_END.finditer(fragment):
        closing, name, self_closing = match.groups()
        if name.lower() in _NON_NESTING or self_closing:
            continue
        if closing:
            depth = max(0, depth - 1)
        else:
            depth += 1
            deepest = max(deepest, depth)
    return deepest


def plain_text_lines(fragment: str) -> list[str]:
    """The text of an HTML fragment, one line per run between tags, unescaped."""
    return [_SPACE.sub(" ", html.unescape(part)).strip() for part in _TAG.split(fragment)]


def strip_control(text: str) -> str:
    return _CONTROL.sub("", text)


def plain_text(fragment: str) -> str:
    """Text of an HTML fragment (or of text that may hold entities), on one line.

    What only looks like a tag after unescaping ("&lt;script&gt;") goes too,
    so a title never carries markup to a reader that renders titles as HTML;
    a lone "<", as in "a < b", stays.
    """
    without_tags = _TAG.sub(" ", fragment)
    text = html.unescape(strip_control(without_tags))
    if "<" in text:
        text = _TAG_LIKE.sub(" ", text)
    # _SPACE.sub(" ", text).strip(), several times faster: str.split() and
    # the regular expression's \s are the same characters (str.isspace).
    return " ".join(text.split())


def absolute_url(value: str | None, base_url: str | None) -> str | None:
    """``value`` resolved against ``base_url``; None for anything not http(s)/mailto.

    Characters a URL may not hold (spaces, quotes, angle brackets and the
    like) are percent-encoded, so a URL is never markup wherever it lands.
    A URL whose port urllib cannot read (``:99999``, ``:abc``) is None too:
    it leads nowhere, and would fail whatever reads it next.
    """
    if not value:
        return None
    value = strip_control(value).strip()
    if joined_as_is(value, base_url):
        # What the steps below give it, at once.
        return value if _port_readable(value) else None
    try:
        resolved = urljoin(base_url, value) if base_url else value
        parts = urlsplit(resolved)
        parts.port  # noqa: B018  (reading it checks it: ValueError when out of range)
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _SAFE_SCHEMES:
        return None
    return _NOT_IN_URL.sub(lambda match: quote(match.group(), safe=""), resolved)


# An absolute http(s) URL that urljoin gives back as it is, whatever the base
# (one it can read), and in which absolute_url escapes nothing: an ASCII host
# without brackets, no white space, nothing _NOT_IN_URL escapes, no ';' in
# the path (urlparse takes what follows for parameters), no empty '?' or '#'
# (urlunparse drops them).  Most links are that.
_PLAIN_URL = re.compile(
    r"https?://[A-Za-z0-9\-._~%!$&'()*+,=:@]+"
    r"(?:/[^\s\"<>`{}|\\^?#;]*)?"
    r"(?:\?[^\s\"<>`{}|\\^#]+)?"
    r"(?:#[^\s\"<>`{}|\\^]+)?"
)


# The authority of a URL with one: what follows "scheme://" up to the path.
_AUTHORITY = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://([^/?#]*)")


def _port_readable(url: str) -> bool:
    """Whether urllib reads the port of ``url`` (none, or 0 to 65535 in ASCII
    digits).  urlsplit is called only for a URL that has a ':' after its
    host's start: most have no port, and are told at once."""
    authority = _AUTHORITY.match(url)
    if authority is None or ":" not in authority.group(1).rpartition("@")[2]:
        return True
    try:
        urlsplit(url).port  # noqa: B018  (reading it checks it)
    except ValueError:
        return False
    return True


def joined_as_is(url: str, base: str | None) -> bool:
    """Whether ``urljoin(base, url)`` is ``url``, and :func:`absolute_url`
    keeps it: told without urllib's steps, for the common case."""
    return (
        _PLAIN_URL_CHECKED
        and _PLAIN_URL.fullmatch(url) is not None
        and (not base or _readable_base(base))
    )


@functools.lru_cache(maxsize=64)
def _readable_base(base: str) -> bool:
    """Whether urljoin reads ``base`` (it raises ValueError for some)."""
    try:
        urlsplit(base)
    except ValueError:
        return False
    return True


def _plain_url_checked() -> bool:
    """Whether this urllib joins such URLs as the one this was written for does."""
    bases = ("", "http://example.com/feed.xml", "https://www.example.org/a/b/", "ftp://x/y")
    urls = (
        "https://example.com",
        "http://user@example.com:8080/a//b/c.html?x=1&y=%20;z#top?#",
        "https://example.org/news/2024/06/03/story-\u00e9t\u00e9?utm_source=rss",
    )
    return all(
        _PLAIN_URL.fullmatch(url) and urljoin(base, url) == url for base in bases for url in urls
    )


_PLAIN_URL_CHECKED = _plain_url_checked()


def http_url(value: str | None, base_url: str | None) -> str | None:
    """Like :func:`absolute_url`, but only http(s): for entry and site links."""
    resolved = absolute_url(value, base_url)
    if resolved is None or urlsplit(resolved).scheme.lower() not in ("http", "https"):
        return None
    return resolved


MAX_ENCLOSURES = 8  # per item; a feed listing more is most likely not a podcast
MAX_ENCLOSURE_BYTES = 1 << 44  # 16 TiB: a length beyond is a mistake, and is dropped
_MEDIA_TYPE = re.compile(r"^[A-Za-z0-9][\w.+-]{0,126}/[A-Za-z0-9][\w.+-]{0,126}$")


def enclosures(
    candidates: Iterable[tuple[object, object, object]], base_url: str | None
) -> tuple[tuple[Enclosure, ...], int]:
    """(url, type, length) as a feed gave them -> checked enclosures, and how
    many were dropped.

    A URL must be http(s) (resolved against ``base_url``) and within
    :data:`MAX_URL_CHARS`, else the enclosure is dropped; a malformed type or
    a length that is no whole number from 0 to :data:`MAX_ENCLOSURE_BYTES`
    is left out (unknown), keeping the enclosure.  The same URL twice is one
    enclosure; at most :data:`MAX_ENCLOSURES` are kept.
    """
    kept: dict[str, Enclosure] = {}
    dropped = 0
    for raw_url, raw_type, raw_length in candidates:
        url = http_url(raw_url, base_url) if isinstance(raw_url, str) else None
        if url is None or len(url) > MAX_URL_CHARS:
            dropped += 1
            continue
        if url in kept:
            continue
        if len(kept) >= MAX_ENCLOSURES:
            dropped += 1
            continue
        media_type = raw_type.strip() if isinstance(raw_type, str) else None
        kept[url] = Enclosure(
            url,
            media_type.lower() if media_type and _MEDIA_TYPE.match(media_type) else None,
            _length(raw_length),
        )
    return tuple(kept.values()), dropped


def _length(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    else:
        text = str(value if value is not None else "").strip()
        if not (text.isascii() and text.isdigit()) or len(text) > 15:
            return None
        number = int(text)
    return number if 0 <= number <= MAX_ENCLOSURE_BYTES else None


def image_url(value: object, base_url: str | None) -> str | None:
    """An item's main image: an http(s) URL within the bound, else None."""
    url = http_url(value, base_url) if isinstance(value, str) else None
    return url if url is not None and len(url) <= MAX_URL_CHARS else None


# A date as ISO 8601 / RFC 3339 writes it (W3C-DTF, Atom, JSON Feed), and as
# RFC 822 does (RSS): the fields that name the moment, to be checked.
_ISO_DATE = re.compile(
    r"\s*(\d{4,})-(\d\d)(?:-(\d\d)"
    r"(?:[Tt ]\s*(\d\d):(\d\d)(?::(\d\d)(?:[.,]\d+)?)?"
    r"\s*(?:[Zz]|UTC|GMT|[+-](\d\d)(?::?(\d\d))?)?)?)?\s*"
)
_RFC822_DATE = re.compile(
    r"\s*(?:[A-Za-z]+\.?,?\s*)?(\d{1,2})\s+([A-Za-z]+)\.?,?\s+(\d{2,})"
    r"(?:\s+(\d{1,2}):(\d\d)(?::(\d\d))?)?"
    r"\s*(?:[+-](\d\d)(\d\d)|[A-Za-z]{1,5})?\s*"
)
_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def impossible_date(text: str) -> bool:
    """Whether ``text`` is written as an ISO 8601 or RFC 822 date whose fields
    name no moment: a month or day the calendar has not (2026-02-30, 31 Nov),
    an hour past 24:00, a minute or second past 59 (60: a leap second), a
    four-digit year outside 1 to 9999 (0000, 99999), a UTC offset of 24
    hours or more (-25:00, +9999).

    feedparser reads such dates by carrying over (February 30th is March 2nd,
    -25:00 a day later): a different, real date, which this tells apart so
    that it is dropped instead.  It says nothing of other forms, whose parser
    alone decides (a date it cannot read is None all the same); nor of the
    weekday, which is not checked (a wrong one is common, and harmless).
    """
    iso = _ISO_DATE.fullmatch(text)
    if iso is not None:
        year, month, day, hour, minute, second, off_hours, off_minutes = iso.groups()
        return not _possible(year, month, day or "1", hour, minute, second, off_hours, off_minutes)
    rfc = _RFC822_DATE.fullmatch(text)
    if rfc is not None:
        day, month_name, year, hour, minute, second, off_hours, off_minutes = rfc.groups()
        month = _MONTHS.get(month_name[:3].lower())
        if month is None:
            return False  # not an English month: its parser decides
        # A two-digit year is the parser's to place (19xx or 20xx): checked
        # as 2000, which has every day a year can have.
        year = year if len(year) >= 4 else "2000"
        return not _possible(year, str(month), day, hour, minute, second, off_hours, off_minutes)
    return False


def _possible(
    year: str,
    month: str,
    day: str,
    hour: str | None,
    minute: str | None,
    second: str | None,
    off_hours: str | None,
    off_minutes: str | None,
) -> bool:
    if not (len(year) <= 4 and int(year) >= 1 and 1 <= int(month) <= 12):
        return False
    if not 1 <= int(day) <= calendar.monthrange(int(year), int(month))[1]:
        return False
    clock = (int(hour or 0), int(minute or 0), int(second or 0))
    if not (clock == (24, 0, 0) or (clock[0] <= 23 and clock[1] <= 59 and clock[2] <= 60)):
        return False
    return int(off_hours or 0) <= 23 and int(off_minutes or 0) <= 59


# Of an entry with an impossible or unreadable date, what its feed's warning shows.
_NOTE_NAME_CHARS = 80
_NOTE_DATE_CHARS = 40


def undated_note(count: int, name: str, text: str) -> str:
    """The feed's warning for ``count`` entries whose date was impossible or
    unreadable, taken as undated; ``name`` and ``text`` are the first one's."""
    shown = " ".join(strip_control(text).split())
    return (
        f"{count} entries with an impossible or unreadable date, taken as undated"
        f" (first: {_cut(name, _NOTE_NAME_CHARS)!r} dated {_cut(shown, _NOTE_DATE_CHARS)!r})"
    )


def utc_from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times; out-of-range ones become None."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def utc_from_text(value: str | None) -> datetime | None:
    """An RFC 3339 or RFC 822 date string -> aware UTC datetime, else None
    (an impossible date too, see :func:`impossible_date`)."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
    if impossible_date(text):
        return None  # email.utils takes the year 0000 for 2000
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def normalize_language(value: str | None) -> str | None:
    """'en-US' -> 'en'; None or junk -> None."""
    if not value or not isinstance(value, str):
        return None
    code = value.strip().replace("_", "-").split("-")[0].lower()
    return code if code.isalpha() and 2 <= len(code) <= 3 else None
