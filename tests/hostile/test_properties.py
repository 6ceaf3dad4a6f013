"""Properties that must hold for any input, checked with hypothesis.

* ``canonical_url`` is idempotent and never changes which page is meant: the
  host, the path and every non-tracking query parameter survive it;
* ``split_sections`` loses and duplicates no text: every heading and
  paragraph comes out once, in order;
* ``parse_document`` on arbitrary bytes gives a ParsedFeed or our own
  ParseError, and nothing else (no crash, no other exception).
"""

from __future__ import annotations

import string
from html import escape
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.dedup.keys import canonical_url, is_tracking_parameter
from aggregator.errors import ParseError
from aggregator.models import Document, ParsedFeed
from aggregator.parse import parse_document
from aggregator.summarize import split_sections
from aggregator.summarize.sections import is_boilerplate
from tests.conftest import DATA

# -- canonical_url -------------------------------------------------------------

_LABEL = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=10)
_HOST = st.builds(
    lambda www, labels, tld: ("www." if www else "") + ".".join([*labels, tld]),
    st.booleans(),
    st.lists(_LABEL, min_size=1, max_size=3),
    st.sampled_from(["com", "org", "example", "co.uk"]),
)
# Path and query text as people write it: letters, digits, punctuation,
# non-ASCII, and percent-escapes, of ordinary characters and of the ones
# that must stay escaped ("%25" is not "%", "%2F" is not "/").
_PIECE = st.one_of(
    st.text(string.ascii_letters + string.digits + "-._~!$'()*+,;:@", min_size=1, max_size=8),
    st.text(
        alphabet=st.characters(min_codepoint=0xA1, max_codepoint=0x2FF), min_size=1, max_size=3
    ),
    st.sampled_from(["%41", "%20", "%C3%A9", "%7E", "%25", "%2F", "%2f", "%2541"]),
)
_PATH = st.lists(st.lists(_PIECE, min_size=1, max_size=3).map("".join), max_size=4).map(
    lambda segments: "/" + "/".join(segments)
)
_KEY = st.one_of(
    st.text(string.ascii_lowercase, min_size=1, max_size=6),
    st.sampled_from(["utm_source", "utm_medium", "fbclid", "gclid", "id", "page", "q"]),
)
_QUERY = st.lists(
    st.tuples(_KEY, st.text(string.ascii_letters + string.digits + "-_.~ ", max_size=6)),
    max_size=4,
)


@st.composite
def urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP"]))
    host = draw(_HOST)
    port = draw(st.sampled_from(["", ":8080", ":80", ":443"]))
    path = draw(_PATH)
    query = draw(_QUERY)
    fragment = draw(st.sampled_from(["", "#top", "#section-2"]))
    trailing = draw(st.sampled_from(["", "/"]))
    encoded = urlencode(query)
    return (
        f"{scheme}://{host}{port}{path}{trailing}" + (f"?{encoded}" if encoded else "") + fragment
    )


@given(urls())
def test_canonical_url_is_idempotent(url: str) -> None:
    once = canonical_url(url)
    assert canonical_url(once) == once


@given(urls())
def test_canonical_url_keeps_the_page(url: str) -> None:
    original, canonical = urlsplit(url), urlsplit(canonical_url(url) or "")
    host = (original.hostname or "").rstrip(".").removeprefix("www.")
    assert canonical.hostname == host
    if original.port not in (None, 80, 443):
        assert canonical.port == original.port
    assert unquote(canonical.path).rstrip("/") == unquote(original.path).rstrip("/")
    kept = [(k, v) for k, v in parse_qsl(original.query, keep_blank_values=True)]
    kept = [(k, v) for k, v in kept if not is_tracking_parameter(k)]
    assert sorted(parse_qsl(canonical.query, keep_blank_values=True)) == sorted(kept)


@given(urls(), st.text(string.ascii_lowercase, min_size=1, max_size=5))
def test_different_pages_stay_different(url: str, extra: str) -> None:
    """A different path, or a different real query parameter, is a different page."""
    base = url.split("#")[0]
    other_path = urlsplit(base)._replace(path=urlsplit(base).path.rstrip("/") + "/" + extra)
    assert canonical_url(other_path.geturl()) != canonical_url(url)
    separator = "&" if "?" in base else "?"
    assert canonical_url(f"{base}{separator}zz{extra}=1") != canonical_url(url)


def test_canonical_url_http_on_443_is_idempotent() -> None:
    once = canonical_url("http://x.example:443/")
    assert canonical_url(once) == once


def test_canonical_url_escaped_percent_is_idempotent() -> None:
    once = canonical_url("http://x.example/%2541")  # the path is the three characters "%41"
    assert canonical_url(once) == once


def test_canonical_url_keeps_escaped_slash() -> None:
    assert canonical_url("http://x.example/a%2Fb") != canonical_url("http://x.example/a/b")


# -- split_sections ------------------------------------------------------------

_WORDS = st.text(
    alphabet=st.characters(
        categories=["Lu", "Ll", "Nd", "Zs", "Po"],  # letters, digits, spaces, punctuation
        exclude_characters="\x85\xa0\u1680\u2028\u2029",
    ),
    min_size=1,
    max_size=60,
).map(lambda text: " ".join(text.split()))
_BLOCK = st.tuples(st.sampled_from(["h2", "h3", "p"]), _WORDS)


@given(st.lists(_BLOCK, max_size=12))
@settings(suppress_health_check=[HealthCheck.too_slow])
def test_split_sections_loses_and_repeats_nothing(blocks: list[tuple[str, str]]) -> None:
    html = "".join(f"<{tag}>{escape(text)}</{tag}>" for tag, text in blocks)
    expected: list[tuple[str, str]] = []
    for tag, text in blocks:
        if not text:
            continue
        kind = "heading" if tag != "p" else "paragraph"
        if kind == "paragraph" and is_boilerplate(text):
            continue
        expected.append((kind, text))
    got: list[tuple[str, str]] = []
    for section in split_sections(html):
        if section.heading is not None:
            got.append(("heading", section.heading))
        got.extend(("paragraph", paragraph) for paragraph in section.paragraphs)
    assert got == expected


@given(
    st.lists(
        _WORDS.filter(lambda t: bool(t) and not t.startswith(("#", "*")) and "&" not in t),
        max_size=10,
    )
)
def test_split_sections_plain_text_keeps_every_paragraph(paragraphs: list[str]) -> None:
    """Text without tags (entities aside: plain text from feeds is read unescaped)."""
    text = "\n\n".join(paragraphs)
    expected = [p for p in paragraphs if not is_boilerplate(p)]
    got = [p for section in split_sections(text) for p in section.paragraphs]
    assert "".join(got).replace(" ", "") == "".join(expected).replace(" ", "")


# -- parse_document ------------------------------------------------------------

_SEEDS = [path.read_bytes() for path in sorted((DATA / "feeds").iterdir())]
_CONTENT_TYPES = st.sampled_from(
    [None, "application/xml", "application/rss+xml", "application/feed+json", "text/html"]
)


@st.composite
def mutated_feeds(draw: st.DrawFn) -> bytes:
    """A real feed with bytes cut, inserted or replaced: ill-formed in every way."""
    data = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        if not data:
            break
        position = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["cut", "insert", "replace"]))
        chunk = draw(
            st.one_of(
                st.binary(min_size=1, max_size=8),
                st.sampled_from(
                    [b"<", b">", b"&", b"]]>", b"<![CDATA[", b"<!DOCTYPE x [", b"&amp;",
                     b"\xef\xbb\xbf", b"\x00", b"<!ENTITY a 'b'>", b"&a;", b"</item>", b"{"]
                ),
            )
        )  # fmt: skip
        if action == "cut":
            del data[position : position + len(chunk)]
        elif action == "insert":
            data[position:position] = chunk
        else:
            data[position : position + len(chunk)] = chunk
    return bytes(data)


def _parses_or_refuses(body: bytes, content_type: str | None, location: str) -> None:
    document = Document(location=location, body=body, content_type=content_type)
    try:
        result = parse_document(document, "prop", local=location.startswith("/"))
    except ParseError as error:
        assert error.source == "prop" and "\n" not in str(error)
    else:
        assert isinstance(result, ParsedFeed)


@given(st.binary(max_size=2000), _CONTENT_TYPES)
@settings(max_examples=300)
def test_parse_document_on_arbitrary_bytes(body: bytes, content_type: str | None) -> None:
    _parses_or_refuses(body, content_type, "https://prop.example/feed")


@given(mutated_feeds(), _CONTENT_TYPES)
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
def test_parse_document_on_mutated_feeds(body: bytes, content_type: str | None) -> None:
    _parses_or_refuses(body, content_type, "https://prop.example/feed")


@given(st.binary(max_size=1000), st.sampled_from(["/a/x.md", "/a/x.txt", "/a/x.html", "/a/x.xml"]))
@settings(max_examples=150)
def test_parse_document_on_arbitrary_local_files(body: bytes, location: str) -> None:
    _parses_or_refuses(body, None, location)
