"""The fast path: well-formed RSS 2.0, RSS 1.0 and Atom 1.0 read with lxml, as feedparser would.

    read_wellformed(body, headers, rules) -> a result shaped as feedparser's   or Declined(reason)

feedparser is the tolerant reader and stays the one that decides: this
reader only *claims* a document when it can give exactly what feedparser
would, the same strings under the keys :mod:`.feed` reads (keys nothing
reads, such as a title's ``title_detail``, are not made), and declines
everything else (:class:`Declined`), which :mod:`.feed` then hands to
feedparser.  One C parse builds the tree and a few Python steps per element
read it, where feedparser takes dozens per element and per run of text: on
the pipeline benchmark's 1,000 feeds, 3.6 s of CPU where feedparser takes
27.6 s (``benchmarks/parse.py``).

What it claims, deliberately narrow:

* bytes that feedparser decodes as UTF-8 (or as US-ASCII, when they are) with
  no complaint about the encoding or the content type, and that lxml reads
  without an error: no DOCTYPE, no entity but the five XML ones, no network,
  no tree deeper or text longer than libxml2's default limits;
* an ``<rss version="2.x">``, an Atom 1.0 ``<feed>`` or an RSS 1.0
  ``<rdf:RDF>``;
* elements from a vocabulary whose feedparser handlers are mirrored below,
  step by step, quirks included (a guid that stands in for a missing link, an
  Atom id that does too, a second summary that becomes content, categories
  whose text fills the previous one's term, the "mojibake" repair and the
  cp1252 mapping of every text it keeps).  Elements feedparser has no handler
  for are passed over, as feedparser keeps them only under keys that nothing
  reads.

It declines, among others: ``xml:base`` (or any ``base`` attribute),
XHTML or base64 content, markup inside a text element, an element that
feedparser handles and this reader does not mirror (GeoRSS, an Atom
``<source>``, Dublin Core titles, an image inside an entry), an Atom author
with parts after another author (feedparser may lend it the previous one's
email), and elements whose name feedparser would derive otherwise than this
reader can be sure of (a namespace bound to several prefixes, a prefix to
several namespaces).

Everything feedparser-specific that both must share (its namespace table,
the names it has handlers for, its date parser, URL joining, HTML sniffing,
the cp1252 table) is passed in by :mod:`.feed` as :class:`FallbackRules`,
so this module imports no feedparser and cannot drift from the version
installed.  lxml is read through :mod:`aggregator.lxml_tree`, which alone
imports it (and parses with no network, no DTD, no entity expanded).
"""

from __future__ import annotations

import codecs
import contextlib
import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..lxml_tree import XMLSyntaxError, child_elements, local_name, parse_xml
from .charsets import text_codec

__all__ = ["Declined", "FallbackRules", "read_wellformed"]


@dataclass(frozen=True, slots=True)
class FallbackRules:
    """What feedparser does that this reader must do alike."""

    namespaces: Mapping[str, str]  # lower-cased namespace -> feedparser's prefix for it
    handled: frozenset[str]  # element names feedparser has a handler for ("dc_creator")
    parse_date: Callable[[str], Any]  # a date's text -> a UTC struct_time, or None
    urljoin: Callable[[str, str], str]  # feedparser's URL join, used for relative links
    safe_absolute_uri: Callable[[str, str], str]  # how it keeps its base URI
    looks_like_html: Callable[[str], bool]  # whether "plain text" is HTML after all
    cp1252: Mapping[int, str]  # the C1 code points it maps to cp1252's characters
    relative_uris: frozenset[str]  # elements whose text it resolves against the base


@dataclass(frozen=True, slots=True)
class Declined:
    """This reader cannot promise feedparser's result: feedparser must read the document."""

    reason: str


class _Decline(Exception):
    pass


# The keys of feedparser's results that .feed reads; an element feedparser
# keeps under one of these without a handler would change them.
_ENTRY_KEYS = frozenset(
    {
        "id", "title", "link", "links", "published_parsed", "updated_parsed", "content",
        "summary", "summary_detail", "author", "authors", "author_detail", "tags",
        "enclosures", "media_content", "media_thumbnail", "image", "guidislink",
    }
)  # fmt: skip
_FEED_KEYS = frozenset({"title", "link", "links", "language"})
# FeedParserDict's aliases: a key stored under one of these lands on another.
_KEYMAP = {
    "channel": "feed", "items": "entries", "guid": "id", "date": "updated",
    "date_parsed": "updated_parsed", "description": "summary",
    "description_detail": "summary_detail", "url": "href", "modified": "updated",
    "modified_parsed": "updated_parsed", "issued": "published",
    "issued_parsed": "published_parsed", "copyright": "rights",
    "copyright_detail": "rights_detail", "tagline": "subtitle",
    "tagline_detail": "subtitle_detail",
}  # fmt: skip
# Feed-level values kept from elements feedparser has no handler for.
_HINTS = frozenset({"ttl", "sy_updateperiod", "sy_updatefrequency"})

_PUBLISHED = frozenset({"published", "pubdate", "issued", "dcterms_issued"})
_UPDATED = frozenset({"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"})
_AUTHORS = frozenset({"author", "dc_author", "dc_creator", "itunes_author", "managingeditor"})
_CATEGORIES = frozenset({"category", "dc_subject", "keywords", "media_category"})
_SUMMARIES = frozenset(
    {"description", "dc_description", "summary", "itunes_summary", "media_description"}
)
_AUTHOR_PARTS = frozenset({"name", "email", "uri", "url", "homepage"})
# Handlers that keep only what nothing here reads, and change no state that
# matters to what is read: passed over, if they hold no elements.
_HARMLESS = frozenset(
    {
        "subtitle", "tagline", "itunes_subtitle", "rights", "copyright", "dc_rights",
        "info", "feedburner_browserfriendly", "generator", "cloud", "created",
        "dcterms_created", "expirationdate", "webmaster", "dc_publisher", "dc_contributor",
        "itunes_explicit", "itunes_block", "media_credit", "media_rating",
        "media_restriction", "media_license", "media_player", "newlocation",
        "name", "email", "uri", "url", "homepage", "width", "height",
    }
)  # fmt: skip
# Feed-level containers and the elements each may hold (title_depth and the
# "context" feedparser stores into are why the others are declined).
_FEED_CONTAINERS = {
    "image": frozenset({"title", "link", "url", "width", "height", "description"}),
    "textinput": frozenset({"title", "link", "description", "name"}),
    "contributor": _AUTHOR_PARTS,
    "itunes_owner": frozenset({"itunes_name", "itunes_email", "name", "email"}),
    "author": _AUTHOR_PARTS,
}
_TEXT_TYPES = frozenset({"text/plain", "text/html", "application/xhtml+xml"})
_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
_XML_NAMESPACE = "http://www.w3.org/XML/1998/namespace"
_ATOM = "http://www.w3.org/2005/atom"
_RSS10 = "http://purl.org/rss/1.0/"
_RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
_QUERY_REFERENCE = re.compile("&([A-Za-z0-9_]+);")
# An xmlns declaration as written: its prefix (None: the default) and namespace.
# (A literal start lets the search skip ahead fast; what precedes is not checked.)
_DECLARATION = re.compile(rb"""xmlns(?::([^\s=/>]+))?\s*=\s*(?:"([^"]*)"|'([^']*)')""")
_XML_PI_ENCODING = re.compile(rb"""^<\?.*encoding=['"](.*?)['"].*\?>""")
_APPLICATION_XML = (
    "application/xml",
    "application/xml-dtd",
    "application/xml-external-parsed-entity",
)
_TEXT_XML = ("text/xml", "text/xml-external-parsed-entity")


def read_wellformed(
    body: bytes, headers: Mapping[str, str], rules: FallbackRules
) -> dict[str, Any] | Declined:
    """feedparser's result for ``body``, or :class:`Declined` (see the module's doc).

    ``headers`` as feedparser is given them: lower-case names, with
    ``content-location`` the document's address.
    """
    encoding = _encoding(body, headers)
    if encoding is None:
        return Declined("an encoding or content type feedparser may read otherwise")
    try:
        root = parse_xml(body)
    except XMLSyntaxError as exc:
        return Declined(f"not well-formed to lxml: {exc}")
    if root.getroottree().docinfo.internalDTD is not None:
        return Declined("a DOCTYPE")
    try:
        declarations = _declarations(body)
        reader = _Reader(rules, declarations, headers)
        return reader.read(root, encoding)
    except _Decline as exc:
        return Declined(str(exc))


def _encoding(body: bytes, headers: Mapping[str, str]) -> str | None:
    """The encoding feedparser reports for ``body``, when it decodes it, as
    lxml will, as UTF-8 (or ASCII) without complaint; else None.

    feedparser's own steps (its ``convert_to_utf8``), for the cases claimed.
    """
    data = body[3:] if body.startswith(codecs.BOM_UTF8) else body
    if data[:2] in (b"\xfe\xff", b"\xff\xfe") or b"\x00" in data[:4] or data[:1] == b"\x4c":
        return None  # UTF-16, UTF-32, EBCDIC
    match = _XML_PI_ENCODING.match(data)
    try:
        declared = match.group(1).decode("utf-8").lower() if match else ""
    except UnicodeDecodeError:
        return None
    content_type = headers.get("content-type") or ""
    media_type, _, parameters = content_type.partition(";")
    media_type = media_type.strip()
    charset = ""
    for chunk in parameters.split(";") if parameters else ():
        key, _, value = chunk.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip("\"'")
    if media_type in _APPLICATION_XML or (
        media_type.startswith("application/") and media_type.endswith("+xml")
    ):
        encoding = charset or declared or "utf-8"
    elif media_type in _TEXT_XML or (
        media_type.startswith("text/") and media_type.endswith("+xml")
    ):
        encoding = charset or "us-ascii"
    else:
        return None  # feedparser warns that it is no XML media type
    # Names a server wrote: looked up only if they name a text codec (.charsets).
    codec = text_codec(encoding)
    if declared and text_codec(declared) not in ("utf-8", "ascii"):
        return None  # lxml would decode it as declared, feedparser as the header says
    if codec == "ascii":
        return encoding if data.isascii() else None
    if codec != "utf-8":
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return None  # feedparser would try other encodings
    return encoding


def _declarations(body: bytes) -> dict[str, set[str | None]]:
    """Every xmlns declaration as written, namespace -> its prefixes (None: the
    default namespace).  Found in the bytes: one read in a text is harmless, as
    it can only make this reader decline more."""
    prefixes: dict[str, set[str | None]] = {}
    for match in _DECLARATION.finditer(body):
        raw = match.group(2) if match.group(2) is not None else match.group(3)
        if b"&" in raw:
            raise _Decline("a namespace written with a reference")
        try:
            prefix = match.group(1).decode("utf-8") if match.group(1) else None
            namespace = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise _Decline("a namespace declaration that is not UTF-8") from None
        prefixes.setdefault(namespace, set()).add(prefix)
    return prefixes


class _Reader:
    """One document, read in document order with the state feedparser keeps."""

    def __init__(
        self,
        rules: FallbackRules,
        declarations: dict[str, set[str | None]],
        headers: Mapping[str, str],
    ):
        self.rules = rules
        self.known = rules.namespaces
        self.declarations = declarations
        self.feed: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.version = ""
        self.title_depth = -1
        self.has_content = False
        self.infeed = False
        self.feed_summary = False  # whether feedparser's feed has a "summary"
        self.guid_is_link = False
        self.depths: dict[str, int] = {}  # feedparser's property_depth_map, for the entry read
        self.base = self._base(headers.get("content-location", ""))
        language = headers.get("content-language")
        self.base_language = language or None
        if language:
            self.feed["language"] = language.replace("_", "-")
        # document prefix -> the prefixes feedparser may map it to
        self.canonical: dict[str, set[str]] = {}
        for namespace, prefixes in declarations.items():
            canonical = self._known(namespace)
            if canonical is None:
                continue
            for prefix in prefixes:
                if prefix is not None:
                    self.canonical.setdefault(prefix, set()).add(canonical)
        self.names: dict[str, str] = {}  # lxml tag -> feedparser's name, once checked
        self.cp1252_characters = _characters(frozenset(rules.cp1252))
        self.cp1252_leads = _lead_bytes(frozenset(rules.cp1252))

    def _base(self, location: str) -> str:
        """The base URI feedparser resolves against: it re-derives it at every
        element, so it must be a fixed point of that step."""
        safe = self.rules.safe_absolute_uri
        base = location
        for _ in range(3):
            if not base:
                return ""
            following = safe(base, base) or base
            if following == base:
                return base
            base = following
        raise _Decline("a document address feedparser would keep changing")

    def _known(self, namespace: str) -> str | None:
        lower = namespace.lower()
        if "backend.userland.com/rss" in lower:
            return ""
        return self.known.get(lower)

    # -- names ----------------------------------------------------------------

    def name(self, element: Any) -> str:
        """The name feedparser dispatches ``element`` by ("dc_creator", "title")."""
        tag = element.tag
        name = self.names.get(tag)
        if name is None:
            name = self._name(element)
            self.names[tag] = name
        return name

    def _name(self, element: Any) -> str:
        tag: str = element.tag
        namespace, _, local = tag[1:].rpartition("}") if tag[0] == "{" else ("", "", tag)
        local = local.lower()
        if not namespace:
            return local
        canonical = self._known(namespace)
        if canonical is not None:
            prefixes = {canonical.lower()}
        else:
            # feedparser names it by the first prefix the document bound to
            # its namespace, anywhere: every prefix bound to it must give the
            # same handler, or none.
            bound = self.declarations.get(namespace, set()) | {element.prefix}
            prefixes = {(prefix or "").lower() for prefix in bound}
        names = set()
        for prefix in prefixes:
            for mapped in self.canonical.get(prefix, set()) | {prefix}:
                names.add(f"{mapped}_{local}" if mapped else local)
        if len(names) == 1:
            return names.pop()
        if any(self._matters(name) for name in names):
            raise _Decline(f"element {element.tag!r} could be named {sorted(names)} by feedparser")
        return min(names)

    def _matters(self, name: str) -> bool:
        key = _KEYMAP.get(name, name)
        return (
            name in self.rules.handled or key in _ENTRY_KEYS or key in _FEED_KEYS or name in _HINTS
        )

    def attributes(self, element: Any) -> dict[str, str]:
        """The attributes as feedparser's handlers get them."""
        items = element.items()
        if not items:
            return {}
        attributes: dict[str, str] = {}
        locals_: dict[str, str] = {}
        for key, value in items:
            if key[0] == "{":
                namespace, _, local = key[1:].partition("}")
                prefix = self._known(namespace) or ""
                name = f"{prefix}:{local}" if prefix else local
            else:
                local = name = key
            attributes[name.lower()] = value
            locals_[local.lower()] = value
        # feedparser adds each attribute again under its local name
        attributes.update(locals_)
        if len(locals_) != len(items):
            raise _Decline("two attributes of one local name")
        if "base" in attributes:
            raise _Decline("xml:base")
        for key in ("rel", "type"):
            if key in attributes:
                attributes[key] = attributes[key].lower()
        return attributes

    def language(self, attributes: dict[str, str], parent: str | None) -> str | None:
        language = attributes.get("xml:lang", attributes.get("lang"))
        if language == "":
            return None
        return parent if language is None else language

    # -- text -----------------------------------------------------------------

    def text(self, element: Any) -> str:
        """An element's text, which must hold no markup."""
        if len(element):
            raise _Decline(f"markup inside <{local_name(element)}>")
        return element.text or ""

    def popped(self, element: Any, name: str) -> str:
        """What feedparser's ``pop`` makes of a text element's text."""
        output = self.text(element).strip()
        if output and name in self.rules.relative_uris:
            output = self.rules.urljoin(self.base, output)
        return output if output.isascii() else self.repaired(output)

    def repaired(self, text: str) -> str:
        """feedparser's repair of UTF-8 read as Latin-1, then its cp1252 mapping
        (a str.translate that costs a dictionary look-up per character, so
        done only when there is one of those characters)."""
        with contextlib.suppress(UnicodeEncodeError, UnicodeDecodeError):
            text = text.encode("iso-8859-1").decode("utf-8")
        leads = self.cp1252_leads
        if leads is not None:
            # None of them in the UTF-8, where looking is faster: none in the text.
            data = text.encode("utf-8", "surrogatepass")
            if not any(lead in data for lead in leads):
                return text
        if self.cp1252_characters.search(text):
            text = text.translate(self.rules.cp1252)
        return text

    def content_params(
        self, attributes: dict[str, str], default: str, language: str | None
    ) -> dict[str, Any]:
        if "mode" in attributes:
            raise _Decline("a content mode")
        content_type = _map_content_type(attributes.get("type", default))
        if not content_type.startswith("text/"):
            raise _Decline(f"content of type {content_type!r}")
        return {
            "type": content_type,
            "language": language.replace("_", "-") if language else language,
            "base": self.base,
        }

    def content_value(self, element: Any, name: str, params: dict[str, Any]) -> str:
        value = self.popped(element, name)
        if (
            params["type"] == "text/plain"
            and not self.version.startswith("atom")
            and self.rules.looks_like_html(value)
        ):
            params["type"] = "text/html"
        return value

    # -- the document ---------------------------------------------------------

    def read(self, root: Any, encoding: str) -> dict[str, Any]:
        name = self.name(root)
        attributes = self.attributes(root)
        language = self.language(attributes, self.base_language)
        # feedparser takes a version from the first namespace it sees that
        # names one, before the root's handler: from the root's own
        # declarations, which must not name two.
        versions = [_version_of(prefix, uri) for prefix, uri in root.nsmap.items()]
        versions = [version for version in versions if version]
        if len(versions) > 1:
            raise _Decline("a root that declares the namespaces of two versions")
        self.version = versions[0] if versions else ""
        if name == "rss":
            if not self.version.startswith("rss"):
                version = attributes.get("version", "")
                self.version = "rss20" if version.startswith("2.") else "rss"
        elif name == "feed":
            self.infeed = True
            if not self.version:
                self.version = "atom"
        elif name != "rdf_rdf":
            raise _Decline(f"a root element <{name}>")
        if self.version not in ("rss20", "atom10", "rss10"):
            raise _Decline(f"version {self.version!r}")
        if language and name in ("feed", "rss"):
            self.feed["language"] = language.replace("_", "-")
        if name == "feed":
            self.feed_children(root, 1, language)
        else:
            self.top_children(root, 1, language)
        for entry in self.entries:
            links = entry.get("links")
            if links is not None:
                entry["enclosures"] = [
                    {key: value for key, value in link.items() if key != "rel"}
                    for link in links
                    if link["rel"] == "enclosure"
                ]
        return {
            "bozo": False,
            "entries": self.entries,
            "feed": self.feed,
            "version": self.version,
            "encoding": encoding,
        }

    def children(self, element: Any) -> Any:
        # Elements only: feedparser passes over comments and processing
        # instructions (lxml filters them out in C).
        return child_elements(element)

    def top_children(self, element: Any, depth: int, language: str | None) -> None:
        """The children of <rss> or <rdf:RDF>: the channel, and items outside it."""
        for child in self.children(element):
            name = self.name(child)
            attributes = self.attributes(child)
            child_language = self.language(attributes, language)
            if name == "channel":
                if "lastmod" in attributes or "href" in attributes:
                    raise _Decline("a CDF channel")
                self.infeed = True
                self.feed_children(child, depth + 1, child_language)
                self.infeed = False
            else:
                self.feed_element(child, name, attributes, depth + 1, child_language)

    def feed_children(self, element: Any, depth: int, language: str | None) -> None:
        for child in self.children(element):
            name = self.name(child)
            attributes = self.attributes(child)
            self.feed_element(
                child, name, attributes, depth + 1, self.language(attributes, language)
            )

    def feed_element(
        self, element: Any, name: str, attributes: dict[str, str], depth: int, language: str | None
    ) -> None:
        """An element outside any entry (the channel's or the feed's, or beside them)."""
        feed = self.feed if self.infeed else None  # where feedparser stores, if anywhere
        if name in ("item", "entry"):
            self.entry(element, attributes, depth, language)
        elif name == "title":
            self.content_params(attributes, "text/plain", language)
            value = self.popped(element, name)
            stored = not (-1 < self.title_depth <= depth)
            if feed is not None and stored:
                feed["title"] = value
            if value:
                self.title_depth = depth
        elif name == "link":
            self.link(element, attributes, self.feed, store=self.infeed, entry=False)
        elif name in ("id", "guid"):
            self.guid(element, attributes, self.feed, store=self.infeed)
        elif name in ("language", "dc_language"):
            value = self.popped(element, "language")
            if feed is not None:
                feed["language"] = value
        elif name in ("description", "dc_description", "summary", "itunes_summary"):
            # feedparser's _start_description and _start_summary: a second
            # one, before any content, is read as content.
            self.text(element)
            if self.feed_summary and not self.has_content:
                self.has_content = True
            elif name in ("summary", "itunes_summary") and self.infeed:
                self.feed_summary = True
        elif name in ("content", "content_encoded"):
            self.text(element)
            self.has_content = True
            default = "text/html" if name == "content_encoded" else "text/plain"
            if _map_content_type(attributes.get("type", default)) in _TEXT_TYPES:
                self.feed_summary = True  # its _end_content saves one, in or out of the feed
        elif name in _FEED_CONTAINERS:
            if name in ("image", "textinput"):
                self.title_depth = -1
            for child in self.children(element):
                child_name = self.name(child)
                if child_name not in _FEED_CONTAINERS[name]:
                    if child_name in self.rules.handled:
                        raise _Decline(f"<{child_name}> in <{name}>")
                    self.unknown(child)
                    continue
                child_attributes = self.attributes(child)
                if child_name == "title":
                    self.content_params(child_attributes, "text/plain", language)
                    if self.popped(child, "title"):
                        self.title_depth = depth + 1
                else:
                    self.text(child)
        elif name in _HINTS:
            if attributes:
                raise _Decline(f"<{name}> with attributes")
            value = self.popped(element, name)
            if feed is not None:
                feed[name] = value
        elif name in _HARMLESS or name in _UPDATED or name in _PUBLISHED or name in _AUTHORS:
            if name in _AUTHORS and len(element):
                self._feed_author(element)
            else:
                self.text(element)
        elif name in _CATEGORIES or name in ("itunes_category", "itunes_image", "itunes_keywords"):
            for child in self.children(element):
                if self.name(child) != "itunes_category" or name != "itunes_category":
                    raise _Decline(f"markup inside <{name}>")
                self._nested_itunes_category(child)
        elif name in self.rules.handled:
            raise _Decline(f"<{name}> outside an entry")
        else:
            self.unknown(element)

    def _feed_author(self, element: Any) -> None:
        for child in self.children(element):
            if self.name(child) not in _AUTHOR_PARTS:
                raise _Decline("an author with other parts than name, email and uri")
            self.text(child)

    def _nested_itunes_category(self, element: Any) -> None:
        for child in self.children(element):
            if self.name(child) != "itunes_category":
                raise _Decline("markup inside <itunes_category>")
            self._nested_itunes_category(child)

    def unknown(self, element: Any) -> None:
        """An element feedparser has no handler for: kept under a key nothing reads,
        so passed over, with everything in it (which must be the same)."""
        name = self.name(element)
        key = _KEYMAP.get(name, name)
        if name in self.rules.handled or key in _ENTRY_KEYS or key in _FEED_KEYS or name in _HINTS:
            raise _Decline(f"<{name}> where it would change what is read")
        self.attributes(element)  # for the xml:base check
        for child in self.children(element):
            self.unknown(child)

    # -- entries --------------------------------------------------------------

    def entry(
        self, element: Any, attributes: dict[str, str], depth: int, language: str | None
    ) -> None:
        if "lastmod" in attributes or "href" in attributes:
            raise _Decline("a CDF item")
        entry: dict[str, Any] = {}
        self.entries.append(entry)
        self.depths = {}
        self.title_depth = -1
        self.guid_is_link = False
        about = attributes.get(self._standard_prefix("rdf") + ":about")
        if about:
            entry["id"] = about
        for child in self.children(element):
            name = self.name(child)
            child_attributes = self.attributes(child)
            self.entry_element(
                entry,
                child,
                name,
                child_attributes,
                depth + 1,
                self.language(child_attributes, language),
            )
        self.has_content = False

    def _standard_prefix(self, prefix: str) -> str:
        mapped = self.canonical.get(prefix)
        if mapped and mapped != {prefix}:
            raise _Decline(f"prefix {prefix!r} bound to another known namespace")
        return prefix

    def entry_element(
        self,
        entry: dict[str, Any],
        element: Any,
        name: str,
        attributes: dict[str, str],
        depth: int,
        language: str | None,
        grouped: bool = False,
    ) -> None:
        if name in ("title", "media_title"):
            self.content_params(attributes, "text/plain", language)  # declines what it must
            # (its title_detail is not kept: nothing reads it, and its type
            # would cost a guess at whether the title is HTML)
            value = self.popped(element, "title")
            if not (-1 < self.title_depth <= depth):
                self.store(entry, "title", value, depth)
            if value and name == "title":  # _end_media_title keeps title_depth as it was
                self.title_depth = depth
        elif name == "link" and not grouped:
            self.link(element, attributes, entry, store=True, entry=True)
        elif name in ("id", "guid") and not grouped:
            self.guid(element, attributes, entry, store=True)
        elif (name in _PUBLISHED or name in _UPDATED) and not grouped:
            key = "published" if name in _PUBLISHED else "updated"
            value = self.popped(element, key)
            entry[key] = value
            entry[key + "_parsed"] = self.rules.parse_date(value)
        elif name in _SUMMARIES:
            if "summary" in entry and not self.has_content:
                self.content(entry, element, attributes, "text/plain", language)
            else:
                default = "text/html" if "description" in name else "text/plain"
                params = self.content_params(attributes, default, language)
                value = self.content_value(element, "summary", params)
                self.store(entry, "summary", value, depth)
                entry["summary_detail"] = {**params, "value": value}
        elif name == "content" and not grouped:
            self.content(entry, element, attributes, "text/plain", language)
        elif name == "content_encoded" and not grouped:
            self.content(entry, element, attributes, "text/html", language, src=False)
        elif name in _AUTHORS and not grouped:
            self.author(entry, element)
        elif name in _CATEGORIES or name == "itunes_category":
            if name == "media_category":
                attributes.setdefault("scheme", "http://search.yahoo.com/mrss/category_schema")
            if name == "itunes_category":
                self.add_tag(entry, attributes.get("text"), "http://www.itunes.com/", None)
            else:
                scheme = attributes.get("scheme", attributes.get("domain"))
                self.add_tag(entry, attributes.get("term"), scheme, attributes.get("label"))
            value = self.popped(element, "category")
            if value:
                tags = entry["tags"]
                if tags and not tags[-1]["term"]:
                    tags[-1]["term"] = value
                else:
                    self.add_tag(entry, value, None, None)
        elif name in ("itunes_keywords", "media_keywords", "tags"):
            if attributes:
                raise _Decline(f"<{name}> with attributes")
            scheme = "http://www.itunes.com/" if name == "itunes_keywords" else None
            for term in self.popped(element, name).split(","):
                if term.strip() or name == "tags":
                    self.add_tag(entry, term.strip(), scheme, None)
        elif name == "enclosure":
            self.text_free(element)
            attributes = _enforce_href(attributes)
            attributes["rel"] = "enclosure"
            entry.setdefault("links", []).append(attributes)
        elif name == "media_content":
            self.text_free(element)
            entry.setdefault("media_content", []).append(attributes)
        elif name == "media_thumbnail":
            entry.setdefault("media_thumbnail", [])
            entry["media_thumbnail"].append(attributes)
            url = self.popped(element, "url")
            if url.strip() and "url" not in attributes:
                attributes["url"] = url
        elif name in ("itunes_image", "itunes_link") and not grouped:
            self.text(element)
            href = attributes.get("href") or attributes.get("url")
            if href:
                entry["image"] = {"href": href}
        elif name == "media_group" and not grouped:
            for child in self.children(element):
                child_attributes = self.attributes(child)
                self.entry_element(
                    entry,
                    child,
                    self.name(child),
                    child_attributes,
                    depth + 1,
                    self.language(child_attributes, language),
                    grouped=True,
                )
        elif name == "source" and not grouped:
            self.text(element)
            self.title_depth = -1
        elif name == "contributor" and not grouped:
            self._feed_author(element)
        elif name in _HARMLESS or name in ("language", "dc_language"):
            self.text(element)
        elif name in self.rules.handled:
            raise _Decline(f"<{name}> in an entry")
        else:
            self.unknown(element)

    def store(self, entry: dict[str, Any], key: str, value: str, depth: int) -> None:
        """feedparser's pop, storing into an entry: a value read deeper (in a
        Media RSS group, say) does not replace one read nearer the entry."""
        stored = self.depths.get(key)
        if stored is None or depth <= stored:
            self.depths[key] = depth
            entry[key] = value

    def text_free(self, element: Any) -> None:
        if len(element):
            raise _Decline(f"markup inside <{local_name(element)}>")

    def content(
        self,
        entry: dict[str, Any],
        element: Any,
        attributes: dict[str, str],
        default: str,
        language: str | None,
        src: bool = True,
    ) -> None:
        """feedparser's _start_content (or _start_content_encoded) and _end_content."""
        self.has_content = True
        params = self.content_params(attributes, default, language)
        if src and attributes.get("src"):
            params["src"] = attributes["src"]
        copy_to_summary = params["type"] in _TEXT_TYPES
        value = self.content_value(element, "content", params)
        entry.setdefault("content", []).append({**params, "value": value})
        if copy_to_summary:
            entry.setdefault("summary", value)

    def link(
        self,
        element: Any,
        attributes: dict[str, str],
        context: dict[str, Any],
        *,
        store: bool,
        entry: bool,
    ) -> None:
        """feedparser's _start_link and _end_link: ``context`` is where it
        keeps the link's attributes, ``store`` whether it keeps its text
        there (not outside the channel)."""
        attributes.setdefault("rel", "alternate")
        if attributes["rel"] == "self":
            attributes.setdefault("type", "application/atom+xml")
        else:
            attributes.setdefault("type", "text/html")
        attributes = _enforce_href(attributes)
        if "href" in attributes:
            attributes["href"] = self.rules.urljoin(self.base, attributes["href"])
            self.text_free(element)
        context.setdefault("links", []).append(attributes)
        if "href" in attributes:
            if (
                attributes.get("rel") == "alternate"
                and _map_content_type(attributes.get("type", "")) in _HTML_TYPES
            ):
                context["link"] = attributes["href"]
            return
        output = self.popped(element, "link")
        if not store:
            return
        if entry:
            output = output.replace("&amp;", "&")
        output = _QUERY_REFERENCE.sub(r"&\g<1>", output)
        context["link"] = output
        if output or not entry:
            context["links"][-1]["href"] = output

    def guid(
        self, element: Any, attributes: dict[str, str], context: dict[str, Any], *, store: bool
    ) -> None:
        """feedparser's _start_guid and _end_guid (an Atom id is one too):
        ``store`` says whether it keeps the id in ``context``, where it keeps
        whether the guid is the link, and the link, anyway."""
        self.guid_is_link = attributes.get("ispermalink", "true") == "true"
        value = self.text(element).strip()
        if value and self.guid_is_link:
            value = self.rules.urljoin(self.base, value)
        if not value.isascii():
            value = self.repaired(value)
        if store:
            context["id"] = value
        context.setdefault("guidislink", self.guid_is_link and "link" not in context)
        if self.guid_is_link:
            context.setdefault("link", value)

    def author(self, entry: dict[str, Any], element: Any) -> None:
        """feedparser's _start_author, its parts, and _end_author."""
        detail: dict[str, str] = {}
        entry.setdefault("authors", []).append(detail)
        if len(element):
            if entry.get("author"):
                # Each part saved re-reads the author string so far, and may
                # take the previous author's email for this one's.
                raise _Decline("an author with parts after another author")
            for child in self.children(element):
                part = self.name(child)
                if part not in _AUTHOR_PARTS:
                    raise _Decline("an author with other parts than name, email and uri")
                if part in ("name", "email"):
                    detail[part] = self.text(child).strip()
                else:
                    detail["href"] = self.popped(child, "href")
            if (element.text or "").strip() or any((child.tail or "").strip() for child in element):
                raise _Decline("text beside an author's parts")
            output = ""
        else:
            output = self.popped(element, "author")
        entry["author"] = output
        name, email = detail.get("name"), detail.get("email")
        if name and email:
            entry["author"] = f"{name} ({email})"
        elif name:
            entry["author"] = name
        elif email:
            entry["author"] = email

    def add_tag(self, context: dict[str, Any], term: Any, scheme: Any, label: Any) -> None:
        tags = context.setdefault("tags", [])
        if not term and not scheme and not label:
            return
        value = {"term": term, "scheme": scheme, "label": label}
        if value not in tags:
            tags.append(value)


@functools.lru_cache(maxsize=4)
def _characters(code_points: frozenset[int]) -> re.Pattern[str]:
    return re.compile("[" + "".join(re.escape(chr(code)) for code in sorted(code_points)) + "]")


@functools.lru_cache(maxsize=4)
def _lead_bytes(code_points: frozenset[int]) -> tuple[bytes, ...] | None:
    """The first bytes of these characters in UTF-8 (the C1 controls': one,
    0xC2), when they are few; else None."""
    leads = sorted({chr(code).encode("utf-8", "surrogatepass")[:1] for code in code_points})
    return tuple(leads) if len(leads) <= 4 else None


def _version_of(prefix: str | None, namespace: str) -> str:
    """feedparser's track_namespace: the version a declaration implies, if any."""
    lower = namespace.lower()
    if prefix is None and lower == _RSS090:
        return "rss090"
    if lower == _RSS10:
        return "rss10"
    if lower == _ATOM:
        return "atom10"
    return ""


def _map_content_type(content_type: str) -> str:
    content_type = content_type.lower()
    if content_type in ("text", "plain"):
        return "text/plain"
    if content_type == "html":
        return "text/html"
    if content_type == "xhtml":
        return "application/xhtml+xml"
    return content_type


def _enforce_href(attributes: dict[str, str]) -> dict[str, str]:
    href = attributes.get("url", attributes.get("uri", attributes.get("href")))
    if href:
        attributes.pop("url", None)
        attributes.pop("uri", None)
        attributes["href"] = href
    return attributes
