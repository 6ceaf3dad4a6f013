"""Pure HTTP decisions for the server: content coding and conditional requests (RFC 9110).

Header values in, a yes or no out; no I/O, no clock and no aiohttp, so every
rule is tested on its own.  Not handled on purpose: ``Range`` (a whole feed is
small, and aiohttp's plain responses ignore it) and ``If-Match`` /
``If-Unmodified-Since`` (we only serve GET and HEAD).
"""

from __future__ import annotations

import functools
import re
from datetime import UTC
from email.utils import parsedate_to_datetime

# An entity-tag (RFC 9110 section 8.8.3): optional weakness prefix, then any
# characters but '"' between quotes.  Splitting the header on commas would be
# wrong: a comma is a legal character inside a tag.
_ENTITY_TAG = re.compile(r'(?:W/)?"[^"]*"')


def none_match(if_none_match: str, etag: str) -> bool:
    """Whether ``If-None-Match: if_none_match`` matches the current ``etag`` (a quoted strong tag).

    RFC 9110 section 13.1.2 asks for the weak comparison here: ``W/"x"``
    matches ``"x"``, since a cache may have stored a weakened copy.  ``*``
    matches whenever there is a current representation, which the caller has.
    """
    if if_none_match == etag:  # the one tag a reader echoes back: skip the parsing
        return True
    if if_none_match.strip() == "*":
        return True
    return any(tag.removeprefix("W/") == etag for tag in _ENTITY_TAG.findall(if_none_match))


def not_modified(
    *,
    if_none_match: str | None,
    if_modified_since: str | None,
    etag: str,
    last_modified: int | None,
) -> bool:
    """Whether a GET or HEAD gets 304 Not Modified.

    ``last_modified`` is the representation's time in whole seconds since the
    epoch (what the ``Last-Modified`` header said), or None when it has none.
    ``If-Modified-Since`` counts only when there is no ``If-None-Match``
    (section 13.2.2: the ETag is the more precise validator, and a client
    sending both wants it used), and a date that does not parse is ignored.
    """
    if if_none_match is not None:
        return none_match(if_none_match, etag)
    if if_modified_since is None or last_modified is None:
        return False
    since = _http_date(if_modified_since)
    return since is not None and last_modified <= since


@functools.lru_cache(maxsize=256)
def gzip_acceptable(accept_encoding: str | None) -> bool:
    """Whether to send gzip rather than identity, given the request's ``Accept-Encoding``.

    Gzip is chosen when its qvalue (``gzip``, its alias ``x-gzip``, else
    ``*``) is above zero and not below the one identity is given explicitly
    (``identity``, else ``*``).  A missing header means
    identity: RFC 9110 allows any coding then, but a client that says nothing
    may well not decode gzip.  Cached because readers send a handful of
    distinct values, and this runs on every request.
    """
    if accept_encoding is None:
        return False
    gzip_q: float | None = None
    identity_q: float | None = None
    star_q: float | None = None
    for element in accept_encoding.split(","):
        coding, _, parameters = element.partition(";")
        coding = coding.strip().lower()
        quality = _qvalue(parameters)
        if quality is None:
            continue  # a malformed element says nothing we can trust
        if coding in ("gzip", "x-gzip"):
            gzip_q = max(quality, gzip_q or 0.0)
        elif coding == "identity":
            identity_q = quality
        elif coding == "*":
            star_q = quality
    if gzip_q is None:
        gzip_q = star_q or 0.0
    if identity_q is None:
        # Identity is always acceptable unless refused, but a client that lists
        # only gzip, at any q, still wants gzip: unlisted is no preference.
        identity_q = star_q or 0.0
    return gzip_q > 0 and gzip_q >= identity_q


def _qvalue(parameters: str) -> float | None:
    """The ``q`` parameter of one Accept-Encoding element: 1 when absent, None when malformed."""
    for parameter in parameters.split(";"):
        name, _, value = parameter.partition("=")
        if name.strip().lower() == "q":
            try:
                quality = float(value.strip())
            except ValueError:
                return None
            return quality if 0.0 <= quality <= 1.0 else None
    return 1.0


def _http_date(value: str) -> int | None:
    """An HTTP date as whole seconds since the epoch, or None when it does not parse."""
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # HTTP dates are GMT; a date without a zone (asctime form) is read as GMT too.
    if moment.tzinfo is None:
        return int(moment.replace(tzinfo=UTC).timestamp())
    return int(moment.timestamp())
