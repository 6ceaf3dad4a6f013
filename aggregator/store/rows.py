"""Rows of the tables both stores share, as the records the protocols return.

Each store selects the same columns in the same order; only how a date
comes out of its driver differs (ISO text from SQLite, a datetime from
PostgreSQL), so each passes its own ``date`` conversion.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from ..models import FetchState, SourceRef, SourceState
from .items import StoredItem, media_from_json
from .pages import PageCandidate

DateOf = Callable[[Any], datetime | None]


def feed_url(location: str | None) -> str | None:
    """A source's stored location as a feed URL: None for a path of local
    files (what a copy's links are masked with, see :func:`.redact.feed_secrets`)."""
    return location if location and location.startswith("http") else None


def source_state(row: Sequence[Any], date: DateOf) -> SourceState:
    """A ``sources`` row, its columns as both stores' source query selects them."""
    (
        name,
        etag,
        last_modified,
        content_hash,
        title,
        site_link,
        last_fetch,
        last_success,
        last_error,
        failures,
        next_due,
        broken_hash,
        url,
        redirect_target,
        redirect_count,
        disabled,
        feed_ttl,
        retry_after,
        count,
    ) = row
    return SourceState(
        name=str(name),
        fetch_state=FetchState(etag, last_modified, content_hash),
        title=title,
        site_link=site_link,
        last_fetch=date(last_fetch),
        last_success=date(last_success),
        last_error=last_error,
        consecutive_failures=int(failures),
        next_due=date(next_due),
        items_stored=int(count) if count is not None else None,
        broken_hash=broken_hash,
        url=url,
        redirect_target=redirect_target,
        redirect_count=int(redirect_count),
        disabled=disabled,
        feed_ttl=float(feed_ttl) if feed_ttl is not None else None,
        retry_after=date(retry_after),
    )


def stored_item(row: Sequence[Any], sources: tuple[SourceRef, ...], date: DateOf) -> StoredItem:
    """An ``items`` row (both stores' item columns) with the sources that carried it."""
    item_id, uid, section, title, link, published, updated, content, author, language = row[:10]
    lead, media = row[10], row[11]
    published_at, updated_at = date(published), date(updated)
    assert published_at is not None and updated_at is not None  # NOT NULL columns
    enclosures, image = media_from_json(media)
    return StoredItem(
        id=int(item_id),
        uid=str(uid),
        section=str(section),
        title=str(title),
        link=link,
        published=published_at,
        updated=updated_at,
        content_html=str(content),
        author=author,
        language=language,
        lead_source=str(lead),
        sources=sources,
        enclosures=enclosures,
        image=image,
    )


def page_candidate(row: Sequence[Any]) -> PageCandidate:
    """A row of both stores' ``pages_wanted`` query."""
    (source, entry_key, link, content_hash, html, had_article, etag, modified, page_hash,
     failures) = row  # fmt: skip
    previous = FetchState(etag, modified, page_hash) if had_article else None
    return PageCandidate(source, entry_key, link, content_hash, html, previous, int(failures))
