"""Where a feed document's entries are, so that the unchanged ones need not be parsed.

    entry_spans(body) -> EntrySpans(body, spans, frame)   or None: not splittable

Most of a poll that brings new bytes is entries the source sent last time,
byte for byte: a feed that gained three items still carries the thirty it
had.  feedparser's time goes per element, so parsing only the entries whose
bytes are new is most of the saving.  This module finds the entries' byte
ranges with expat (no Python work per character, one call per element), so
that :mod:`.feed` can hash each one and hand feedparser the document without
those it has seen.

An entry is the outermost element named ``item`` or ``entry`` (any prefix),
as feedparser has it.  What an entry inherits from around it and could read
differently if that changed (namespace prefixes, ``xml:base``, ``xml:lang``,
the encoding declaration) is in the start tags of its ancestors and in the
prolog: that is the ``frame``, which the caller makes part of what must not
have changed.  Whether the entries found are the entries feedparser finds is
checked by the caller, by counting them.

A document is not split (None) when it is not well-formed, when it is in a
wide encoding (UTF-16, UTF-32) or has no entries.  expat reads it as Latin-1
whatever it declares, so that every offset is a byte offset and any
ASCII-compatible encoding splits at the same places.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection
from dataclasses import dataclass
from xml.parsers import expat

from ..models import DIGEST_BYTES

__all__ = ["EntrySpans", "entry_spans"]

_ENTRY_NAMES = frozenset({"item", "entry"})
# The rest of a tag from its '<': attribute values may hold a '>'.
_TAG = re.compile(rb"""<(?:[^>"']|"[^"]*"|'[^']*')*>""")
_UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True, slots=True)
class EntrySpans:
    """A document and the byte range of each of its entries, in document order."""

    body: bytes
    spans: tuple[tuple[int, int], ...]
    frame: bytes  # the prolog and the start tags of the entries' ancestors

    def digests(self) -> tuple[bytes, ...]:
        body = self.body
        return tuple(
            hashlib.blake2b(body[start:end], digest_size=DIGEST_BYTES).digest()
            for start, end in self.spans
        )

    def without(self, omitted: Collection[int]) -> bytes:
        """The document with the entries at these indexes taken out."""
        pieces = []
        position = 0
        for index, (start, end) in enumerate(self.spans):
            if index in omitted:
                pieces.append(self.body[position:start])
                position = end
        pieces.append(self.body[position:])
        return b"".join(pieces)


def entry_spans(body: bytes) -> EntrySpans | None:
    """The entries of a well-formed XML document, or None (see the module's doc)."""
    offset = len(_UTF8_BOM) if body.startswith(_UTF8_BOM) else 0
    if b"\x00" in body[offset : offset + 4] or body.startswith((b"\xfe\xff", b"\xff\xfe")):
        return None
    parser = expat.ParserCreate(encoding="iso-8859-1")
    open_tags: list[int] = []  # start offsets of the elements open, outermost first
    spans: list[tuple[int, int]] = []
    frames: set[tuple[int, ...]] = set()
    entry_depth = -1  # open_tags' length inside the entry being read; -1: none
    entry_start = entry_empty_end = 0

    def start(name: str, _attributes: object) -> None:
        nonlocal entry_depth, entry_start, entry_empty_end
        if entry_depth >= 0:
            open_tags.append(-1)  # inside an entry only the depth counts, not where
            return
        position = parser.CurrentByteIndex + offset
        if open_tags and name.rpartition(":")[2] in _ENTRY_NAMES:
            entry_depth = len(open_tags)
            entry_start = position
            tag = _start_tag(body, position)
            entry_empty_end = position + len(tag) if tag.endswith(b"/>") else -1
            frames.add(tuple(open_tags))
        open_tags.append(position)

    def end(_name: str) -> None:
        nonlocal entry_depth
        open_tags.pop()
        if len(open_tags) == entry_depth:
            # expat is at the end tag's '<', or just past an empty element.
            position = parser.CurrentByteIndex + offset
            if position != entry_empty_end:
                tag = _TAG.match(body, position)
                assert tag is not None  # expat has just read it
                position = tag.end()
            spans.append((entry_start, position))
            entry_depth = -1

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.ordered_attributes = True  # a list is cheaper than a dict, and unused
    try:
        parser.Parse(body[offset:] if offset else body, True)
    except expat.ExpatError:
        return None
    if not spans:
        return None
    root = min(min(frame) for frame in frames)
    tags = sorted({position for frame in frames for position in frame})
    frame = b"\n".join([body[:root], *(_start_tag(body, position) for position in tags)])
    return EntrySpans(body, tuple(spans), frame)


def _start_tag(body: bytes, position: int) -> bytes:
    tag = _TAG.match(body, position)
    assert tag is not None
    return tag.group()
