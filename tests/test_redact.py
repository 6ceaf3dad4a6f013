from __future__ import annotations

import unicodedata

import pytest

from aggregator.redact import (
    header_secrets,
    is_secret_parameter,
    mask_password,
    name_problem,
    plain_name,
    printable,
    public_link,
    public_text,
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


@pytest.mark.parametrize(
    ("link", "public"),
    [
        ("https://alice:secret@example.com/post", "https://example.com/post"),
        ("https://bank.example@evil.example/login", "https://evil.example/login"),
        ("http://u:p@[::1]:8080/f#x", "http://[::1]:8080/f#x"),
        # A signed URL is kept: its parameters are meant to be sent.
        (
            "https://cdn.example/a.mp3?X-Amz-Signature=S",
            "https://cdn.example/a.mp3?X-Amz-Signature=S",
        ),
        # The source's own credentials, wherever the feed repeats them.
        ("https://h/post?token=TOKEN1&t=3", "https://h/post?token=***&t=3"),
        ("https://h/TOKEN1/post", "https://h/***/post"),
        ("https://h/hunter2!/x?a=hunter2%21", "https://h/***/x?a=***"),
        # Its user name is not a secret there: it is a word of the site's paths.
        ("https://h/admin/repo", "https://h/admin/repo"),
        ("mailto:someone@example.com", "mailto:someone@example.com"),
    ],
)
def test_public_link(link: str, public: str) -> None:
    secrets = url_secrets("https://admin:hunter2%21@h/feed?token=TOKEN1", user=False)
    assert public_link(link, secrets) == public
    assert public_link(public, secrets) == public  # idempotent


# What a source's entries say (a title, a sentence), the source's URL, and
# what is published: each of that source's secrets (its password and its
# secret query values, four characters or more) as ***, the rest as written.
@pytest.mark.parametrize(
    ("text", "source_url", "published"),
    [
        # No secrets: a URL without credentials, or text that does not hold them.
        ("Token S3CRET1 here", "https://h/feed.xml", "Token S3CRET1 here"),
        ("Nothing to hide here", "https://u:hunter2@h/f?token=S3CRET1", "Nothing to hide here"),
        # The feed quotes its own address.
        (
            "Manage your subscription at https://h/f?token=S3CRET1&page=2.",
            "https://h/f?token=S3CRET1",
            "Manage your subscription at https://h/f?token=***&page=2.",
        ),
        # Several secrets: the password, the token and an API key, each masked.
        (
            "Log in with hunter2, token S3CRET1, key K3YVALUE.",
            "https://admin:hunter2@h/f?token=S3CRET1&api_key=K3YVALUE",
            "Log in with ***, token ***, key ***.",
        ),
        # The user name stays: a name is a word of the text, not a credential.
        ("admin wrote: hunter2", "https://admin:hunter2@h/f", "admin wrote: ***"),
        # URL-encoded, in the configured URL, in the text, or both; the
        # escapes' hex digits in either case.
        ("a/b+c== and a%2Fb%2Bc%3D%3D", "https://h/f?token=a%2Fb%2Bc%3D%3D", "*** and ***"),
        ("sent a%2fb%2bc%3d%3d", "https://h/f?token=a%2Fb%2Bc%3D%3D", "sent ***"),
        ("p%40ss%3Aword or p@ss:word", "https://u:p@ss:word@h/f", "*** or ***"),
        # Inside a longer word too: text out of HTML runs words together.
        ("Token:S3CRET1Expires xS3CRET1y", "https://h/f?token=S3CRET1", "Token:***Expires x***y"),
        # In an attribute of markup, as in an entry's HTML.
        (
            '<a href="https://h/f?token=S3CRET1&amp;page=2">settings</a>',
            "https://h/f?token=S3CRET1",
            '<a href="https://h/f?token=***&amp;page=2">settings</a>',
        ),
        # Secrets that overlap, or that repeat, are masked whole: one *** a run.
        ("key abcd1234wxyz", "https://u:abcd1234@h/f?token=1234wxyz", "key ***"),
        ("S3CRET1S3CRET1 twice", "https://h/f?token=S3CRET1", "*** twice"),
        # Too short to search for: "pw" and "abc" are words, not secrets, here.
        ("a pw for abc", "https://u:pw@h/f?token=abc", "a pw for abc"),
        # Not secret parameters; another site's token; a decoy with one letter off.
        (
            "world news: https://other.example/f?token=OTHER1 S3CRET2",
            "https://h/f?keyword=world&topic=news&token=S3CRET1",
            "world news: https://other.example/f?token=OTHER1 S3CRET2",
        ),
    ],
)
def test_public_text(text: str, source_url: str, published: str) -> None:
    secrets = url_secrets(source_url, user=False)
    assert public_text(text, secrets) == published
    assert public_text(published, secrets) == published  # idempotent


# What a source's entries say, the source's own headers, and what is
# published: every value whole, the parts of Authorization and Cookie.
@pytest.mark.parametrize(
    ("text", "headers", "published"),
    [
        (
            "Your token is abc123secret.",
            [("Authorization", "Bearer abc123secret")],
            "Your token is ***.",
        ),
        (
            "Sent 'Bearer abc123secret' as asked",
            [("authorization", "Bearer abc123secret")],
            "Sent '***' as asked",
        ),
        # Basic: the credential, and its password and user:password decoded.
        (
            "Log in as reader with opensesame (cmVhZGVyOm9wZW5zZXNhbWU=), reader:opensesame",
            [("Authorization", "Basic cmVhZGVyOm9wZW5zZXNhbWU=")],
            "Log in as reader with *** (***), ***",
        ),
        # Each cookie's value, quoted or percent-encoded, and the whole header.
        (
            "session s3ss10nid, pref 'dark/mode' or dark%2Fmode; lang en",
            [("Cookie", 'session=s3ss10nid; pref="dark/mode"; lang=en')],
            "session ***, pref '***' or ***; lang en",
        ),
        # Any other header's value whole: a credential, or not, all the same.
        (
            "key k3yvalue99 and ua MyReader/1.0",
            [("X-Api-Key", "k3yvalue99"), ("User-Agent", "MyReader/1.0")],
            "key *** and ua ***",
        ),
        # Too short to search for; a Basic credential that is no base64.
        ("a pw for abc", [("X-Pin", "abc"), ("Cookie", "pw=ab")], "a pw for abc"),
        ("Basic !!notbase64!!", [("Authorization", "Basic !!notbase64!!")], "***"),
    ],
)
def test_header_values_are_masked_in_the_text_of_their_source(
    text: str, headers: list[tuple[str, str]], published: str
) -> None:
    secrets = header_secrets(headers)
    assert public_text(text, secrets) == published
    assert public_text(published, secrets) == published  # idempotent


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
    ("name", "problem"),
    [
        ("a\nb", "holds U+000A, a control character: a name is one line of plain text"),
        ("a\tb", "holds U+0009, a control character: a name is one line of plain text"),
        ("a\x00", "holds U+0000, a control character: a name is one line of plain text"),
        ("a\x85", "holds U+0085, a control character: a name is one line of plain text"),
        ("evil\u202etxt", "holds U+202E, a bidi control: a name is one line of plain text"),
        ("x\u2066y", "holds U+2066, a bidi control: a name is one line of plain text"),
        (
            "a\u2028b",
            "holds U+2028, a line or paragraph separator: a name is one line of plain text",
        ),
        # From a YAML escape, or bytes of a command line that are not UTF-8.
        ("a\udcff", "holds U+DCFF, a lone surrogate: a name is one line of plain text"),
    ],
)
def test_a_name_with_a_control_character_is_refused(name: str, problem: str) -> None:
    assert name_problem(name) == problem


def test_names_in_any_script_are_names() -> None:
    for name in ("Café Économie", "Київ", "新闻 東京", "👩\u200d💻 dev", "مرحبا", "a  b"):
        assert name_problem(name) is None, name
        assert plain_name(name) == " ".join(name.split())


def test_a_name_refuses_all_that_printable_removes_and_plain_name_makes_one_of_anything() -> None:
    for code in [*range(0x3000), *range(0xD800, 0xE000)]:
        char = chr(code)
        if unicodedata.category(char) in ("Cc", "Cs") or printable(char) != char:
            assert name_problem(f"a{char}b") is not None, hex(code)
        assert name_problem(plain_name(f" a{char}b ")) is None, hex(code)
    assert plain_name(" a\n\tb\u202e\x00c\u2028d \u2066 e\ud800") == "a bc d e"


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
