"""Normalizing what sources say: safe HTML, plain-text titles, absolute URLs, UTC dates.

nh3 (the Ammonia sanitizer) is imported here only.  Every HTML fragment that
reaches the store went through :func:`sanitize_html`, so nothing downstream
needs to trust a source.

Bounds, because the sanitizer and the summarizer after it slow down with the
size and nesting of what they get (html5ever is quadratic in the depth of
nested block elements): an entry's HTML is cut at :data:`MAX_HTML_CHARS`, and
HTML nested deeper than :data:`MAX_DEPTH` is kept as its text alone.
"""

from __future__ import annotations

import html
import re
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import quote, urljoin, urlsplit

import nh3

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
# C0 controls other than tab/newline/CR are not allowed in XML 1.0 output.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff]")


def sanitize_html(fragment: str, base_url: str | None) -> str:
    """Allow-listed HTML with every link made absolute against ``base_url``."""

    def absolutize(tag: str, attribute: str, value: str) -> str | None:
        if attribute not in _URL_ATTRIBUTES:
            return value
        return absolute_url(value, base_url)

    fragment = strip_control(fragment)
    if len(fragment) > MAX_HTML_CHARS:
        fragment = fragment[:MAX_HTML_CHARS]
    if nesting_depth(fragment) > MAX_DEPTH:
        fragment = "".join(
            f"<p>{html.escape(line)}</p>" for line in plain_text_lines(fragment) if line
        )
    cleaned = nh3.clean(
        fragment,
        tags=set(_TAGS),
        clean_content_tags={"script", "style"},
        attributes=_ATTRIBUTES,
        attribute_filter=absolutize,
        url_schemes=set(_SAFE_SCHEMES),
        link_rel="noopener noreferrer nofollow",
    )
    return cleaned.strip()


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
    return _SPACE.sub(" ", text).strip()


def absolute_url(value: str | None, base_url: str | None) -> str | None:
    """``value`` resolved against ``base_url``; None for anything not http(s)/mailto.

    Characters a URL may not hold (spaces, quotes, angle brackets and the
    like) are percent-encoded, so a URL is never markup wherever it lands.
    """
    if not value:
        return None
    value = strip_control(value).strip()
    try:
        resolved = urljoin(base_url, value) if base_url else value
        scheme = urlsplit(resolved).scheme.lower()
    except ValueError:
        return None
    if scheme not in _SAFE_SCHEMES:
        return None
    return _NOT_IN_URL.sub(lambda match: quote(match.group(), safe=""), resolved)


def http_url(value: str | None, base_url: str | None) -> str | None:
    """Like :func:`absolute_url`, but only http(s): for entry and site links."""
    resolved = absolute_url(value, base_url)
    if resolved is None or urlsplit(resolved).scheme.lower() not in ("http", "https"):
        return None
    return resolved


def utc_from_struct(value: time.struct_time | None) -> datetime | None:
    """feedparser's parsed dates are UTC struct_times; out-of-range ones become None."""
    if value is None:
        return None
    try:
        return datetime(*value[:6], tzinfo=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def utc_from_text(value: str | None) -> datetime | None:
    """An RFC 3339 or RFC 822 date string -> aware UTC datetime, else None."""
    if not value or not isinstance(value, str):
        return None
    text = value.strip()
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
