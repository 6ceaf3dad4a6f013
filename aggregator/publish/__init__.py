"""Publishing: the merged entries as feeds and a page, written only when they change.

    publish(entries, meta, out_dir, stamps=..., now=...)
      = distinct_updates                                            (no two entries at one instant)
        | render_atom / render_rss / render_json_feed / render_page   (pure: bytes in memory)
        | write_if_changed                                          (atomic, skips equal bytes)

Files, relative to ``out_dir``::

    feed.atom  feed.rss  feed.json  index.html
    sections/<slug>.atom  .rss  .json    one set per section, that section's entries only

Rendering reads no clock, so publishing the same entries twice writes nothing
the second time.  A feed's own date (Atom ``updated``, RSS
``lastBuildDate``) says when its entries last changed: each set of entries
(the merged feed's, each section's) has a :class:`Stamp`, a fingerprint of
the entries and the ``now`` at which that fingerprint was first published.
The caller keeps the stamps between publishes; the same entries keep their
stamp, so their bytes stay identical (the ETags and ``write_if_changed``
rely on it), and changed entries get a new one.

What is published is bounded whatever the store holds: each
entry's summary (:data:`~aggregator.publish.content.MAX_SUMMARY_CHARS`), and
the entries of a document together (``max_chars``, by default
:data:`MAX_DOCUMENT_CHARS`): the newest entries that fit are published, and
the others are left out of the files (not of the store) and counted in the
report.  An entry that cannot be rendered (a bug met on one source's data)
is left out too, named in :attr:`PublishReport.unrenderable`, and the rest
is published: one source's bad data never stops the merged feed.

Section feeds of sections that no longer exist are not deleted: a
subscriber's reader then keeps its last copy instead of an error.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from aggregator.errors import ProcessingError, PublishError
from aggregator.models import Entry, FeedMeta
from aggregator.outputs import ATOM, JSON_FEED, RSS
from aggregator.publish.content import entry_chars, entry_content_html
from aggregator.publish.feeds import render_atom, render_json_feed, render_rss
from aggregator.publish.layout import (
    ATOM_FILE,
    JSON_FILE,
    PAGE_FILE,
    RSS_FILE,
    SECTIONS_DIR,
    distinct_updates,
    ordered_sections,
    section_feed_path,
    section_slug,
    section_slugs,
)
from aggregator.publish.page import render_page
from aggregator.publish.writer import sweep_temporaries, write_if_changed

__all__ = [
    "PublishReport",
    "Stamp",
    "entry_content_html",
    "publish",
    "render_atom",
    "render_json_feed",
    "render_page",
    "render_rss",
    "section_slug",
    "write_if_changed",
]

log = logging.getLogger(__name__)

# Characters of text and links (entry_chars) of all entries of one published
# document.  Two hundred entries of ordinary size use a tenth of it; five
# feeds of 1 MB titles had made 47 MB of files.
MAX_DOCUMENT_CHARS = 2_000_000


@dataclass(frozen=True, slots=True)
class Stamp:
    """When one set of published entries last changed, and what they were then."""

    fingerprint: str  # of the entries and the document's title
    changed: datetime


@dataclass(frozen=True, slots=True)
class PublishReport:
    """Which files (paths relative to ``out_dir``, '/'-separated) were written or left alone."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    left_out: int = 0  # entries past the bound on a document's size
    # Entries that could not be rendered, each with the error line naming it.
    unrenderable: list[tuple[Entry, ProcessingError]] = field(default_factory=list)
    # Each set of entries' stamp (by the path of its Atom file), for the next publish.
    stamps: dict[str, Stamp] = field(default_factory=dict)


def publish(
    entries: Sequence[Entry],
    meta: FeedMeta,
    out_dir: Path,
    *,
    max_chars: int = MAX_DOCUMENT_CHARS,
    stamps: Mapping[str, Stamp] | None = None,
    now: datetime | None = None,
) -> PublishReport:
    """Render every output and write the ones whose bytes changed.

    ``stamps`` are the previous publish's (:attr:`PublishReport.stamps`);
    a set of entries not in them, or changed since, is dated ``now``.
    Without ``now`` every feed is dated by its newest entry, and no stamps
    are made.

    ``entries`` are published in the order given (the caller sorts, newest
    first), as many as fit in ``max_chars`` (see :func:`.content.entry_chars`);
    an entry too large to fit does not keep the smaller ones after it out.
    Raises :class:`PublishError` for the first file that cannot be written;
    files written before it stay written, and nothing is half-written.
    """
    shown = distinct_updates(_within(entries, max_chars))
    if len(shown) < len(entries):
        log.warning(
            "%d of %d entries left out of the published files: over %d characters in all",
            len(entries) - len(shown),
            len(entries),
            max_chars,
        )
    dating = _Dating(stamps or {}, now)
    try:
        outputs = _render_all(shown, meta, dating)
        unrenderable = []
    except Exception:
        unrenderable = [(e, error) for e in shown if (error := _render_error(e, meta)) is not None]
        if not unrenderable:
            raise  # not one entry's: a bug of the whole
        bad = {id(e) for e, _error in unrenderable}
        dating = _Dating(stamps or {}, now)  # forget the stamps of the failed render
        outputs = _render_all([e for e in shown if id(e) not in bad], meta, dating)
    for directory in (out_dir, out_dir / SECTIONS_DIR):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PublishError(f"{directory}: cannot create directory: {error}") from error
    for directory in (out_dir, out_dir / SECTIONS_DIR):
        sweep_temporaries(directory)
    report = PublishReport(
        left_out=len(entries) - len(shown), unrenderable=unrenderable, stamps=dating.made
    )
    for name, data in outputs:
        path = out_dir.joinpath(*name.split("/"))
        if write_if_changed(path, data):
            report.written.append(name)
        else:
            report.unchanged.append(name)
    return report


def _within(entries: Sequence[Entry], max_chars: int) -> list[Entry]:
    shown = []
    left = max_chars
    for entry in entries:
        size = entry_chars(entry)
        if size <= left:
            shown.append(entry)
            left -= size
    return shown


def _render_error(entry: Entry, meta: FeedMeta) -> ProcessingError | None:
    """Why ``entry`` alone cannot be rendered, as its lead source's error; None if it can."""
    try:
        _render_all([entry], meta, _Dating({}, None))
    except Exception as exc:
        source = entry.sources[0].name if entry.sources else entry.section
        return ProcessingError.of(source, "publishing", exc, entry.id)
    return None


class _Dating:
    """Decides each set of entries' date from the previous stamps and ``now``."""

    def __init__(self, previous: Mapping[str, Stamp], now: datetime | None):
        self.previous = previous
        self.now = now
        self.made: dict[str, Stamp] = {}

    def changed(self, key: str, title: str, entries: Sequence[Entry]) -> datetime | None:
        """When the entries under ``key`` last changed; None when nothing is dated."""
        if self.now is None:
            return None
        digest = hashlib.sha256(repr((title, list(entries))).encode("utf-8", "surrogatepass"))
        fingerprint = digest.hexdigest()
        before = self.previous.get(key)
        same = before is not None and before.fingerprint == fingerprint
        stamp = before if same and before is not None else Stamp(fingerprint, self.now)
        self.made[key] = stamp
        return stamp.changed


def _render_all(
    entries: Sequence[Entry], meta: FeedMeta, dating: _Dating
) -> list[tuple[str, bytes]]:
    """Every output file's name and bytes.

    Everything is rendered before anything is written, so a rendering bug
    leaves the previous files in place rather than a mix of old and new.
    """
    updated = dating.changed(ATOM_FILE, meta.title, entries)
    outputs = [
        (ATOM_FILE, render_atom(entries, meta, updated=updated)),
        (RSS_FILE, render_rss(entries, meta, updated=updated)),
        (JSON_FILE, render_json_feed(entries, meta)),
    ]
    for section, slug in section_slugs(ordered_sections(meta.sections, entries)).items():
        chosen = [entry for entry in entries if entry.section == section]
        title = f"{meta.title} — {section}"
        atom = section_feed_path(slug, ATOM)
        changed = dating.changed(atom, title, chosen)
        rss = section_feed_path(slug, RSS)
        json = section_feed_path(slug, JSON_FEED)
        outputs += [
            (atom, render_atom(chosen, meta, self_path=atom, title=title, updated=changed)),
            (rss, render_rss(chosen, meta, self_path=rss, title=title, updated=changed)),
            (json, render_json_feed(chosen, meta, self_path=json, title=title)),
        ]
    # The page last: it links to the feeds, so it should not appear before them.
    outputs.append((PAGE_FILE, render_page(entries, meta, updated=updated)))
    return outputs
