"""Publishing: the merged entries as feeds and a page, written only when they change.

    publish(entries, meta, out_dir)
      = render_atom / render_rss / render_json_feed / render_page   (pure: bytes in memory)
        | write_if_changed                                          (atomic, skips equal bytes)

Files, relative to ``out_dir``::

    feed.atom  feed.rss  feed.json  index.html
    sections/<slug>.atom        one per section, that section's entries only

Rendering reads no clock, so publishing the same entries twice writes nothing
the second time.  What is published is bounded whatever the store holds: each
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

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aggregator.errors import ProcessingError, PublishError
from aggregator.models import Entry, FeedMeta
from aggregator.publish.content import entry_chars, entry_content_html
from aggregator.publish.feeds import render_atom, render_json_feed, render_rss
from aggregator.publish.layout import (
    ATOM_FILE,
    JSON_FILE,
    PAGE_FILE,
    RSS_FILE,
    SECTIONS_DIR,
    ordered_sections,
    section_feed_path,
    section_slug,
    section_slugs,
)
from aggregator.publish.page import render_page
from aggregator.publish.writer import sweep_temporaries, write_if_changed

__all__ = [
    "PublishReport",
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
class PublishReport:
    """Which files (paths relative to ``out_dir``, '/'-separated) were written or left alone."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    left_out: int = 0  # entries past the bound on a document's size
    # Entries that could not be rendered, each with the error line naming it.
    unrenderable: list[tuple[Entry, ProcessingError]] = field(default_factory=list)


def publish(
    entries: Sequence[Entry],
    meta: FeedMeta,
    out_dir: Path,
    *,
    max_chars: int = MAX_DOCUMENT_CHARS,
) -> PublishReport:
    """Render every output and write the ones whose bytes changed.

    ``entries`` are published in the order given (the caller sorts, newest
    first), as many as fit in ``max_chars`` (see :func:`.content.entry_chars`);
    an entry too large to fit does not keep the smaller ones after it out.
    Raises :class:`PublishError` for the first file that cannot be written;
    files written before it stay written, and nothing is half-written.
    """
    shown = _within(entries, max_chars)
    if len(shown) < len(entries):
        log.warning(
            "%d of %d entries left out of the published files: over %d characters in all",
            len(entries) - len(shown),
            len(entries),
            max_chars,
        )
    try:
        outputs = _render_all(shown, meta)
        unrenderable = []
    except Exception:
        unrenderable = [(e, error) for e in shown if (error := _render_error(e, meta)) is not None]
        if not unrenderable:
            raise  # not one entry's: a bug of the whole
        bad = {id(e) for e, _error in unrenderable}
        outputs = _render_all([e for e in shown if id(e) not in bad], meta)
    for directory in (out_dir, out_dir / SECTIONS_DIR):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PublishError(f"{directory}: cannot create directory: {error}") from error
    for directory in (out_dir, out_dir / SECTIONS_DIR):
        sweep_temporaries(directory)
    report = PublishReport(left_out=len(entries) - len(shown), unrenderable=unrenderable)
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
        _render_all([entry], meta)
    except Exception as exc:
        source = entry.sources[0].name if entry.sources else entry.section
        return ProcessingError.of(source, "publishing", exc, entry.id)
    return None


def _render_all(entries: Sequence[Entry], meta: FeedMeta) -> list[tuple[str, bytes]]:
    """Every output file's name and bytes.

    Everything is rendered before anything is written, so a rendering bug
    leaves the previous files in place rather than a mix of old and new.
    """
    outputs = [
        (ATOM_FILE, render_atom(entries, meta)),
        (RSS_FILE, render_rss(entries, meta)),
        (JSON_FILE, render_json_feed(entries, meta)),
    ]
    for section, slug in section_slugs(ordered_sections(meta.sections, entries)).items():
        path = section_feed_path(slug)
        chosen = [entry for entry in entries if entry.section == section]
        title = f"{meta.title} — {section}"
        outputs.append((path, render_atom(chosen, meta, self_path=path, title=title)))
    # The page last: it links to the feeds, so it should not appear before them.
    outputs.append((PAGE_FILE, render_page(entries, meta)))
    return outputs
