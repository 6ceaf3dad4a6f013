"""What of a configured URL may be shown: its public form, and text made safe to print.

    redact_url(url)            -> the URL without user info, secret query values as ***
    public_link(url, secrets)  -> a link a feed gave, without user info, ``secrets`` as ***
    public_text(text, secrets) -> text a feed gave (a title, a sentence), ``secrets`` as ***
    url_secrets(url)           -> the credentials a source URL carries, to mask in what it gives
    header_secrets(headers)    -> the same for a source's own request headers
    mask_password(url)         -> the URL with its password (and secret query values) as ***
    redact_text(text, url)     -> text with every URL in it redacted, and url's secrets masked
    printable(text)            -> text without control characters, for a terminal
    name_problem(text)         -> why text cannot be a name (a source's, a section's), or None
    plain_name(text)           -> text made a name: one line, nothing name_problem refuses

A source URL may carry credentials (``http://user:pw@host/feed?token=...``).
The HTTP client uses the URL as configured; everything published (feeds,
OPML), shown (``/status``, ``aggregate status``, error lines, logs) or stored
as an error text gets the public form instead.  A query parameter is secret
when its name says so (``token``, ``key``, ``secret``, ``password``, ``auth``,
``sig``, ``session`` ... as a word of the name, so ``api_key`` and
``X-Amz-Signature`` are, ``keyword`` and ``author`` are not); its name stays,
so the URL still says which parameter was there.

A link a feed gives (an entry's, an enclosure's, the site's) is published in
the form :func:`public_link` gives it: without user info, whoever put it
there, and with its own source's credentials masked wherever they are in it
(a private feed may repeat its ``?token=`` in every link it gives).  Its
secret-looking parameters are otherwise kept: a signed enclosure URL
(``X-Amz-Signature=...``) is meant to be followed, and masked it leads nowhere.
The text a feed gives (titles, authors, the sentences of summaries) is
published as :func:`public_text` gives it: its source's credentials masked
the same way, since a private feed may quote its own address in an entry
("manage your subscription at https://host/feed?token=...").  Text is not
otherwise changed: another site's URL in it is left as the feed wrote it.

A source's own request headers (``headers`` in feeds.yaml) are never shown
or published at all; their values are secrets of the source as its URL's
credentials are (:func:`header_secrets`), masked wherever its feed repeats
them and in the errors of its requests.

Redacting is idempotent, and text that is no URL (a local path) is returned
as it is.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable
from urllib.parse import quote, unquote

__all__ = [
    "MASK",
    "header_secrets",
    "mask_password",
    "merged_secrets",
    "name_problem",
    "plain_name",
    "printable",
    "public_link",
    "public_text",
    "redact_text",
    "redact_url",
    "url_secrets",
]

MASK = "***"

# Words of a parameter name that make its value a secret.
_SECRET_WORDS = frozenset(
    {
        "token", "tokens", "key", "keys", "apikey", "secret", "secrets", "password",
        "passwd", "pass", "pwd", "passphrase", "auth", "authorization", "sig",
        "signature", "session", "sessionid", "sid", "credential", "credentials",
        "jwt", "hmac", "otp",
    }
)  # fmt: skip
# Fragments that make a name secret wherever they are in it ("authtoken", "feedtoken").
_SECRET_PARTS = ("token", "secret", "passw", "apikey", "signature", "credential")
_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# A URL inside a longer text: scheme, "//", then up to the first character
# that cannot be in a URL or commonly closes it in a message (quote, bracket).
_URL_IN_TEXT = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>`\[\](){}]+")
# Where an authority ends: RFC 3986 3.2.
_AUTHORITY = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*:)?//([^/?#]*)")
# C0 and C1 controls and DEL, except tab and newline: a fetched page's ESC or
# BEL would otherwise drive the terminal it is printed on.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
# Bidirectional overrides and isolates reorder what a terminal shows.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# What a name (a source's, a section's) may not hold: what printable removes,
# and tab, newline and the line and paragraph separators too, since a name is
# one line of `aggregate --once`, `aggregate status`, the log and OPML; and
# lone surrogates, which no UTF-8 text (the store, a published file) can
# hold.  The other format characters stay: the zero-width joiner makes one
# emoji of several ("👩\u200d💻"), and Arabic and Persian names need theirs.
_NOT_IN_NAME = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
# Secrets shorter than this are not searched for in free text: masking every
# "pw" or "ab" in a message would garble it and protect nothing.
_MIN_SECRET = 4
# A percent escape's hex digits, which may be written in either case (RFC 3986 2.1).
_PERCENT_ESCAPE = re.compile(r"%([0-9A-Fa-f])([0-9A-Fa-f])")


def is_secret_parameter(name: str) -> bool:
    """Whether a query parameter of this name carries a credential."""
    plain = unquote(name)
    words = {word.lower() for word in _WORD.findall(plain)}
    if words & _SECRET_WORDS:
        return True
    squashed = re.sub(r"[^a-z0-9]", "", plain.lower())
    return squashed in _SECRET_WORDS or any(part in squashed for part in _SECRET_PARTS)


def redact_url(url: str) -> str:
    """``url`` without user info and with secret query (and fragment) values masked.

    Works on the text, not a parsed URL, so the rest of the URL is kept
    byte for byte and a malformed URL (``http://[::1``) is redacted too.
    """
    match = _AUTHORITY.match(url)
    if match is None:
        return url  # a path, or no URL at all
    authority = match.group(2)
    if "@" in authority:
        start = match.start(2)
        host = authority.rpartition("@")[2]
        url = url[:start] + host + url[match.end(2) :]
        end_of_authority = start + len(host)
    else:
        end_of_authority = match.end(2)
    return url[:end_of_authority] + _mask_query(url[end_of_authority:])


def _mask_query(rest: str) -> str:
    """The path, query and fragment of a URL, secret values masked."""
    path, hash_, fragment = rest.partition("#")
    path, question, query = path.partition("?")
    if question:
        query = _mask_parameters(query)
    if hash_ and "=" in fragment:  # OAuth puts tokens there: #access_token=...
        fragment = _mask_parameters(fragment)
    return path + question + query + hash_ + fragment


def mask_password(url: str) -> str:
    """``url`` with the password of its user info, and secret query values, masked.

    For a database URL, whose user name tells which role was refused (a feed
    URL's user info goes whole: :func:`redact_url`).  A password given as a
    query parameter (``?password=...``) is masked as any secret parameter is.
    """
    match = _AUTHORITY.match(url)
    if match is None:
        return url
    authority = match.group(2)
    userinfo, at, host = authority.rpartition("@")
    if at and ":" in userinfo:
        authority = f"{userinfo.split(':', 1)[0]}:{MASK}@{host}"
    return url[: match.start(2)] + authority + _mask_query(url[match.end(2) :])


def _mask_parameters(query: str) -> str:
    pieces = []
    for piece in re.split(r"([&;])", query):
        name, equals, value = piece.partition("=")
        if equals and value and value != MASK and is_secret_parameter(name):
            piece = f"{name}={MASK}"
        pieces.append(piece)
    return "".join(pieces)


def url_secrets(url: str, *, user: bool = True) -> tuple[str, ...]:
    """The credentials ``url`` carries: user, password, secret query values,
    each as written in ``url``, decoded, and percent-encoded (a feed may
    repeat ``token=a/b`` as ``token=a%2Fb``, or the other way round).

    Without ``user``, the user name is left out: for searching the links a
    feed gives, where a user name is often a word of the site's own paths
    (``/alice/repo``) and masking it would break them.
    """
    found: list[str] = []
    match = _AUTHORITY.match(url)
    if match is not None and "@" in match.group(2):
        userinfo = match.group(2).rpartition("@")[0]
        name, _colon, password = userinfo.partition(":")
        found.extend([name, password] if user else [password])
    _path, _question, query = url.partition("?")
    for piece in re.split(r"[&;#]", query):
        name, equals, value = piece.partition("=")
        if equals and value and is_secret_parameter(name):
            found.append(value)
    return _searchable(found)


# Headers whose value is "<scheme> <credential>" (RFC 9110, 11.4).
_AUTHORIZATION_HEADERS = frozenset({"authorization", "proxy-authorization"})


def header_secrets(headers: Iterable[tuple[str, str]]) -> tuple[str, ...]:
    """The credentials a source's own request headers carry, as
    :func:`url_secrets` gives a URL's: every value whole, since any header
    may hold one (``X-Api-Key``); the credential of ``Authorization`` (and
    ``Proxy-Authorization``) without its scheme, and a Basic one's password
    and ``user:password`` decoded; each value of ``Cookie``.  Each as
    written, decoded and percent-encoded; none shorter than four characters.

    Values that are no secret (a ``User-Agent``) are masked too, should a
    feed quote one whole: rare in text, and a guess at which header is
    harmless would be wrong for some."""
    found: list[str] = []
    for name, value in headers:
        found.append(value)
        kind = name.lower()
        if kind in _AUTHORIZATION_HEADERS:
            scheme, _space, credential = value.strip().partition(" ")
            credential = credential.strip()
            found.append(credential)
            if scheme.lower() == "basic":
                found.extend(_basic_secrets(credential))
        elif kind == "cookie":
            for cookie in value.split(";"):
                _name, equals, cookie_value = cookie.partition("=")
                if equals:
                    found.append(cookie_value.strip().strip('"'))
    return _searchable(found)


def _basic_secrets(credential: str) -> list[str]:
    """Basic authentication's ``user:password`` and password, decoded; none if it
    is no base64 of UTF-8 (the credential is masked whole all the same)."""
    try:
        decoded = base64.b64decode(credential, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return []
    _user, colon, password = decoded.partition(":")
    return [decoded, password] if colon else [decoded]


def _searchable(found: Iterable[str]) -> tuple[str, ...]:
    """``found`` as masking searches for it: each as written, decoded and
    percent-encoded (a feed may repeat ``token=a/b`` as ``token=a%2Fb``, or the
    other way round), none shorter than :data:`_MIN_SECRET`."""
    expanded = {
        variant
        for secret in found
        for variant in (secret, unquote(secret), quote(unquote(secret), safe=""))
    }
    # Longest first, in one order (masking finds them all at once: see _masked).
    return merged_secrets(s for s in expanded if len(s) >= _MIN_SECRET)


def _longest_first(secret: str) -> tuple[int, str]:
    return -len(secret), secret


@functools.lru_cache(maxsize=256)
def feed_secrets(feed_url: str, headers: Iterable[tuple[str, str]] = ()) -> tuple[str, ...]:
    """One feed's credentials, to mask in what it gave (:func:`public_text`,
    :func:`public_link`): those of its URL, without its user name (a word of
    the site's own paths, and of its text: see :func:`url_secrets`), and
    its source's header values (:func:`header_secrets`; hashable, as
    ``SourceHeaders`` are)."""
    return merged_secrets(
        url_secrets(feed_url, user=False) if feed_url else (), header_secrets(headers)
    )


def shown_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Stored text a feed gave (a title), for a terminal: as it is published
    (:func:`public_text`), without control characters (:func:`printable`)."""
    return printable(public_text(text, secrets))


def shown_link(url: str, secrets: Iterable[str] = ()) -> str:
    """A stored link a feed gave, for a terminal: as it is published
    (:func:`public_link`), other secret-looking values masked too
    (:func:`redact_url`), without control characters."""
    return printable(redact_url(public_link(url, secrets)))


def merged_secrets(*groups: Iterable[str]) -> tuple[str, ...]:
    """The secrets of several sources (or of a URL and headers) as one tuple, in
    the order :func:`url_secrets` gives them: the same set, the same tuple,
    so that every text masked with it shares one pattern (see :func:`_masked`)."""
    return tuple(sorted({secret for group in groups for secret in group}, key=_longest_first))


def public_link(url: str, secrets: Iterable[str] = ()) -> str:
    """A link a feed gave, as it is published: without user info, and with
    each of ``secrets`` (its source's, from :func:`url_secrets`) masked.

    User info goes whoever wrote it.  Relative links never carry the source
    URL's (they are resolved against its public form), but a feed may write
    ``https://alice:secret@host/post`` itself, or an ``xml:base`` that
    does: published, the password is shown to every subscriber.  And a link
    with user info is a phishing pattern (``https://bank.example@evil.example/``
    leads to evil.example), which browsers warn about or refuse to follow;
    a reader that wants the page must log in there as anyone else does.
    """
    match = _AUTHORITY.match(url)
    if match is None:
        return url  # mailto:, or not a URL: no user info to remove
    authority = match.group(2)
    if "@" in authority:
        url = url[: match.start(2)] + authority.rpartition("@")[2] + url[match.end(2) :]
    return _masked(url, secrets)


def public_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Text a feed gave (a title, an author, a summary's sentence), as it is
    published: each of ``secrets`` (its source's, from :func:`url_secrets`)
    masked wherever it is, as :func:`public_link` masks them in links.

    Inside a longer word too: text taken out of HTML may run a token into
    the word after it ("S3CRETExpires"), and a secret with letters around
    it is still published.  A secret is at least four characters
    (:func:`url_secrets` finds no shorter ones), so "pw" or "ab" never cuts
    a word; a password that is a word ("news") masks that word in its own
    source's texts, which is the price of not publishing it.  Other text is
    kept as it is, another site's URL with its token included: only the
    source's own credentials are known to be secret.

    ``text`` is plain text, as published before it is escaped: in markup, a
    secret holding ``&``, ``<`` or a quote would be written as an entity and
    not be found.
    """
    return _masked(text, secrets)


def _masked(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each place any of ``secrets`` covers masked, a run of them one ``***``.

    Places may overlap (a password and a token that share letters, a
    secret that repeats itself): each is masked whole, where replacing the
    secrets one after another would leave a piece of one shown.
    """
    searched = tuple(secrets)
    if not searched or not text:
        return text
    runs: list[list[int]] = []
    # A lookahead finds a secret at every place one starts, the longest first.
    for match in _secrets_pattern(searched).finditer(text):
        start, end = match.span(1)
        if runs and start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    if not runs:
        return text
    parts, kept = [], 0
    for start, end in runs:
        parts += [text[kept:start], MASK]
        kept = end
    parts.append(text[kept:])
    return "".join(parts)


@functools.lru_cache(maxsize=256)
def _secrets_pattern(secrets: tuple[str, ...]) -> re.Pattern[str]:
    """Where any of ``secrets`` starts, as group 1, the longest there; a
    percent escape in one matches in either case (``%2F`` is ``%2f``)."""
    ordered = sorted(set(secrets), key=_longest_first)
    alternatives = "|".join(_PERCENT_ESCAPE.sub(_either_case, re.escape(s)) for s in ordered)
    return re.compile(f"(?=({alternatives}))")


def _either_case(escape: re.Match[str]) -> str:
    return "%" + "".join(f"[{d.upper()}{d.lower()}]" if d.isalpha() else d for d in escape.groups())


def redact_text(text: str, url: str | None = None) -> str:
    """``text`` (an error message) with every URL in it redacted, and ``url``'s secrets masked.

    The second step catches what a library printed of the URL in pieces,
    such as a bare host with its user info, or a decoded password.
    """
    text = _URL_IN_TEXT.sub(lambda match: redact_url(match.group(0)), text)
    return _masked(text, url_secrets(url)) if url else text


def printable(text: str) -> str:
    """``text`` without control characters (tab and newline kept), for a terminal."""
    return _BIDI.sub("", _CONTROL.sub("", text))


def name_problem(text: str) -> str | None:
    """Why ``text`` cannot be a name (of a source, of a section), or None if it can.

    The message names the character by its code point, never shows it."""
    match = _NOT_IN_NAME.search(text)
    if match is None:
        return None
    char = match.group()
    if _BIDI.match(char):
        kind = "a bidi control"
    elif char in "\u2028\u2029":
        kind = "a line or paragraph separator"
    elif "\ud800" <= char <= "\udfff":
        kind = "a lone surrogate"
    else:
        kind = "a control character"
    return f"holds U+{ord(char):04X}, {kind}: a name is one line of plain text"


def plain_name(text: str) -> str:
    """``text`` as a name: its runs of white space (line breaks and tabs among
    them) one space, trimmed, and without the other characters a name may not
    hold; for names made from what others wrote (an OPML list's titles)."""
    spaced = " ".join(text.split())
    return " ".join(_NOT_IN_NAME.sub("", spaced).split())
