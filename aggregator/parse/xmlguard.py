"""What XML bytes go through before feedparser sees them: DTDs out, entities bounded.

    prepare_xml(body, source) -> PreparedXml(body, root, notes)   or raises ParseError

feedparser hands well-formed documents to expat with their DOCTYPE (after its
own regular-expression rewrite, which is easy to get past) and then, when
expat fails, to a loose parser that expands the entities the DOCTYPE declared
without any bound: one 50 kB entity referenced 20,000 times is a gigabyte.  So
no DTD reaches feedparser at all.  This module reads the prolog itself and:

* refuses a document whose elements nest more than :data:`MAX_DEPTH` deep,
  counted on its tags as written, before anything builds a tree (feedparser
  keeps a stack entry per open element: a million levels in 7 MB took 26
  seconds and 750 MB);
* refuses what only an attack needs: external entities (``SYSTEM``/``PUBLIC``,
  the XXE family, ``file:///etc/passwd`` included), parameter entities,
  entities whose value refers to other entities (billion laughs), more than
  :data:`MAX_ENTITIES` declarations or values longer than
  :data:`MAX_ENTITY_CHARS`, and any use of them that would add more than
  :data:`MAX_EXPANSION` characters (quadratic blow-up);
* expands the small internal entities legitimate feeds declare
  (``<!ENTITY copy "&#169;">``) itself, outside CDATA sections and comments,
  and drops the DOCTYPE (an external DTD is never fetched or read);
* repairs what breaks expat in real feeds without changing what they say:
  whitespace or byte-order marks before the XML declaration, byte-order marks
  elsewhere in the prolog, control characters XML 1.0 forbids (as bytes or as
  character references), HTML named entities such as ``&nbsp;`` that no
  DTD declares (as numeric references), and an encoding declaration that
  names no text encoding (dropped: :mod:`.charsets`);
* cuts a text (or CDATA section) longer than :data:`MAX_TEXT_BYTES` there,
  at a space: feedparser holds about five times a text's size while it reads
  it, and no field keeps more than :data:`.normalize.MAX_HTML_CHARS` of it.
  The bytes counted are those of the text in UTF-8, whatever the document's
  encoding, so that a text is cut where it would be in a UTF-8 feed.

It reads the document in the encoding feedparser will decode it in whenever
that one writes markup otherwise than as ASCII bytes: UTF-16 and UTF-32 (by
byte-order mark or zero bytes), EBCDIC (``<?xm`` in EBCDIC, then the code
page its declaration names: cp037, cp500, cp1140...), UTF-7 (``+ADw-`` is a
'<') and the like, named by the ``Content-Type`` charset or the XML
declaration.  Read as Latin-1, their DOCTYPE is no DOCTYPE, and feedparser's
own rewrite of it was the only thing between them and expat.  Any other
document is read as Latin-1 (see :func:`prepare_xml`).

It does not judge whether the rest is well-formed: expat does that.  Bytes it
has nothing to change are handed on as they are.
"""

from __future__ import annotations

import functools
import re
import string
from dataclasses import dataclass
from html.entities import name2codepoint
from xml.parsers import expat

from ..errors import ParseError
from .charsets import text_codec

MAX_ENTITIES = 256  # declarations in one DOCTYPE
MAX_ENTITY_CHARS = 4096  # characters in one entity's value
MAX_EXPANSION = 1_000_000  # characters all entity references may add to the document
# Elements nested in one another.  Feeds nest a few levels, their XHTML
# content a few dozen; HTML nested deeper than this inside an entry is read
# as text by .normalize anyway.
MAX_DEPTH = 512
# Bytes of one text read, at most.  Twenty times what any field keeps
# (MAX_HTML_CHARS), so that what is kept is the same in any encoding and
# with character references: a text node of 10 MB, cut here, costs
# feedparser 10 MB instead of 50.
MAX_TEXT_BYTES = 2_000_000

_PREDEFINED = frozenset({"amp", "lt", "gt", "quot", "apos"})
_NAME = r"[A-Za-z_:][\w.:-]*"
_SPACE = re.compile(r"\s+")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_PI = re.compile(r"<\?.*?\?>", re.DOTALL)
_DOCTYPE_START = re.compile(r"<!DOCTYPE\s+(" + _NAME + ")", re.IGNORECASE)
_ROOT = re.compile(r"<(" + _NAME + ")")
_ENTITY_DECL = re.compile(
    r"<!ENTITY\s+(?P<percent>%\s+)?(?P<name>" + _NAME + r")\s+"
    r"(?:(?P<value>\"[^\"]*\"|'[^']*')|(?P<external>(?:SYSTEM|PUBLIC)\b[^>]*))\s*>",
    re.IGNORECASE,
)
# Other markup declarations: dropped with the DOCTYPE, so what they would
# have done (attribute defaults, say) never happens.
_OTHER_DECL = re.compile(r"<!(?:ELEMENT|ATTLIST|NOTATION)\b(?:[^>\"']|\"[^\"]*\"|'[^']*')*>")
_PE_REFERENCE = re.compile(r"%" + _NAME + ";")
_REFERENCE_IN_VALUE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+|" + _NAME + ");")
_EXTERNAL_ID = re.compile(r"(?:[^\[>\"']|\"[^\"]*\"|'[^']*')*")
# In the document: CDATA sections and comments are passed over whole; every
# other "&name;" or "&#n;" is looked at.
_DOCUMENT_MARK = re.compile(r"&|<!\[CDATA\[|<!--")
_REFERENCE = re.compile(r"&(" + _NAME + r"|#x[0-9A-Fa-f]+|#[0-9]+);")
_SECTION_END = {"<![CDATA[": "]]>", "<!--": "-->"}
# For the depth count, from a '<': an end tag, a section whose content is not
# markup (comment, CDATA, processing instruction, declaration), or a start
# tag read to its '>' (attribute values may hold '>' but never '<', so no
# attempt reads past the next '<').  A '<' that is none of these counts as a
# start tag: over-counting a document expat will refuse anyway is harmless.
_MARKUP = re.compile(r"""<(?:(/)|(!--|!\[CDATA\[|\?|!)|((?:[^<>"']++|"[^"<]*+"|'[^'<]*+')*+>)|)""")
_MARKUP_END = {"!--": "-->", "![CDATA[": "]]>", "?": "?>", "!": ">"}
# Where such a section starts, as _MARKUP reads it.
_SECTION_START = re.compile(r"<(!--|!\[CDATA\[|\?|!)")
# An '&' that does not start one of the five predefined entities.
_UNUSUAL_AMPERSAND = re.compile(r"&(?!(?:amp|lt|gt|quot|apos);)")
_CHAR_REFERENCE = re.compile(r"&(#x[0-9A-Fa-f]+|#[0-9]+);")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
_XML_DECL_ENCODING = re.compile(r"(<\?xml[^>]*?)(\s+encoding\s*=\s*)([\"'])([^\"']*)\3")
# Where feedparser reads a document's encoding: its first line, from a "<?"
# at the start to the last 'encoding="..."' on that line, in a text or an
# attribute as well as in the XML declaration.
_FEEDPARSER_ENCODING = re.compile(r"""<\?.*encoding=['"](.*?)['"].*\?>""")
_XML_DECLARATION_START = re.compile(r"<\?xml\s")
_UTF8_BOM = b"\xef\xbb\xbf"
_UTF8_BOM_LATIN1 = _UTF8_BOM.decode("latin-1")  # the UTF-8 byte-order mark, read as Latin-1
_WIDE_BOMS = (
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\xfe\xff", "utf-16-be"),
    (b"\xff\xfe", "utf-16-le"),
)
_WIDE_PREFIXES = (
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00<", "utf-16-be"),
    (b"<\x00", "utf-16-le"),
)
# "<?xm" in every EBCDIC code page: feedparser then reads the declaration
# in cp037 and decodes in the code page it names, or in cp037.
_EBCDIC_XML = b"\x4c\x6f\xa7\x94"
_EBCDIC_DEFAULT = "cp037"
# EBCDIC's space, tab, line feed, new line and carriage return.
_EBCDIC_SPACE = b"\x40\x05\x25\x15\x0d"
# Of a document's start, what is searched for its XML declaration.
_DECLARATION_BYTES = 1024
# What the guard looks for: a codec that reads these bytes as these ASCII
# characters (UTF-8, Latin-1, Shift_JIS...) lets it read the document as Latin-1.
_MARKUP_PROBE = (string.ascii_letters + string.digits + " \t\r\n<>!?[]%&;#\"'=/:._-").encode()


@dataclass(frozen=True, slots=True)
class PreparedXml:
    """The bytes for feedparser, the root element's name if seen, and what was repaired."""

    body: bytes
    root: str | None
    notes: tuple[str, ...] = ()


def prepare_xml(body: bytes, source: str, charset: str | None = None) -> PreparedXml:
    """Screen and repair an XML document's bytes; raise :class:`ParseError` to refuse it.

    ``charset`` is the ``Content-Type``'s, which feedparser tries first: it
    may name an encoding the document's own bytes do not announce.
    """
    codec = wide = _wide_codec(body)
    text = None
    if codec is not None:
        try:
            text = body.decode(codec).lstrip("\ufeff")
        except UnicodeDecodeError as exc:
            raise ParseError(source, f"not valid {codec.upper()}: {exc.reason}") from None
    else:
        codec, text = _other_markup(body, charset)
        if text is None and _undeclared_ebcdic(body):
            # No declaration to read its code page from: feedparser would
            # ask chardet, which may say cp500, and decode a DTD this module
            # never saw.  The XML spec requires the declaration (4.3.3).
            raise ParseError(
                source,
                "refused: an EBCDIC document without an XML declaration naming its code page",
            )
    if text is None:
        # Latin-1 maps every byte to one character and back, so the work below
        # is done on text without knowing the real (ASCII-compatible) encoding;
        # in UTF-8, Shift_JIS and the like, bytes below 0x40 are never part of
        # a multi-byte character.
        text = body.decode("latin-1")
        bom = _UTF8_BOM_LATIN1
    else:
        bom = "\ufeff"
    notes: list[str] = []
    repaired = _Repair(text, bom, notes)
    repaired.leading_junk()
    repaired.declaration()
    repaired.first_line()
    root = repaired.prolog(source)
    repaired.depth(source)
    repaired.references(source)
    repaired.control_characters()
    del text  # a copy of the document: let it go before the texts are bounded
    latin1 = bom == _UTF8_BOM_LATIN1
    # A document read in an encoding of its own (wide, EBCDIC, UTF-7) does
    # not write its markup as the ASCII bytes bound_texts looks for: its
    # texts are bounded as text, before it is encoded again.
    cut = 0 if latin1 else repaired.long_texts()
    if not repaired.changed:
        out = body
    elif latin1:
        out = repaired.text.encode("latin-1")
    elif wide is not None and (charset is None or text_codec(charset) == "utf-8"):
        # A wide document comes out as UTF-8, and its declaration says so.
        out = _XML_DECL_ENCODING.sub(r"\1\2\3utf-8\3", repaired.text, count=1).encode("utf-8")
    else:
        # In its own encoding: what told feedparser to decode it so (the
        # Content-Type, the declaration) still says the truth.  (feedparser
        # tries a Content-Type's charset first, before any declaration: a
        # wide document in UTF-8 would be decoded as UTF-16 and read as
        # garbage.)  What the repairs add is ASCII, written as a reference
        # where the codec has none; a wide document keeps its byte-order mark.
        assert codec is not None
        out = repaired.text.encode(codec, "xmlcharrefreplace")
        if wide is not None and body.startswith("\ufeff".encode(wide)):
            out = "\ufeff".encode(wide) + out
    del repaired
    if latin1:
        out, cut = bound_texts(out)
    if cut:
        notes.append(f"{cut} texts cut to {MAX_TEXT_BYTES} bytes")
    return PreparedXml(out, root, tuple(notes))


# A text longer than MAX_TEXT_BYTES, found fast: a '<' then that many bytes
# without one (attempts start at a '<' only, so the search is linear).
_LONG_RUN = re.compile(b"<[^<]{%d}" % MAX_TEXT_BYTES)
# Where a long text may be cut: before a space, which in every encoding read
# here (UTF-8 and the ASCII-compatible ones; the others are bounded in UTF-8,
# see _Repair.long_texts) is a character of its own, and is never inside a
# character reference.
_CUT_AT = re.compile(rb"[ \t\r\n]")
# A text that may be longer than MAX_TEXT_BYTES in UTF-8, found in a decoded
# document: a character takes four bytes at most.
_LONG_TEXT = re.compile(f"<[^<]{{{MAX_TEXT_BYTES // 4}}}")


def bound_texts(body: bytes) -> tuple[bytes, int]:
    """The document with each text longer than :data:`MAX_TEXT_BYTES` cut at
    the first space past that many bytes, and how many were cut.

    Texts are found by expat (reading bytes as Latin-1, so offsets are byte
    offsets): a text is the character data between two pieces of markup, or
    a CDATA section's, so a cut never touches markup.  A document expat
    refuses is returned as it is, for feedparser to say why.
    """
    if len(body) <= MAX_TEXT_BYTES or _LONG_RUN.search(body) is None:
        return body, 0
    offset = len(_UTF8_BOM) if body.startswith(_UTF8_BOM) else 0
    parser = expat.ParserCreate(encoding="iso-8859-1")
    cuts: list[tuple[int, int]] = []
    text_start = -1  # where the text being read starts; -1: none

    def data(_text: str) -> None:
        nonlocal text_start
        if text_start < 0:
            text_start = parser.CurrentByteIndex + offset

    def markup(*_args: object) -> None:
        nonlocal text_start
        if text_start < 0:
            return
        end = parser.CurrentByteIndex + offset
        if end - text_start > MAX_TEXT_BYTES:
            at = _CUT_AT.search(body, text_start + MAX_TEXT_BYTES, end)
            if at is not None:
                cuts.append((at.start(), end))
        text_start = -1

    parser.CharacterDataHandler = data
    parser.StartElementHandler = parser.EndElementHandler = markup
    parser.StartCdataSectionHandler = parser.EndCdataSectionHandler = markup
    parser.CommentHandler = parser.ProcessingInstructionHandler = markup
    parser.ordered_attributes = True  # a list is cheaper than a dict, and unused
    try:
        parser.Parse(body[offset:] if offset else body, True)
    except expat.ExpatError:
        return body, 0
    if not cuts:
        return body, 0
    pieces = []
    position = 0
    for start, end in cuts:
        pieces.append(body[position:start])
        position = end
    pieces.append(body[position:])
    return b"".join(pieces), len(cuts)


def _other_markup(body: bytes, charset: str | None) -> tuple[str | None, str | None]:
    """The codec feedparser decodes ``body`` in and the text it gives, when
    that codec does not read markup as ASCII bytes (EBCDIC, UTF-7); else
    (None, None), and the document is read as Latin-1.

    feedparser's order (its ``convert_to_utf8``): the ``Content-Type``'s
    charset, the declared encoding, the EBCDIC default, each taken when it
    decodes the document.  The declaration is read in cp037 after an EBCDIC
    "<?xm", else as ASCII.  Most documents name only ASCII-reading codecs,
    and are told so without decoding anything.
    """
    head = body[:_DECLARATION_BYTES]
    ebcdic = head.startswith(_EBCDIC_XML)
    if ebcdic:
        first = head.decode(_EBCDIC_DEFAULT)
    else:
        first = head.removeprefix(_UTF8_BOM).decode("latin-1")
    declared = _FEEDPARSER_ENCODING.match(first)
    labels = [charset, declared.group(1) if declared else None]
    if ebcdic:
        labels.append(_EBCDIC_DEFAULT)
    found = [codec for label in labels if label and (codec := text_codec(label)) is not None]
    if all(_reads_markup_as_ascii(codec) for codec in found):
        return None, None  # the usual case
    for codec in found:
        try:
            text = body.decode(codec)
        except UnicodeDecodeError:
            continue  # feedparser tries the next
        if _reads_markup_as_ascii(codec):
            return None, None
        return codec, text.lstrip("\ufeff")
    return None, None  # none decodes: feedparser falls back to UTF-8 or windows-1252


def _undeclared_ebcdic(body: bytes) -> bool:
    """Whether ``body`` starts as EBCDIC markup ('<' and then '!' or a
    letter, after EBCDIC white space) with no declaration: bytes that read
    as no XML in any ASCII-based encoding ("L", then "Z", "O" or a byte past
    ASCII).  '!' is 0x5A in some code pages (cp037), 0x4F in others (cp500)."""
    start = body.lstrip(_EBCDIC_SPACE)
    after = start[1:2]
    return start[:1] == b"\x4c" and (after in (b"\x5a", b"\x4f") or after.decode("cp037").isalpha())


@functools.lru_cache(maxsize=64)
def _reads_markup_as_ascii(codec: str) -> bool:
    """Whether ``codec`` reads the markup this module looks for as the ASCII
    bytes it looks at, and from no others.  UTF-7 reads ASCII as ASCII, but
    "+ADw-" as '<' too."""
    if codec == "utf-7":
        return False
    try:
        return _MARKUP_PROBE.decode(codec) == _MARKUP_PROBE.decode("ascii")
    except UnicodeDecodeError:
        return False


def _wide_codec(body: bytes) -> str | None:
    """UTF-16 or UTF-32, by byte-order mark or by the zero bytes around the first '<'."""
    for bom, codec in _WIDE_BOMS:
        if body.startswith(bom):
            return codec
    for prefix, codec in _WIDE_PREFIXES:
        if body.startswith(prefix):
            return codec
    return None


class _Repair:
    """The document as text, changed step by step; ``changed`` says whether any step did."""

    def __init__(self, text: str, bom: str, notes: list[str]):
        self.text = text
        self.bom = bom
        self.notes = notes
        self.changed = False
        self.entities: dict[str, str] = {}
        self.prolog_end = 0  # where the root element starts (0: not found)

    def leading_junk(self) -> None:
        """Whitespace and byte-order marks before the first '<' go (one BOM stays)."""
        text = self.text
        start = 0
        while start < len(text):
            if text[start].isspace():
                start += 1
            elif text.startswith(self.bom, start):
                start += len(self.bom)
            else:
                break
        if start == 0 or not text.startswith("<", start):
            return
        had_bom = self.bom in text[:start]
        keep = self.bom if had_bom and self.bom != "\ufeff" else ""
        if text[:start] != keep:
            self.text = keep + text[start:]
            self.changed = True
            self.notes.append("removed whitespace or byte-order marks before the XML declaration")

    def declaration(self) -> None:
        """An encoding declaration that names no text encoding (a stray byte in
        it, ``undefined``, ``rot13``) goes: feedparser trips on some of them,
        and none can decode the document anyway."""
        start = len(self.bom) if self.text.startswith(self.bom) else 0
        match = _XML_DECL_ENCODING.match(self.text, start)
        if match is None:
            return
        if text_codec(match.group(4)) is not None:
            return
        self.text = self.text[: match.end(1)] + self.text[match.end() :]
        self.changed = True
        self.notes.append("ignored an encoding declaration that names no known encoding")

    def first_line(self) -> None:
        """When feedparser would read an encoding that is no encoding on the
        first line (``<title>encoding="undefined" ?>`` after the declaration),
        a line break keeps it from reading anything but the declaration's own
        encoding, checked above: after the XML declaration, or before a first
        processing instruction that is not one (where whitespace may go)."""
        start = len(self.bom) if self.text.startswith(self.bom) else 0
        match = _FEEDPARSER_ENCODING.match(self.text, start)
        if match is None or text_codec(match.group(1)) is not None:
            return
        if _XML_DECLARATION_START.match(self.text, start):
            start = self.text.index("?>", start) + len("?>")
        self.text = self.text[:start] + "\n" + self.text[start:]
        self.changed = True

    def prolog(self, source: str) -> str | None:
        """Walk the prolog: drop the DOCTYPE (keeping its safe entities), find the root."""
        text = self.text
        position = len(self.bom) if text.startswith(self.bom) else 0
        pieces: list[str] = [text[:position]]
        while position < len(text):
            if text[position].isspace():
                match = _SPACE.match(text, position)
                assert match is not None
                pieces.append(match.group())
                position = match.end()
                continue
            if text.startswith(self.bom, position):
                position += len(self.bom)  # a byte-order mark in the wrong place
                self.changed = True
                self.notes.append("removed a byte-order mark inside the prolog")
                continue
            for pattern in (_PI, _COMMENT):
                match = pattern.match(text, position)
                if match is not None:
                    pieces.append(match.group())
                    position = match.end()
                    break
            else:
                doctype = _DOCTYPE_START.match(text, position)
                if doctype is not None:
                    position = self._doctype(source, doctype.end())
                    self.changed = True
                    continue
                if text.startswith("<!ENTITY", position):
                    raise ParseError(source, "refused: an entity declared outside a DOCTYPE")
                root = _ROOT.match(text, position)
                if self.changed:
                    head = "".join(pieces)
                    self.text = head + text[position:]
                    self.prolog_end = len(head)
                else:
                    self.prolog_end = position
                return root.group(1) if root is not None else None
        if self.changed:
            self.text = "".join(pieces)
        return None

    def _doctype(self, source: str, position: int) -> int:
        """Read a DOCTYPE from after its name; return where it ends."""
        text = self.text
        # The external ID (PUBLIC/SYSTEM and quoted literals): never fetched.
        external = _EXTERNAL_ID.match(text, position)
        assert external is not None  # it matches the empty string too
        position = external.end()
        if position >= len(text):
            raise ParseError(source, "not a well-formed feed: the DOCTYPE never ends")
        if text[position] == "[":
            position = self._internal_subset(source, position + 1)
        match = _SPACE.match(text, position)
        if match is not None:
            position = match.end()
        if not text.startswith(">", position):
            raise ParseError(source, "not a well-formed feed: malformed DOCTYPE")
        return position + 1

    def _internal_subset(self, source: str, position: int) -> int:
        """Read declarations up to the closing ']'; keep internal entities, refuse the rest."""
        text = self.text
        while True:
            match = _SPACE.match(text, position)
            if match is not None:
                position = match.end()
            if position >= len(text):
                raise ParseError(source, "not a well-formed feed: the DOCTYPE never ends")
            if text[position] == "]":
                return position + 1
            entity = _ENTITY_DECL.match(text, position)
            if entity is not None:
                self._entity(source, entity)
                position = entity.end()
                continue
            if text.startswith("<!ENTITY", position):
                raise ParseError(source, "refused: an entity declaration that cannot be read")
            if _PE_REFERENCE.match(text, position):
                raise ParseError(source, "refused: a parameter-entity reference in the DOCTYPE")
            for pattern in (_COMMENT, _PI, _OTHER_DECL):
                match = pattern.match(text, position)
                if match is not None:
                    position = match.end()
                    break
            else:
                raise ParseError(source, "not a well-formed feed: malformed DOCTYPE")

    def _entity(self, source: str, match: re.Match[str]) -> None:
        name = match.group("name")
        if match.group("percent"):
            raise ParseError(source, f"refused: parameter entity '{name}' in the DOCTYPE")
        if match.group("external"):
            raise ParseError(
                source, f"refused: external entity '{name}' ({match.group('external').strip()})"
            )
        value = match.group("value")[1:-1]
        if "%" in value:
            raise ParseError(source, f"refused: entity '{name}' refers to a parameter entity")
        for reference in _REFERENCE_IN_VALUE.finditer(value):
            referred = reference.group(1)
            if not referred.startswith("#") and referred not in _PREDEFINED:
                raise ParseError(
                    source, f"refused: entity '{name}' refers to entity '{referred}' (nested)"
                )
        if "&" in _REFERENCE_IN_VALUE.sub("", value):
            raise ParseError(source, f"not a well-formed feed: a bare '&' in entity '{name}'")
        if len(value) > MAX_ENTITY_CHARS:
            raise ParseError(
                source,
                f"refused: entity '{name}' is {len(value)} characters long "
                f"(the limit is {MAX_ENTITY_CHARS})",
            )
        if name in self.entities:
            return  # XML: the first declaration binds
        if len(self.entities) >= MAX_ENTITIES:
            raise ParseError(source, f"refused: more than {MAX_ENTITIES} entities declared")
        # Markup in a value would become elements where it is used; here it
        # is text.  Quotes are escaped so the value also works in attributes.
        self.entities[name] = (
            value.replace("<", "&lt;").replace('"', "&quot;").replace("'", "&apos;")
        )

    def depth(self, source: str) -> None:
        """Refuse elements nested more than :data:`MAX_DEPTH` deep; stop counting there.

        One pass over the tags after the prolog, skipping what is text to
        expat (an unclosed comment or CDATA section runs to the end).
        """
        text = self.text
        position = self.prolog_end
        if self._start_tags_at_most(position) <= MAX_DEPTH:
            return  # the case of most feeds, seen without a step per tag
        depth = 0
        search = _MARKUP.search
        while (mark := search(text, position)) is not None:
            position = mark.end()
            end_tag, section, start_tag = mark.groups()
            if end_tag:
                depth = max(0, depth - 1)
            elif section:
                end = text.find(_MARKUP_END[section], position)
                if end < 0:
                    return
                position = end + len(_MARKUP_END[section])
            elif start_tag is None or not start_tag.endswith("/>"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ParseError(source, f"refused: elements nested more than {MAX_DEPTH} deep")

    def _start_tags_at_most(self, position: int) -> int:
        """At most how many start tags :meth:`depth` counts from ``position``:
        the '<' not followed by '/' outside the sections it skips, found with
        a step per section (the HTML of a feed's CDATA sections), not per tag."""
        text = self.text
        starts = text.count("<", position) - text.count("</", position)
        if starts <= MAX_DEPTH:
            return starts
        while (section := _SECTION_START.search(text, position)) is not None:
            end = text.find(_MARKUP_END[section.group(1)], section.end())
            if end < 0:
                end = len(text)  # it runs to the end: depth stops counting there
            else:
                end += len(_MARKUP_END[section.group(1)])
            starts -= text.count("<", section.start(), end) - text.count("</", section.start(), end)
            position = end
        return starts

    def references(self, source: str) -> None:
        """Expand declared entities; HTML names and bad character references repaired.

        One pass, linear in the document: CDATA sections and comments are
        skipped whole (an unclosed one runs to the end, as expat reads it).
        """
        text = self.text
        if "&" not in text or (not self.entities and self._nothing_to_expand()):
            return
        added = 0
        counts = {"html": 0, "invalid": 0}
        out: list[str] = []
        copied = position = self.prolog_end
        while True:
            mark = _DOCUMENT_MARK.search(text, position)
            if mark is None:
                break
            if mark.group() != "&":
                end = text.find(_SECTION_END[mark.group()], mark.end())
                if end < 0:
                    break
                position = end + 3
                continue
            match = _REFERENCE.match(text, mark.start())
            position = mark.end()
            if match is None:
                continue  # a bare '&': expat says so
            position = match.end()
            reference = match.group(1)
            replacement = self._replacement(reference)
            if replacement is None:
                continue
            added += len(replacement) - len(match.group())
            if added > MAX_EXPANSION:
                raise ParseError(
                    source,
                    "refused: entity references would add more than "
                    f"{MAX_EXPANSION} characters to the document",
                )
            if reference.startswith("#"):
                counts["invalid"] += 1
            elif reference not in self.entities:
                counts["html"] += 1
            out.append(text[copied : match.start()])
            out.append(replacement)
            copied = match.end()
        if not out:
            return
        out.append(text[copied:])
        self.text = text[: self.prolog_end] + "".join(out)
        self.changed = True
        if counts["html"]:
            self.notes.append(f"read {counts['html']} undeclared HTML entities")
        if counts["invalid"]:
            self.notes.append(f"dropped {counts['invalid']} references to invalid characters")

    def _nothing_to_expand(self) -> bool:
        """Whether every '&' of the document starts a predefined entity or a
        valid character reference, which expat reads as they are: the case of
        most feeds (escaped HTML), seen with one search instead of a step of
        the loop below per reference.  Anything else, even inside a CDATA
        section, takes the loop."""
        text = self.text
        for ampersand in _UNUSUAL_AMPERSAND.finditer(text, self.prolog_end):
            reference = _CHAR_REFERENCE.match(text, ampersand.start())
            if reference is None or not _valid_char_reference(reference.group(1)):
                return False
        return True

    def _replacement(self, reference: str) -> str | None:
        """What a reference becomes, or None to leave it for expat."""
        if reference in _PREDEFINED:
            return None
        if reference.startswith("#"):
            return None if _valid_char_reference(reference) else ""
        value = self.entities.get(reference)
        if value is not None:
            return value
        codepoint = name2codepoint.get(reference)
        return f"&#{codepoint};" if codepoint is not None else None

    def long_texts(self) -> int:
        """Cut each text as :func:`bound_texts` cuts it in the same document
        in UTF-8; return how many were cut.

        For a document read in an encoding of its own, whose bytes
        :func:`bound_texts` cannot cut: EBCDIC writes '<' as 0x4C and UTF-7
        as "+ADw-", so it finds no text; in UTF-16 and UTF-32 it counts two or
        four bytes a character, and a space's byte may be half of another
        character (such a cut left a big-endian feed unreadable).  Counted in
        UTF-8, a text is cut where it is in a UTF-8 feed, and feedparser (which
        turns every document into UTF-8 before reading it) holds no more of it.
        """
        if _LONG_TEXT.search(self.text) is None:
            return 0  # most documents: no UTF-8 copy made
        data, cut = bound_texts(self.text.encode("utf-8", "surrogatepass"))
        if cut:
            self.text = data.decode("utf-8", "surrogatepass")
            self.changed = True
        return cut

    def control_characters(self) -> None:
        if self.bom == _UTF8_BOM_LATIN1:
            # Bytes read as Latin-1: whether any of them is such a character
            # is found several times faster by deleting them from the bytes.
            data = self.text.encode("latin-1")
            if len(data.translate(None, _CONTROL_BYTES)) == len(data):
                return
        text, count = _CONTROL.subn("", self.text)
        if count:
            self.text = text
            self.changed = True
            self.notes.append(f"removed {count} control characters")


def _valid_char_reference(reference: str) -> bool:
    """Whether '&#...;' names a character XML 1.0 allows."""
    try:
        code = int(reference[2:], 16) if reference[1:2] in "xX" else int(reference[1:])
    except ValueError:
        return False
    return (
        code in (0x9, 0xA, 0xD)
        or 0x20 <= code <= 0xD7FF
        or 0xE000 <= code <= 0xFFFD
        or 0x10000 <= code <= 0x10FFFF
    )
