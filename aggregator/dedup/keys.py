"""Exact identity of items: who an entry is within its source, and across sources.

Pure functions only.  Three keys:

* ``entry_key``: the entry within its source (entry id, else link, else a hash
  of title and date), so an entry seen again is updated, not duplicated;
* ``canonical_url``: the link with the noise that differs between outlets and
  campaigns removed, so the same page linked twice is one story;
* ``content_fingerprint``: a hash of the normalized title and text, so an
  identical story under unrelated links is one story.

Near-duplicates (edited headlines, trimmed text) are a later stage's job.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
import uuid
from datetime import datetime
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode, urlsplit, urlunsplit

from ..models import ParsedItem

# Query parameters that only say how a reader arrived, never which page.
_TRACKING_PREFIXES = ("utm_", "mtm_", "pk_", "_hs", "mc_", "oly_", "vero_", "__s")
_TRACKING_NAMES = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_ga",
        "_gl",
        "ref_src",
        "ref_url",
        "cmpid",
        "ocid",
        "ito",
        "s_cid",
        "wt.mc_id",
        "at_medium",
        "at_campaign",
        "at_custom1",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_WORD = re.compile(r"\w+")
# For normalized_words: ASCII bytes that are not word characters as spaces,
# the others as they are; and the ASCII bytes.
_ASCII_NON_WORD_TO_SPACE = bytes(
    byte if byte >= 0x80 or chr(byte).isalnum() or chr(byte) == "_" else 0x20 for byte in range(256)
)
_ASCII_BYTES = bytes(range(0x80))
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})")
_UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
# Namespace for entry ids: uuid5(namespace, source + entry key) is stable
# across runs and machines, so a published id never changes.
_ID_NAMESPACE = uuid.UUID("6f1c8a52-3f7e-4d1b-9a55-2b8a1f0c9e41")


def is_tracking_parameter(name: str) -> bool:
    lowered = name.lower()
    return lowered in _TRACKING_NAMES or lowered.startswith(_TRACKING_PREFIXES)


def canonical_url(url: str | None) -> str | None:
    """Scheme and host lower-case, default port, fragment, tracking parameters and
    a trailing slash removed; query parameters sorted.  Idempotent.

    It never changes which page is meant, except that http and https are
    treated as one page, because outlets mix the two for the same article.
    """
    if not url:
        return None
    plain = _PLAIN_URL.fullmatch(url)
    if plain is not None:
        canonical = _plain_canonical_url(*plain.group("host", "path", "query"))
        if canonical is not None:
            return canonical
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https") or not parts.hostname:
        return url.strip()
    host = parts.hostname.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if ":" in host:  # an IPv6 literal keeps its brackets
        host = f"[{host}]"
    # http and https become one scheme below, so either default port is dropped:
    # keeping :443 on an http URL would make a second pass drop it (not idempotent).
    netloc = host if port in (None, *_DEFAULT_PORTS.values()) else f"{host}:{port}"
    path = _normalize_escapes(parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query_pairs = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not is_tracking_parameter(k)
    ]
    query = urlencode(sorted(query_pairs))
    return urlunsplit(("https", netloc, path, query, ""))


# A URL whose canonical form is made without urllib's steps: http(s), a host
# of ASCII letters, digits, dots and hyphens and no port, a path of
# characters that quote() keeps and no escapes, and a query of name=value
# pairs of characters that parse_qsl and urlencode keep (no '%', no '+').
_PLAIN_URL = re.compile(
    r"https?://(?P<host>[A-Za-z0-9.-]+)(?P<path>/[A-Za-z0-9\-._~!$&'()*+,;=:@/]*)?"
    r"(?:\?(?P<query>[A-Za-z0-9\-._~=&]*))?(?:#[^\s]*)?"
)


def _plain_canonical_url(host: str, path: str | None, query: str | None) -> str | None:
    """canonical_url of a URL that _PLAIN_URL reads, from its parts: the same
    steps on what urlsplit, parse_qsl and urlencode make of them; None for
    the few it leaves to them (no host left, a value with an '=')."""
    host = host.lower().rstrip(".")
    if host.startswith("www."):
        host = host[4:]
    if not host:
        return None
    path = path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    pairs = []
    for piece in query.split("&") if query else ():
        if piece:
            name, _, value = piece.partition("=")
            if "=" in value:
                return None  # urlencode escapes it
            if not is_tracking_parameter(name):
                pairs.append((name, value))
    if not pairs:
        return f"https://{host}{path}"
    return f"https://{host}{path}?" + "&".join(f"{name}={value}" for name, value in sorted(pairs))


def without_tracking(url: str) -> str:
    """``url`` without its tracking parameters, and otherwise untouched.

    Unlike :func:`canonical_url` this is for showing: the scheme, host, path,
    the other parameters' order and spelling, and the fragment stay as the
    source wrote them.  A URL with no tracking parameter (or one that does
    not parse) comes back as it was, the same string.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if not parts.query:
        return url
    pieces = parts.query.split("&")
    kept = [piece for piece in pieces if not is_tracking_parameter(_parameter_name(piece))]
    if len(kept) == len(pieces):
        return url
    return urlunsplit(parts._replace(query="&".join(kept)))


def _parameter_name(piece: str) -> str:
    return unquote_plus(piece.split("=", 1)[0])


def _normalize_escapes(path: str) -> str:
    """RFC 3986 normalization of percent-escapes: an escaped unreserved
    character is decoded (it is the same character), every other escape is kept
    with upper-case hex (``%2F`` is not ``/``, ``%25`` is not ``%``), and what
    needs escaping is escaped."""

    def normalize(match: re.Match[str]) -> str:
        char = chr(int(match.group(1), 16))
        return char if char in _UNRESERVED else "%" + match.group(1).upper()

    return quote(_ESCAPE.sub(normalize, path), safe="/:@!$&'()*+,;=-._~%")


def normalized_text(text: str) -> str:
    """Lower-case words only: what stays when markup, case and punctuation go."""
    return " ".join(normalized_words(text))


def normalized_words(text: str) -> list[str]:
    """The words of :func:`normalized_text`: ``\\w+`` of the NFKC, case-folded text."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    # What _WORD.findall(folded) gives, in a fraction of its time: every
    # character that is not a word character becomes a space, and the rest
    # is split at spaces.  In the UTF-8: a byte translation for the ASCII
    # ones, which leaves the bytes of the others alone (they are all 0x80 and
    # over), then a replacement for each other one (a text in a Latin script
    # has a few: curly quotes, dashes).  A text mostly in another script is
    # left to the regular expression.
    data = folded.encode("utf-8", "surrogatepass").translate(_ASCII_NON_WORD_TO_SPACE)
    if not folded.isascii():
        others = data.translate(None, _ASCII_BYTES)
        if len(others) * 8 > len(data):
            return _WORD.findall(folded)
        for char in set(others.decode("utf-8", "surrogatepass")):
            if not char.isalnum():  # \w is alphanumeric characters and "_"
                data = data.replace(char.encode("utf-8", "surrogatepass"), b" ")
    return data.decode("utf-8").split()


def content_fingerprint(
    title: str,
    body_text: str,
    words: list[str] | None = None,
    title_words: list[str] | None = None,
) -> str | None:
    """A hash of the normalized title and body; None when there is too little to
    go on (a title alone would merge unrelated items that share a headline).

    ``words`` and ``title_words``, when given, are ``normalized_words(body_text)``
    and ``normalized_words(title)``, already made.
    """
    if words is None:
        words = normalized_words(body_text)
    if len(words) < 20:
        return None
    body = " ".join(words)
    head = normalized_text(title) if title_words is None else " ".join(title_words)
    return hashlib.sha256(f"{head}\n{body}".encode()).hexdigest()


def entry_key(item: ParsedItem) -> str:
    """The entry's identity within its source."""
    if item.entry_id:
        return f"id:{item.entry_id}"
    if item.link:
        return f"link:{canonical_url(item.link)}"
    when = item.published.isoformat() if item.published else ""
    digest = hashlib.sha256(f"{item.title}\n{when}\n{item.content_html}".encode()).hexdigest()
    return f"hash:{digest[:32]}"


def entry_uuid(source: str, key: str) -> str:
    """The published id of an entry first seen as ``key`` in ``source``:
    ``uuid.uuid5(_ID_NAMESPACE, source + "\\n" + key)`` as a URN.

    Written out (RFC 4122's name-based UUID: SHA-1 of the namespace and
    the name, its version and variant bits set) because a cold pass makes
    one per new entry, and uuid5 builds a UUID object only to print it:
    1.1 against 3.8 µs (a test compares the two)."""
    name = (source + "\n" + key).encode()
    digest = hashlib.sha1(_ID_NAMESPACE_BYTES + name, usedforsecurity=False).hexdigest()
    # Version 5 in the 13th hex digit; the variant (binary 10) in the top
    # bits of the 17th.
    variant = _VARIANT_DIGIT[digest[16]]
    return (
        f"urn:uuid:{digest[:8]}-{digest[8:12]}-5{digest[13:16]}-"
        f"{variant}{digest[17:20]}-{digest[20:32]}"
    )


_ID_NAMESPACE_BYTES = _ID_NAMESPACE.bytes
_VARIANT_DIGIT = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def content_hash(item: ParsedItem) -> str:
    """Changes whenever anything we publish about the item changes."""
    parts: tuple[str, ...] = (
        item.title,
        item.link or "",
        item.content_html,
        item.author or "",
        _iso(item.published),
        _iso(item.updated),
        item.language or "",
    )
    if item.enclosures or item.image:
        # Only then, so that the hashes of items without any stay as they were.
        media = [f"{e.url} {e.media_type or ''} {e.length or ''}" for e in item.enclosures]
        parts += (item.image or "", *media)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def lock_key(key: str) -> int:
    """A canonical URL or fingerprint as a 64-bit key of ``Store.lock_for_merge``.

    The same in every process and on every machine (not Python's ``hash``,
    which is salted per process): two workers storing the same story must
    lock the same key.
    """
    return int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), signed=True)


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""
