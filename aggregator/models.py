"""Records passed between the stages, named by the boundary they cross.

    Fetched      fetch -> parse        the bytes of one source (one or more documents)
    ParsedFeed   parse -> dedup/store  what a source says, normalized and sanitized
    EntryDigests parse -> store -> parse  which entries' bytes a source sent last time
    Section      sections -> summarize one part of an article, split along its headings
    Summary      summarize -> store    key sentences per section
    Entry        store -> publish      one merged entry of the published feed
    SourceState  store -> pipeline     a source's caching state and health

All datetimes are timezone-aware UTC.  Records are frozen: a stage makes new
records rather than editing the ones it was given.  Those that cross between
processes (to and from the workers) are :class:`Record` subclasses, which
pickle compactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit


class Record:
    """Pickled as a call of its constructor with its fields in order.

    dataclasses pickle a frozen, slotted record with a ``__setstate__`` that
    looks up its fields for every object: that was most of the time the
    storing process spent unpickling what the workers sent.  Subclasses must
    be ``@dataclass(frozen=True, slots=True)`` with every field in ``__init__``.
    """

    __slots__ = ()

    def __reduce__(self) -> tuple[type, tuple[Any, ...]]:
        fields: tuple[str, ...] = self.__slots__
        return type(self), tuple(getattr(self, name) for name in fields)


@dataclass(frozen=True, slots=True)
class Document(Record):
    """One retrieved document: an HTTP response body or a local file."""

    location: str  # final URL or file path; the base for relative links
    body: bytes
    content_type: str | None = None
    modified: datetime | None = None  # file mtime; unused for HTTP
    headers: tuple[tuple[str, str], ...] = ()  # response headers, lower-case names


@dataclass(frozen=True, slots=True)
class FetchState(Record):
    """What a conditional request needs from the previous one."""

    etag: str | None = None
    last_modified: str | None = None
    content_hash: str | None = None  # stands in where the server sends neither


@dataclass(frozen=True, slots=True)
class Fetched(Record):
    """A source's documents, or ``not_modified`` when nothing changed since ``state``."""

    source: str
    documents: tuple[Document, ...]
    state: FetchState
    not_modified: bool = False
    status: int | None = None  # HTTP status of the last response, None for files
    cache_seconds: float | None = None  # how long the server asks us to wait
    permanent_redirect: str | None = None  # where a 301/308 chain led, if it did


@dataclass(frozen=True, slots=True)
class Enclosure(Record):
    """A file an item carries (a podcast's audio, a video, an attachment):
    an absolute http(s) URL, its media type and size in bytes when known."""

    url: str
    media_type: str | None = None
    length: int | None = None

    def to_json(self) -> list[object]:
        return [self.url, self.media_type, self.length]

    @classmethod
    def from_json(cls, data: list[object]) -> Enclosure:
        url, media_type, length = data
        return cls(
            str(url),
            media_type if isinstance(media_type, str) else None,
            length if isinstance(length, int) else None,
        )


@dataclass(frozen=True, slots=True)
class ParsedItem(Record):
    """One entry of a feed, or one local article, after normalizing.

    ``content_html`` is sanitized HTML; titles are plain text; URLs absolute.
    """

    entry_id: str | None
    title: str
    link: str | None
    published: datetime | None
    updated: datetime | None
    content_html: str
    author: str | None = None
    language: str | None = None
    categories: tuple[str, ...] = ()  # for filter rules (not stored)
    enclosures: tuple[Enclosure, ...] = ()  # checked: http(s), a media type, a sane length
    image: str | None = None  # the item's main image (http(s))


@dataclass(frozen=True, slots=True)
class ParsedFeed(Record):
    """What one source says: its own title and link, and its items in document order."""

    title: str | None
    link: str | None
    language: str | None
    items: tuple[ParsedItem, ...]
    warning: str | None = None  # usable despite a wrong encoding or content type
    ttl_seconds: float | None = None  # RSS <ttl> or sy:updatePeriod, as seconds
    # Entries not parsed because their bytes were in the source's last
    # document (see EntryDigests); they are not in ``items``.
    unchanged: int = 0
    digests: EntryDigests | None = None  # this document's, for the next poll


DIGEST_BYTES = 16  # of each hash in EntryDigests (BLAKE2b)


@dataclass(frozen=True, slots=True)
class EntryDigests(Record):
    """What a source's last parsed document held: a hash of each entry's bytes
    (with a hash of its id), and of everything around them that entries
    inherit (``context``).

    The next document's entries with one of these hashes, in the same
    context, are not parsed again: their items are what was stored.
    """

    context: bytes
    entries: dict[bytes, bytes]  # digest of the entry's bytes -> of its id (zeros: none)

    def to_bytes(self) -> bytes:
        return self.context + b"".join(key + self.entries[key] for key in sorted(self.entries))

    @classmethod
    def from_bytes(cls, data: bytes) -> EntryDigests | None:
        """The digests :meth:`to_bytes` wrote; None if they are not."""
        size = DIGEST_BYTES
        if len(data) < size or (len(data) - size) % (2 * size):
            return None
        pairs = range(size, len(data), 2 * size)
        return cls(data[:size], {data[i : i + size]: data[i + size : i + 2 * size] for i in pairs})


@dataclass(frozen=True, slots=True)
class Section(Record):
    """A part of an article: its heading (None for the lead) and its plain-text paragraphs."""

    heading: str | None
    paragraphs: tuple[str, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


@dataclass(frozen=True, slots=True)
class SectionSummary(Record):
    heading: str | None
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Summary(Record):
    sections: tuple[SectionSummary, ...]

    def to_json(self) -> list[dict[str, object]]:
        return [{"heading": s.heading, "sentences": list(s.sentences)} for s in self.sections]

    @classmethod
    def from_json(cls, data: list[dict[str, object]]) -> Summary:
        sections = []
        for part in data:
            heading = part.get("heading")
            sentences = part.get("sentences") or []
            assert isinstance(sentences, list)
            sections.append(
                SectionSummary(
                    heading=heading if isinstance(heading, str) else None,
                    sentences=tuple(str(s) for s in sentences),
                )
            )
        return cls(tuple(sections))


@dataclass(frozen=True, slots=True)
class SourceRef:
    """One source that carried an entry, as the published feed names it."""

    name: str
    title: str  # the origin feed's own title, else the configured name
    site_link: str | None  # the origin's web site
    feed_url: str | None  # the origin feed's URL (None for local files)
    item_link: str | None  # the link this source gave for the story


@dataclass(frozen=True, slots=True)
class DigestLine:
    """One sentence of a section digest, and the item it came from."""

    sentence: str
    item_id: str  # the item's entry id
    link: str | None  # the item's link
    source: str  # the name of the outlet that carried it


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of the merged feed.  ``sources[0]`` is the copy that leads.

    A section digest is an entry too: no sources, and its ``digest`` lines
    instead of a summary.
    """

    id: str  # stable: urn:uuid derived from the first copy's identity
    title: str
    link: str | None
    published: datetime
    updated: datetime
    section: str  # the group from feeds.yaml, published as a category
    summary: Summary
    sources: tuple[SourceRef, ...]
    author: str | None = None
    language: str | None = None
    digest: tuple[DigestLine, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()
    image: str | None = None

    @property
    def origin_name(self) -> str:
        """Who published the original: the lead feed's title, or for a local file
        (which only names the original by its link) the link's host."""
        lead = self.sources[0] if self.sources else None
        if lead is not None and lead.feed_url is not None:
            return lead.title
        host = urlsplit(self.link).hostname if self.link else None
        return (host or "").removeprefix("www.") or (lead.title if lead else self.title)


@dataclass(frozen=True, slots=True)
class FeedMeta:
    """What the published feeds say about themselves."""

    title: str
    base_url: str  # public URL the files are served under, for self links and ids
    description: str = "Merged and summarized news feed"
    generator: str = "aggregator"
    sections: tuple[str, ...] = field(default=())
    hubs: tuple[str, ...] = ()  # WebSub hubs each feed names (rel="hub")


@dataclass(frozen=True, slots=True)
class SourceState:
    """A source as storage knows it: caching state and health."""

    name: str
    fetch_state: FetchState = FetchState()
    title: str | None = None
    site_link: str | None = None
    last_fetch: datetime | None = None
    last_success: datetime | None = None
    last_error: str | None = None
    consecutive_failures: int = 0
    next_due: datetime | None = None
    items_stored: int | None = None  # None: not counted (see Store.source_states)
    broken_hash: str | None = None  # body hash of the last response that did not parse
    url: str | None = None  # where the source now lives, after confirmed redirects
    redirect_target: str | None = None  # a permanent redirect seen, not yet trusted
    redirect_count: int = 0
    disabled: str | None = None  # why the source is no longer polled (410 Gone)
    feed_ttl: float | None = None  # the feed's own <ttl>, kept for 304 responses
    retry_after: datetime | None = None  # the server asked for no request before then
