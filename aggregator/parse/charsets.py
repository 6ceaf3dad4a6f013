"""Charset names from the network, checked before anything decodes with them.

    text_codec(label)                       -> the Python codec's name, or None
    without_unknown_charset(content_type)   -> (the Content-Type without it, the charset left out)
    content_charset(content_type)           -> its charset as feedparser reads it, or None

A charset name is whatever a server wrote: the ``charset`` of a
``Content-Type``, the ``encoding`` of an XML declaration.  Python's codec
machinery does not only raise ``LookupError`` for a name it does not know,
which is all its callers here expect (feedparser included): a header byte
past ASCII (the HTTP client hands it on as a lone surrogate) raises
``UnicodeEncodeError`` from ``codecs.lookup``, a NUL ``ValueError``;
``undefined`` decodes nothing, and ``idna`` and ``punycode`` raise
``UnicodeError`` where a text codec raises ``UnicodeDecodeError``; ``rot13``,
``zlib`` or ``base64`` are no text encodings at all.  So every charset that
comes from outside goes through :func:`text_codec` first, and one that names
no text encoding is treated as no charset: the XML declaration, the
byte-order mark or sniffing decide instead.
"""

from __future__ import annotations

import codecs
import functools
import re

__all__ = ["content_charset", "text_codec", "without_unknown_charset"]

# ASCII only, as HTTP and XML write encoding names (IANA's longest alias is
# 45 characters); a name past this Python would look up under another name,
# or not at all.
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,63}")
# Every byte value: a text codec decodes it, with "replace", without raising.
_EVERY_BYTE = bytes(range(256))


@functools.lru_cache(maxsize=64)  # few names per pass, and a stranger's are bounded by it
def text_codec(label: str) -> str | None:
    """The name of the Python codec that decodes text labelled ``label``
    (``"UTF8"`` -> ``"utf-8"``); None when ``label`` names none (see the module's doc).

    It does not strip quotes or spaces: the caller reads the label out of its
    header or declaration.
    """
    if not _NAME.fullmatch(label):
        return None
    try:
        info = codecs.lookup(label)
        _EVERY_BYTE.decode(info.name, "replace")
    except (LookupError, ValueError):  # UnicodeError is a ValueError
        return None
    return info.name


def without_unknown_charset(content_type: str) -> tuple[str, str | None]:
    """``content_type`` without a ``charset`` parameter that names no text
    encoding, and that charset's value (None when there was none to leave out).

    The parameters are read as feedparser reads them (split at ``;``, the
    value unquoted), so that what it would have looked up is what is checked.
    """
    media_type, *parameters = content_type.split(";")
    kept = [media_type]
    dropped = None
    for parameter in parameters:
        key, _, value = parameter.partition("=")
        label = value.strip().strip("\"'")
        if key.strip().lower() == "charset" and label and text_codec(label) is None:
            dropped = label
            continue
        kept.append(parameter)
    return ";".join(kept), dropped


def content_charset(content_type: str) -> str | None:
    """The ``charset`` of ``content_type`` as feedparser reads it (the last
    one, unquoted), or None; not checked (see :func:`text_codec`)."""
    charset = None
    for parameter in content_type.split(";")[1:]:
        key, _, value = parameter.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'") or None
    return charset
