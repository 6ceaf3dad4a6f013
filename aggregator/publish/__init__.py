"""Publishing: the merged entries as feeds and a page, written only when they change.

    publish(entries, meta, out_dir)
      = render_atom / render_rss / render_json_feed / render_page   (pure: bytes in memory)
        | write_if_changed                                          (atomic, skips equal bytes)

Files, relative to ``out_dir``::

    feed.atom  feed.rss  feed.json  index.html
    sections/<slug>.atom        one per section, that section's entries only

Rendering reads no clock, so publishing the same entries twice writes nothing
the second time.  An entry that cannot be rendered (a bug met on one
source's data) is left out, named in :attr:`PublishReport.left_out`, and the
rest is published: one source's bad data never stops the merged feed.

Section feeds of sections that no longer exist are not deleted: a
subscriber's reader then keeps its last copy instead of an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aggregator.errors import ProcessingError, PublishError
from aggregator.models import Entry, FeedMeta
from aggregator.publish.content import entry_content_html
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


@dataclass(frozen=True, slots=True)
class PublishReport:
    """Which files (paths relative to ``out_dir``, '/'-separated) were written or left alone."""

    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    # Entries that could not be rendered, each with the error line naming it.
    left_out: list[tuple[Entry, ProcessingError]] = field(default_factory=list)


def publish(entries: Sequence[Entry], meta: FeedMeta, out_dir: Path) -> PublishReport:
    """Render every output and write the ones whose bytes changed.

    ``entries`` are published in the order given (the caller sorts, newest
    first).  Raises :class:`PublishError` for the first file that cannot be
    written; files written before it stay written, and nothing is half-written.
    """
    try:
        outputs = _render_all(entries, meta)
        left_out = []
    except Exception:
        left_out = [(e, error) for e in entries if (error := _render_error(e, meta)) is not None]
        if not left_out:
            raise  # not one entry's: a bug of the whole
        bad = {id(e) for e, _error in left_out}
        outputs = _render_all([e for e in entries if id(e) not in bad], meta)
    for directory in (out_dir, out_dir / SECTIONS_DIR):
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise PublishError(f"{directory}: cannot create directory: {error}") from error
    for directory in (out_dir, out_dir / SECTIONS_DIR):
        sweep_temporaries(directory)
    report = PublishReport(left_out=left_out)
    for name, data in outputs:
        path = out_dir.joinpath(*name.split("/"))
        if write_if_changed(path, data):
            report.written.append(name)
        else:
            report.unchanged.append(name)
    return report


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
