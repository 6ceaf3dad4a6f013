"""Which requests carry a source's own headers, and which names may be configured."""

from __future__ import annotations

import re

import pytest

from aggregator.request_headers import (
    FETCHER_HEADERS,
    NO_HEADERS,
    ScopedHeaders,
    SourceHeaders,
    header_line,
    header_name_problem,
    header_value_problem,
    with_defaults,
)

HEADERS = SourceHeaders(
    (("Authorization", "Bearer abc123secret"), ("Cookie", "session=xyz"), ("X-Api-Key", "k3y"))
)
ALL = dict(HEADERS.pairs)


@pytest.mark.parametrize(
    ("feed", "request_url", "sent"),
    [
        # The feed's origin: the feed, another path, its pages, with a query.
        ("https://api.example.com/feed", "https://api.example.com/feed", ALL),
        ("https://api.example.com/feed", "https://API.example.com:443/other?page=2", ALL),
        ("http://intranet:8080/feed", "http://intranet:8080/articles/1", ALL),
        # Any other origin: another host, a subdomain, another port, another scheme.
        ("https://api.example.com/feed", "https://cdn.example.com/feed", {}),
        ("https://example.com/feed", "https://www.example.com/feed", {}),
        ("https://api.example.com/feed", "https://api.example.com:8443/feed", {}),
        ("https://api.example.com/feed", "http://api.example.com/feed", {}),  # a downgrade
        ("http://intranet:8080/feed", "https://intranet/feed", {}),
        ("http://127.0.0.1:8080/feed", "http://localhost:8080/feed", {}),  # one machine, two names
        # An upgrade of the same host from http to https on their default ports.
        ("http://api.example.com/feed", "https://api.example.com/feed", ALL),
        ("http://api.example.com:80/feed", "https://api.example.com:443/f", ALL),
        # Not an http(s) URL, or no URL at all.
        ("https://api.example.com/feed", "ftp://api.example.com/feed", {}),
        ("https://api.example.com/feed", "https://api.example.com:99999/", {}),
        ("https://api.example.com/feed", "not a url", {}),
        # IDNA and Unicode spellings of one host are one origin.
        ("https://bücher.example/feed", "https://xn--bcher-kva.example/page", ALL),
        # A URL with user info of its own: that is its Authorization.
        (
            "https://api.example.com/feed",
            "https://u:p@api.example.com/feed",
            {"Cookie": "session=xyz", "X-Api-Key": "k3y"},
        ),
        ("https://api.example.com/feed", "https://u:p@evil.example/feed", {}),
    ],
)
def test_headers_go_to_the_feeds_origin_only(
    feed: str, request_url: str, sent: dict[str, str]
) -> None:
    scoped = ScopedHeaders.of(HEADERS, feed)

    assert scoped is not None
    assert scoped.sent_to(request_url) == sent
    assert scoped.reaches(request_url) == bool(sent)


def test_no_headers_or_no_url_is_no_scope() -> None:
    assert ScopedHeaders.of(NO_HEADERS, "https://api.example.com/feed") is None
    assert ScopedHeaders.of(HEADERS, None) is None  # a source read from files
    assert ScopedHeaders.of(HEADERS, "https://api.example.com:99999/") is None


def test_values_are_never_printed() -> None:
    for shown in (repr(HEADERS), str(HEADERS), repr(ScopedHeaders.of(HEADERS, "https://a/"))):
        assert "abc123secret" not in shown and "session=xyz" not in shown, shown
        assert "'Authorization': '***'" in shown


@pytest.mark.parametrize("name", sorted(FETCHER_HEADERS))
def test_the_fetchers_own_headers_are_refused_in_any_case(name: str) -> None:
    for spelling in (name, name.upper(), name.title()):
        assert header_name_problem(spelling) == (
            f"'{spelling}' is set by the fetcher itself; leave it out"
        )


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Authorization", None),
        ("x-custom_header.v2", None),
        ("X Token", "'X Token' is not a header name: it holds U+0020"),
        ("X-Token:", "'X-Token:' is not a header name: it holds U+003A"),
        ("X-Tökén", "the name is not a header name: it holds U+00F6"),
        ("X\r\nHost", "the name is not a header name: it holds U+000D"),
        ("", "a header name cannot be empty"),
    ],
)
def test_header_names_are_tokens(name: str, problem: str | None) -> None:
    found = header_name_problem(name)
    if problem is None:
        assert found is None
    else:
        assert found is not None and found.startswith(problem), found
        assert "\n" not in found and "\r" not in found


@pytest.mark.parametrize(
    ("value", "code_point"),
    [
        ("Bearer abc\r\nX-Injected: 1", "U+000D"),
        ("Bearer abc\nX-Injected: 1", "U+000A"),
        ("abc\x00def", "U+0000"),
        ("abc\x7f", "U+007F"),
        ("a\tb", None),  # a tab is a field value's own (RFC 9110 5.5)
        ("Grüße, ünïcödé", None),
    ],
)
def test_header_values_are_one_line(value: str, code_point: str | None) -> None:
    problem = header_value_problem(value)
    if code_point is None:
        assert problem is None
    else:
        assert problem is not None and code_point in problem
        assert "abc" not in problem  # the value is not quoted: it may be a credential


# The top-level defaults, as the file gives them.
DEFAULTS = SourceHeaders(
    (("User-Agent", "MyReader/1.0"), ("Authorization", "Bearer d3faulttoken"), ("X-Team", "news"))
)


@pytest.mark.parametrize(
    ("own", "url", "sent"),
    [
        # No headers of its own: every default.
        ((), "https://a.example/feed", DEFAULTS.pairs),
        # Its own first, then the defaults it does not name, in any case.
        (
            (("user-agent", "Other/2.0"), ("Cookie", "s=1")),
            "https://a.example/feed",
            (
                ("user-agent", "Other/2.0"),
                ("Cookie", "s=1"),
                ("Authorization", "Bearer d3faulttoken"),
                ("X-Team", "news"),
            ),
        ),
        # A URL's user and password are its Authorization: the default's is left out.
        (
            (),
            "https://reader:pw@a.example/feed",
            (("User-Agent", "MyReader/1.0"), ("X-Team", "news")),
        ),
        # A source read from files sends nothing, whatever the defaults.
        ((), None, ()),
    ],
    ids=["defaults", "own-overrides-by-name", "url-user-info", "path-source"],
)
def test_a_sources_own_headers_override_the_defaults_name_by_name(
    own: tuple[tuple[str, str], ...], url: str | None, sent: tuple[tuple[str, str], ...]
) -> None:
    assert with_defaults(SourceHeaders(own), DEFAULTS, url).pairs == sent


def test_without_defaults_a_source_keeps_its_own() -> None:
    assert with_defaults(HEADERS, NO_HEADERS, "https://a.example/feed") is HEADERS


@pytest.mark.parametrize(
    ("line", "header"),
    [
        ("Authorization: Bearer abc123secret", ("Authorization", "Bearer abc123secret")),
        ("X-Api-Key:k3y", ("X-Api-Key", "k3y")),
        ("Cookie:   a=b; c=d  ", ("Cookie", "a=b; c=d")),
        ("X-Url: https://a.example:8080/x", ("X-Url", "https://a.example:8080/x")),
    ],
)
def test_a_header_line_is_a_name_a_colon_and_a_value(line: str, header: tuple[str, str]) -> None:
    assert header_line(line) == header


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("Authorization Bearer abc123secret", "expected 'Name: Value', with a colon"),
        ("X Key: abc123secret", "'X Key' is not a header name"),
        ("X-Key :abc123secret", "'X-Key ' is not a header name"),
        (": abc123secret", "a header name cannot be empty"),
        ("Host: abc123secret.example", "'Host' is set by the fetcher itself"),
        ("accept-encoding: abc123secret", "'accept-encoding' is set by the fetcher itself"),
        ("X-Key:   ", "'X-Key' has no value"),
        ("X-Key: abc123secret\r\nX-Injected: 1", "the value holds U+000D"),
    ],
)
def test_a_bad_header_line_says_why_without_its_value(line: str, problem: str) -> None:
    with pytest.raises(ValueError, match="^" + re.escape(problem)) as raised:
        header_line(line)
    assert "abc123secret" not in str(raised.value)
