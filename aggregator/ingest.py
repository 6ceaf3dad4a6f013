"""What a worker does with a source's new bytes, in one round trip.

    IngestJob (fetched bytes, what the source stored last time, settings)
      -> parse, but not the entries whose bytes the
         source sent last time (EntryDigests)         ParsedFeed
      -> per entry: dates clamped, the source's language,
         keys, plain text, near-duplicate features   PreparedCopy
      =  Ingested, or the source's ParseError

Everything here is pure CPU work on one source, with no store, so it runs in
the worker processes on every core, and the process that owns the store
only looks things up and writes them (:func:`.dedup.merge.merge_copies`).
Doing all of it in one trip means an entry's text crosses between processes
once, and is parsed into plain text once.

No summaries are made here: only what is published is summarized, when it
is published (:mod:`.publishing`, in the same workers), and cached under its
text's hash.  A first pass over a thousand feeds stores thirty thousand
entries and publishes a few hundred; summarizing every entry here made a
third of the pass's CPU for summaries that no one would read.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .errors import ParseError, ProcessingError, SourceError, bug_details, bug_message
from .filters import NO_FILTERS, EntryFields, Filters
from .models import EntryDigests, Fetched, ParsedFeed, ParsedItem, Record
from .workers import outlives_its_jobs

if TYPE_CHECKING:
    from .dedup.merge import PreparedCopy

__all__ = ["WORKER_MODULES", "IngestJob", "Ingested", "NeedsOwnProcess", "ingest"]

log = logging.getLogger(__name__)

# What the workers import: feedparser, nh3, numpy for ingest(), the
# summarizer for publishing's summaries.  Imported when first called, so
# that the process that owns the store need not (it hands the work to worker
# processes), and by the workers' fork server before it forks them (see
# .workers), with the models they load (.preload).
WORKER_MODULES = (
    "aggregator.parse",
    "aggregator.dedup.merge",
    "aggregator.summarize.job",
    "aggregator.preload",
)

# Every entry date is clamped here, on entry, so that date arithmetic
# further on (dedup windows, digests, feeds) can rely on it.  A date further
# ahead than FUTURE_SLACK is a mistake or a trick (it would pin the entry to
# the top of every feed for years): it becomes the time it was seen.  One
# before EARLIEST (0001-01-01, 1900) is a placeholder, not a date: it becomes
# EARLIEST, the oldest any published feed will show.
FUTURE_SLACK = timedelta(days=1)
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class IngestJob(Record):
    fetched: Fetched
    now: datetime
    local: bool = False  # a local source: article files are read as articles
    max_items: int = 1000
    language: str | None = None  # the source's, for entries that declare none
    stored: Mapping[str, str] = field(default_factory=dict)  # entry key -> content hash
    known: EntryDigests | None = None  # the entries of the source's last document
    filters: Filters = NO_FILTERS  # the source's filter rules

    def input_bytes(self) -> int:
        """The bytes to parse: what the job's memory and time grow with."""
        return sum(len(document.body) for document in self.fetched.documents)


@dataclass(frozen=True, slots=True)
class Ingested(Record):
    feed: ParsedFeed  # its items as stored: dates clamped, language filled in
    copies: tuple[PreparedCopy, ...]  # one per item, in order
    filtered: int = 0  # entries the source's filter rules left out


@dataclass(frozen=True, slots=True)
class NeedsOwnProcess(Record):
    """A worker of the pool did not run this job: reading its document needs
    chardet's models, which the worker would keep for the rest of the pass.
    Run it again where they go when the job ends (``Workers.map(alone=True)``)."""

    source: str


def ingest_lost(job: IngestJob, why: str) -> ParseError:
    """The source's error when the process reading its documents ended under
    it or ran too long, twice (see ``Workers.map``'s ``lost``): its bytes are
    not read again until they change, like any that do not parse, rather than
    cost a worker at every poll."""
    return ParseError(job.fetched.source, f"the process reading it {why}")


def ingest(job: IngestJob) -> Ingested | SourceError | NeedsOwnProcess:
    """Parse one source's fetched documents and prepare their entries for storing.

    Bad input is the source's :class:`ParseError`, a bug met on its data its
    :class:`ProcessingError`, never an exception: this runs in a worker,
    where an exception would only be a traceback.
    """
    from .dedup.merge import prepare_copies, prepare_copy
    from .parse import parse_fetched
    from .parse.feed import EncodingDetectorRefused, refusing_encoding_detector

    fetched = job.fetched
    try:
        with refusing_encoding_detector() if outlives_its_jobs() else nullcontext():
            feed = parse_fetched(
                fetched,
                local=job.local,
                max_items=job.max_items,
                known=job.known,
                # Applied to every entry below: a change of them reads them all again.
                context=(job.language or "", job.filters.signature()),
            )
    except EncodingDetectorRefused:
        return NeedsOwnProcess(fetched.source)
    except ParseError as error:
        return error
    except RecursionError:
        return ParseError(fetched.source, "document nested too deeply to read")
    except Exception as exc:
        # A bug, but one source's: its bytes are not read again until they
        # change, like any that do not parse; the traceback goes with it.
        return ParseError(fetched.source, bug_message("parsing", exc), details=bug_details(exc))
    limit = job.now + FUTURE_SLACK
    if any(
        date is not None and date > limit
        for item in feed.items
        for date in (item.published, item.updated)
    ):
        # An entry dated ahead is stored as seen now; a later poll, once
        # its date is near, stores it as dated.  So such a document's
        # entries are all read again next time.  (One dated before
        # EARLIEST stays clamped: it need not be read again.)
        feed = replace(feed, digests=None)
    items = []
    filtered = 0
    for parsed in feed.items:
        try:
            item = _as_stored(parsed, job)
            if job.filters and job.filters.leaving_out(entry_fields(item)) is not None:
                filtered += 1  # before deduplication and summaries: as if never sent
                continue
            items.append(item)
        except Exception as exc:
            # A bug, but one source's: the pass goes on with the others.
            return ProcessingError.of(
                fetched.source, "preparing entries", exc, parsed.entry_id or parsed.link
            )
    # All of a source's entries together: a tenth less CPU for the whole
    # benchmark's cold pass than one at a time (see merge.RUN_CHARS).
    try:
        copies = prepare_copies(items, job.stored)
    except Exception:
        # Again one at a time, to name the entry that meets the bug.
        copies = []
        for item in items:
            try:
                copies.append(prepare_copy(item, job.stored))
            except Exception as exc:
                return ProcessingError.of(
                    fetched.source, "preparing entries", exc, item.entry_id or item.link
                )
    return Ingested(replace(feed, items=tuple(items)), tuple(copies), filtered)


def entry_fields(item: ParsedItem) -> EntryFields:
    return EntryFields(item.title, item.content_html, item.author, item.link, item.categories)


def _as_stored(item: ParsedItem, job: IngestJob) -> ParsedItem:
    if job.language and not item.language:
        item = replace(item, language=job.language)
    return clamp_dates(item, job.now)


def clamp_dates(item: ParsedItem, now: datetime) -> ParsedItem:
    """The item with each date between :data:`EARLIEST` and ``now`` + :data:`FUTURE_SLACK`."""
    published = clamp_date(item.published, now)
    updated = clamp_date(item.updated, now)
    if (published, updated) == (item.published, item.updated):
        return item
    return replace(item, published=published, updated=updated)


def clamp_date(value: datetime | None, now: datetime) -> datetime | None:
    if value is None:
        return None
    if value > now + FUTURE_SLACK:
        return now
    return max(value, EARLIEST)
