"""A source's own request headers (``headers`` in feeds.yaml): what may be
configured, and which requests carry them.  Pure: no I/O, no HTTP client.

    header_name_problem(name)        -> why it cannot be a configured header, or None
    header_value_problem(value)      -> why it cannot be a header's value, or None
    header_line(text)                -> (name, value) of "Name: Value" (``aggregate add --header``)
    SourceHeaders                    the configured pairs; printed with every value as ***
    with_defaults(own, defaults, url) -> a source's headers: its own, then the top-level ones
    ScopedHeaders.of(headers, url)   the headers, bound to the origin of the feed's URL
    ScopedHeaders.sent_to(url)       what one request (a hop, a page) carries: all or nothing
    ScopedHeaders.reaches(url)       whether ``url`` is on their origin

A source's headers are credentials as often as not (``Authorization``,
``Cookie``, ``X-Api-Key``), so they go to its feed's own origin only: the
scheme, host and port of its configured ``url``, where the user put them.
Every request there carries them: the feed's, conditional or not, each hop of
a redirect that stays there, and its article pages there (``full_text``: a
cookie-walled site wants its cookie for those too).  A request anywhere
else carries none of them, not only ``Authorization`` and ``Cookie`` as
browsers and requests do: any header may hold a credential, and a
redirect's target, or an item's link, is chosen by the server.  That holds
for a feed that moved for good to another origin (a confirmed redirect):
it is fetched there without them, since the credentials were given for the
configured origin.  One exception, as requests makes it: ``http`` on port
80 upgraded to ``https`` on port 443 of the same host is the same origin,
so a feed configured with ``http://`` that redirects to its ``https://``
address keeps working; the other way round is not.

The top-level ``headers`` are every URL source's defaults (a User-Agent for
all): a source's own header of the same name, in any case, replaces the
default, and a source read from files gets none, as it makes no request.

The fetcher owns the headers that say how a request is made and what it
asks for (:data:`FETCHER_HEADERS`); configuring one is an error, not a
value silently replaced, so that the file never says what is not sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

from .addresses import host_name

__all__ = [
    "FETCHER_HEADERS",
    "NO_HEADERS",
    "ScopedHeaders",
    "SourceHeaders",
    "header_line",
    "header_name_problem",
    "header_value_problem",
    "with_defaults",
]

# What the fetcher sets itself, in lower case: the connection and message
# framing (Host, Content-Length, Transfer-Encoding and the hop-by-hop
# headers), what it accepts (Accept: a feed's types, or an article page's;
# Accept-Encoding: the codings it decodes within its size cap), and the
# conditional and partial requests it makes from its stored state.
FETCHER_HEADERS = frozenset(
    {
        "host", "content-length", "transfer-encoding", "connection", "keep-alive",
        "proxy-connection", "upgrade", "te", "trailer", "expect",
        "accept", "accept-encoding", "range",
        "if-none-match", "if-modified-since", "if-match", "if-unmodified-since", "if-range",
    }
)  # fmt: skip

# A field name is a token (RFC 9110, 5.1 and 5.6.2).
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# C0 controls but tab, and DEL: CR and LF would end the header and start
# another (header injection), NUL is refused by every server.
_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f]")
_DEFAULT_PORTS = {"http": 80, "https": 443}

# An origin as requests are compared with it: scheme, host as
# addresses.host_name spells it (lower case, IDNA), port.
Origin = tuple[str, str, int]


def header_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a source's header, or None if it can."""
    if not name:
        return "a header name cannot be empty"
    if not _TOKEN.fullmatch(name):
        wrong = next(char for char in name if not _TOKEN.fullmatch(char))
        # Quoted only when it prints on one line (a quoted YAML key may hold "\n").
        shown = f"'{name}'" if name.isascii() and name.isprintable() else "the name"
        return (
            f"{shown} is not a header name: it holds U+{ord(wrong):04X}; "
            "a name is letters, digits and !#$%&'*+-.^_`|~"
        )
    if name.lower() in FETCHER_HEADERS:
        return f"'{name}' is set by the fetcher itself; leave it out"
    return None


def header_value_problem(value: str) -> str | None:
    """Why ``value`` cannot be a header's value, or None if it can.

    The message never quotes the value: it may be a credential."""
    match = _CONTROL.search(value)
    if match is None:
        return None
    return (
        f"the value holds U+{ord(match.group()):04X}, a control character: "
        "a header's value is one line"
    )


def header_line(text: str) -> tuple[str, str]:
    """The name and value of a header written as ``Name: Value`` (curl's ``-H``),
    the value stripped of the spaces around it; raises ValueError saying why
    it is not one a source may have, never quoting the value."""
    name, colon, value = text.partition(":")
    if not colon:
        raise ValueError("expected 'Name: Value', with a colon after the header's name")
    problem = header_name_problem(name)
    if problem is None and not value.strip():
        problem = f"'{name}' has no value"
    if problem is None:
        problem = header_value_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return name, value.strip()


@dataclass(frozen=True, slots=True)
class SourceHeaders:
    """A source's configured headers, in the order the file gives them.

    Printed (``str``, ``repr``, logs) with every value as ``***``: a value
    is read only to be sent (:class:`ScopedHeaders`) and to be masked in
    what is published (:func:`aggregator.redact.header_secrets`)."""

    pairs: tuple[tuple[str, str], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.pairs)

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.pairs)

    def __repr__(self) -> str:
        shown = ", ".join(f"{name!r}: '***'" for name, _value in self.pairs)
        return f"SourceHeaders({{{shown}}})"

    __str__ = __repr__


NO_HEADERS = SourceHeaders()


def with_defaults(own: SourceHeaders, defaults: SourceHeaders, url: str | None) -> SourceHeaders:
    """The headers a source sends: its ``own``, then each of the top-level
    ``defaults`` whose name (in any case) it does not give; ``own`` alone for a
    source read from files (``url`` None).

    The default ``Authorization`` is left out where ``url`` has a user and
    password: those are the source's own Authorization, which overrides a
    default as a header of its own does (the HTTP client would not send
    both).  A source's own Authorization beside them is the configuration's
    error to report, not this function's."""
    if url is None or not defaults:
        return own
    given = {name.lower() for name, _value in own}
    if "@" in urlsplit(url).netloc:
        given.add("authorization")
    inherited = tuple((name, value) for name, value in defaults if name.lower() not in given)
    return SourceHeaders(own.pairs + inherited) if inherited else own


@dataclass(frozen=True, slots=True)
class ScopedHeaders:
    """A source's headers and the one origin they are sent to (see the module's docstring)."""

    headers: SourceHeaders
    origin: Origin

    @classmethod
    def of(cls, headers: SourceHeaders, feed_url: str | None) -> ScopedHeaders | None:
        """``headers`` bound to the origin of ``feed_url`` (the configured URL,
        not where a redirect moved the feed); None without headers or URL."""
        if not headers or feed_url is None:
            return None
        origin = _origin(feed_url)
        return cls(headers, origin) if origin is not None else None

    def reaches(self, url: str) -> bool:
        """Whether a request to ``url`` is on their origin (and carries them)."""
        return _same_origin(self.origin, url)

    def sent_to(self, url: str) -> dict[str, str]:
        """The headers a request to ``url`` carries: all of them on the origin, else none.

        But ``Authorization`` where ``url`` has user info of its own (a
        redirect's, a link's): that is its Authorization, which the HTTP
        client will not send beside another."""
        if not _same_origin(self.origin, url):
            return {}
        sent = dict(self.headers.pairs)
        if "@" in urlsplit(url).netloc:
            sent = {name: value for name, value in sent.items() if name.lower() != "authorization"}
        return sent


def _origin(url: str) -> Origin | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = host_name(parts.hostname or "")
    if scheme not in _DEFAULT_PORTS or host is None:
        return None
    return scheme, host, port if port is not None else _DEFAULT_PORTS[scheme]


def _same_origin(origin: Origin, url: str) -> bool:
    target = _origin(url)
    if target is None:
        return False
    if target == origin:
        return True
    # http://host (port 80) upgraded to https://host (port 443): the same
    # server, reached more safely (requests' should_strip_auth says so too).
    return origin == ("http", target[1], 80) and target == ("https", origin[1], 443)
