"""Which requests carry a source's own headers, and which names may be configured."""

from __future__ import annotations

import pytest

from aggregator.request_headers import (
    FETCHER_HEADERS,
    NO_HEADERS,
    ScopedHeaders,
    SourceHeaders,
    header_name_problem,
    header_value_problem,
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
