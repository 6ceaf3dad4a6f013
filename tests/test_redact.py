from __future__ import annotations

import pytest

from aggregator.redact import (
    is_secret_parameter,
    mask_password,
    printable,
    redact_text,
    redact_url,
    url_secrets,
)


@pytest.mark.parametrize(
    ("url", "public"),
    [
        (
            "http://admin:hunter2@host/feed.xml?token=SECRET",
            "http://host/feed.xml?token=***",
        ),
        ("https://user@host:8443/f", "https://host:8443/f"),
        ("http://u:p@[::1]:8080/f", "http://[::1]:8080/f"),
        ("http://u:p%40ss@word@host/f", "http://host/f"),  # the last @ ends the user info
        (
            "https://h/f?page=2&api_key=K&X-Amz-Signature=S&apiKey=A;sid=1&lang=en",
            "https://h/f?page=2&api_key=***&X-Amz-Signature=***&apiKey=***;sid=***&lang=en",
        ),
        ("https://h/f?feedToken=T&private_token=P", "https://h/f?feedToken=***&private_token=***"),
        ("https://h/f?keyword=war&author=x&q=a%20b", "https://h/f?keyword=war&author=x&q=a%20b"),
        ("https://h/f?token=&key", "https://h/f?token=&key"),  # nothing to hide
        ("https://h/cb#access_token=T&state=1", "https://h/cb#access_token=***&state=1"),
        ("https://h/page#section-2", "https://h/page#section-2"),
        ("http://u:p@[::1/feed?token=T", "http://[::1/feed?token=***"),  # malformed all the same
        ("/srv/feeds/seeds", "/srv/feeds/seeds"),
        ("", ""),
    ],
)
def test_redact_url(url: str, public: str) -> None:
    assert redact_url(url) == public
    assert redact_url(public) == public  # idempotent


@pytest.mark.parametrize("name", ["token", "Token", "access_token", "auth", "password", "sig"])
def test_secret_parameters(name: str) -> None:
    assert is_secret_parameter(name)


@pytest.mark.parametrize("name", ["page", "q", "author", "keyword", "format", "signal"])
def test_ordinary_parameters(name: str) -> None:
    assert not is_secret_parameter(name)


def test_redact_text_finds_urls_and_the_pieces_of_the_configured_one() -> None:
    url = "http://admin:hunter2%21@example.com/f?token=SECRET1"
    message = (
        "refused: redirect to ftp://bob:pw@example.net/x?sig=abc, "
        "after http://admin:hunter2%21@example.com/f?token=SECRET1; "
        "Cannot connect to admin:hunter2!@example.com (token SECRET1)"
    )
    shown = redact_text(message, url)
    for secret in ("bob", "pw@", "abc", "hunter2", "SECRET1", "admin"):
        assert secret not in shown
    assert "ftp://example.net/x?sig=***" in shown
    assert "http://example.com/f?token=***" in shown
    assert url_secrets("http://host/f?q=ab&token=xy") == ()  # too short to search for


def test_printable_strips_terminal_controls() -> None:
    assert printable("ti\x1b]0;owned\x07tle\x9b2J\u202eok\tx\n") == "ti]0;ownedtle2Jok\tx\n"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://root:hunter2@127.0.0.1:1/x", "postgresql://root:***@127.0.0.1:1/x"),
        ("postgresql://root@db/news", "postgresql://root@db/news"),  # the user stays
        ("postgres://u:p%40ss@word@h:5/d", "postgres://u:***@h:5/d"),  # the last @ ends it
        ("postgresql://:pw@h/d", "postgresql://:***@h/d"),
        (
            "postgresql://h/d?password=abc&sslmode=require&options=-csearch_path%3Dx",
            "postgresql://h/d?password=***&sslmode=require&options=-csearch_path%3Dx",
        ),
        ("postgresql://", "postgresql://"),
        ("/var/lib/aggregator.db", "/var/lib/aggregator.db"),
    ],
)
def test_mask_password_keeps_the_user_and_masks_the_password(url: str, shown: str) -> None:
    assert mask_password(url) == shown
    assert mask_password(shown) == shown  # idempotent
