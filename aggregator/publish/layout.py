"""Names, order and URLs of what gets published; pure functions, no I/O.

The writer, the feeds and the HTML page all ask this module where a section's
feed lives, so the page's autodiscovery links and the files on disk can never
disagree.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import PurePosixPath

from aggregator import outputs
from aggregator.models import Entry

ATOM_FILE = outputs.ATOM.name
RSS_FILE = outputs.RSS.name
JSON_FILE = outputs.JSON_FEED.name
PAGE_FILE = outputs.PAGE.name
SECTIONS_DIR = outputs.SECTIONS_DIR

# Stands in for "last updated" when a feed has no entries: any clock reading
# would make two renders of the same (empty) input differ.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def section_slug(name: str) -> str:
    """A file-name-safe form of a section name: lowercase ASCII letters, digits and '-'.

    Accents are folded ("Économie" -> "economie").  A name with nothing left
    after folding gets a stable hash instead, so the slug is never empty.
    Distinct names can share a slug; :func:`section_slugs` resolves that.
    """
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    slug = _NOT_ALNUM.sub("-", folded.lower()).strip("-")
    return slug or f"section-{_short_hash(name)}"


def section_slugs(sections: Iterable[str]) -> dict[str, str]:
    """Each section's slug, made unique: a later section whose slug is taken gets a hash suffix.

    The first section keeps the plain slug, so the order given must be stable
    (see :func:`ordered_sections`) for file names to stay put between runs.
    """
    slugs: dict[str, str] = {}
    taken: set[str] = set()
    for name in sections:
        if name in slugs:
            continue
        slug = section_slug(name)
        if slug in taken:
            slug = f"{slug}-{_short_hash(name)}"
        slugs[name] = slug
        taken.add(slug)
    return slugs


# Each section is published in every feed format, as sections/<slug>.<ext>.
SECTION_OUTPUTS = (outputs.ATOM, outputs.RSS, outputs.JSON_FEED)


def section_feed_path(slug: str, output: outputs.Output = outputs.ATOM) -> str:
    """Where a section's feed in ``output``'s format lives: sections/<slug> plus
    the merged feed's extension (".atom", ".rss", ".json")."""
    return f"{SECTIONS_DIR}/{slug}{PurePosixPath(output.name).suffix}"


def ordered_sections(configured: Sequence[str], entries: Iterable[Entry]) -> list[str]:
    """The configured sections in their order, then any others the entries use, sorted.

    Unconfigured sections are sorted rather than taken in entry order so that
    a new entry does not reshuffle the page.
    """
    ordered = list(dict.fromkeys(configured))
    known = set(ordered)
    extra = sorted({entry.section for entry in entries} - known)
    return ordered + extra


def base_directory(base_url: str) -> str:
    """``base_url`` as a directory URL: with exactly one trailing '/'.

    "https://example.org/news" and "https://example.org/news/" both name the
    directory the files are served from, so both publish the same bytes.
    """
    return base_url.rstrip("/") + "/"


def public_url(base_url: str, path: str) -> str:
    """The public URL of ``path`` (relative to the output directory).

    Not ``urljoin``: it would drop the last segment of a base without a slash.
    """
    return base_directory(base_url) + path.lstrip("/")


def as_utc(moment: datetime) -> datetime:
    """``moment`` in UTC.  A naive datetime is a bug upstream, so it raises."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} reached publishing")
    return moment.astimezone(UTC)


def newest_update(entries: Iterable[Entry]) -> datetime:
    """The latest ``updated`` among ``entries``, or :data:`EPOCH` when there are none.

    Feeds say this as their own "updated"; it is never the clock, so the same
    entries always render to the same bytes.
    """
    return max((as_utc(entry.updated) for entry in entries), default=EPOCH)


def feed_updated(entries: Iterable[Entry], changed: datetime | None) -> datetime:
    """A feed's own date: when its entries last ``changed`` (as publishing
    recorded it), but never before its newest entry's ``updated``."""
    newest = newest_update(entries)
    return newest if changed is None else max(newest, as_utc(changed))


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:8]


def distinct_updates(entries: Sequence[Entry]) -> list[Entry]:
    """``entries`` in the same order, no two with the same ``updated``.

    Feed validators warn about two Atom entries updated at the same instant,
    and readers that sort by it cannot order them.  Among entries sharing an
    instant the one with the smallest id keeps it, and each other one moves
    forward a second at a time to the next instant free: later, never
    earlier, so ``updated`` stays at or after ``published``.  The result
    depends on the entries alone, so the same entries give the same dates.
    """
    taken: set[datetime] = set()
    moved: dict[int, datetime] = {}
    order = sorted(range(len(entries)), key=lambda i: (as_utc(entries[i].updated), entries[i].id))
    for index in order:
        moment = as_utc(entries[index].updated)
        while moment in taken:
            moment += _ONE_SECOND
        taken.add(moment)
        moved[index] = moment
    return [
        entry if as_utc(entry.updated) == moved[index] else replace(entry, updated=moved[index])
        for index, entry in enumerate(entries)
    ]


_ONE_SECOND = timedelta(seconds=1)
