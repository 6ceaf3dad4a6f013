"""Charset names from headers and documents: a codec, or None, and never an exception."""

from __future__ import annotations

import pytest

from aggregator.parse.charsets import text_codec, without_unknown_charset


@pytest.mark.parametrize(
    ("label", "codec"),
    [
        ("utf-8", "utf-8"),
        ("UTF8", "utf-8"),
        ("iso-8859-1", "iso8859-1"),
        ("windows-1252", "cp1252"),
        ("Shift_JIS", "shift_jis"),
        ("us-ascii", "ascii"),
        ("utf-16", "utf-16"),
    ],
)
def test_a_name_python_decodes_gives_its_codec(label: str, codec: str) -> None:
    assert text_codec(label) == codec


@pytest.mark.parametrize(
    "label",
    [
        "\udce9",  # a non-ASCII byte of a header, as the HTTP client hands it on
        "utf-\udcfc8",
        "x-\udcff\udcfe",
        "utf-\u00fc8",  # Python would read it as utf-8; no parser of ours would
        "utf-8\x00",
        "",
        "utf-8 ",
        "a" * 1000,
        "x-absurd-9999",
        "undefined",  # a codec that decodes nothing
        "idna",  # text codecs that raise UnicodeError, not UnicodeDecodeError
        "punycode",
        "rot13",  # codecs of bytes to bytes or text to text
        "zlib",
        "base64",
        "hex",
    ],
)
def test_anything_else_is_none(label: str) -> None:
    assert text_codec(label) is None


@pytest.mark.parametrize(
    ("content_type", "kept", "dropped"),
    [
        ("application/rss+xml; charset=\udce9", "application/rss+xml", "\udce9"),
        ('text/xml;charset="undefined"; q=1', "text/xml; q=1", "undefined"),
        ("application/xml; charset=utf-8", "application/xml; charset=utf-8", None),
        ("application/xml", "application/xml", None),
        ("application/xml; charset=", "application/xml; charset=", None),
    ],
)
def test_an_unknown_charset_is_left_out_of_a_content_type(
    content_type: str, kept: str, dropped: str | None
) -> None:
    assert without_unknown_charset(content_type) == (kept, dropped)
