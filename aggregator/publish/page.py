"""The merged feed as one readable HTML page.

jinja2 is imported here only.  The template (``templates/index.html``) gets
plain view records built below and does no logic of its own beyond loops;
autoescaping is on, and the one value marked safe is the entry content, which
:func:`~aggregator.publish.content.entry_content_html` builds escaped.  No
JavaScript, no clock: the same entries render to the same bytes.  No control
character reaches the page, nor any bidi embedding, override or isolate,
whatever the store or the settings hold (sources' text loses them on the way
in; entries stored before that did not).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import jinja2

from aggregator import outputs
from aggregator.models import Entry, FeedMeta
from aggregator.publish.content import entry_content_html, safe_href
from aggregator.publish.layout import (
    SECTION_OUTPUTS,
    as_utc,
    feed_updated,
    ordered_sections,
    section_feed_path,
    section_slugs,
)

_TEMPLATE = "index.html"
# C0 controls but tab, newline and CR (form feed too: HTML reads it as a
# parse error), DEL, the C1 controls, and the bidi embeddings, overrides and
# isolates, which would reorder the text after them on the page.
_NOT_SHOWN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True, slots=True)
class EntryView:
    title: str
    href: str | None  # None when the entry has no link, or one unsafe to click
    sources: str  # the source titles, for the byline
    date_iso: str
    date_text: str
    content_html: str  # built escaped; the template marks it safe
    language: str | None


@dataclass(frozen=True, slots=True)
class FeedLink:
    href: str
    media_type: str
    title: str  # for autodiscovery: which section, which format


@dataclass(frozen=True, slots=True)
class SectionView:
    name: str
    anchor: str
    feed_href: str  # the Atom one, linked from the section's heading
    feeds: tuple[FeedLink, ...]  # every format, for autodiscovery
    entries: tuple[EntryView, ...]


def render_page(
    entries: Sequence[Entry], meta: FeedMeta, *, updated: datetime | None = None
) -> bytes:
    """The HTML5 page: entries grouped by section, sections in publishing order.

    Every section gets autodiscovery links to its feeds (one per format), but
    only sections with entries get a heading on the page.  ``updated`` is
    when the entries last changed, as for the feeds (None: the newest entry's).
    """
    names = ordered_sections(meta.sections, entries)
    slugs = section_slugs(names)
    sections = tuple(
        SectionView(
            name=name,
            anchor=f"section-{slugs[name]}",
            feed_href=section_feed_path(slugs[name]),
            feeds=tuple(
                FeedLink(
                    href=section_feed_path(slugs[name], output),
                    media_type=output.media_type,
                    title=f"{meta.title} — {name} ({output.label})",
                )
                for output in SECTION_OUTPUTS
            ),
            entries=tuple(_entry_view(entry) for entry in entries if entry.section == name),
        )
        for name in names
    )
    updated = feed_updated(entries, updated)
    template = _environment().get_template(_TEMPLATE)
    html = template.render(
        title=meta.title,
        description=meta.description,
        generator=meta.generator,
        feeds=(outputs.ATOM, outputs.RSS, outputs.JSON_FEED),
        sections=sections,
        updated_iso=_iso(updated),
        updated_text=_display(updated),
        has_entries=bool(entries),
    )
    return _NOT_SHOWN.sub("", html).encode("utf-8")


def _entry_view(entry: Entry) -> EntryView:
    published = as_utc(entry.published)
    return EntryView(
        title=entry.title or "(untitled)",
        href=safe_href(entry.link),
        sources=", ".join(source.title for source in entry.sources),
        date_iso=_iso(published),
        date_text=_display(published),
        # Level 4: the page's entry titles are the <h3>s.
        content_html=entry_content_html(entry, heading_level=4),
        language=entry.language,
    )


def _iso(moment: datetime) -> str:
    return as_utc(moment).isoformat()


def _display(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%d %H:%M UTC")


@cache
def _environment() -> jinja2.Environment:
    # StrictUndefined: a misspelt name in the template fails the render
    # instead of quietly printing nothing.
    return jinja2.Environment(
        loader=jinja2.PackageLoader("aggregator.publish", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
