"""Article pages: what the full-text stage fetched for each copy (see :mod:`aggregator.fulltext`).

    pages_wanted(sources, limit, now, selectors)
                                       copies with no page decided for their
                                       text and selector, or one due to be
                                       tried again                         -> the decider
    save_pages(PageWrite, ...)         what was decided, fetched, extracted <- the stage
    page_health(sources)               pages tried and failed, per source   -> aggregate status

A page is kept per copy (``(source, entry_key)``) with the content hash the
copy had when its page was decided: a copy whose text changes (a new hash)
is wanted again, one that does not is not, unless its page failed in a way
that may pass and is due to be tried again (``retry_at``).  An item is
published with its lead copy's article, when that copy's page gave one for
its current hash, in place of the feed's text (``StoredItem.content_html``),
so the summary is made from it; the item's own row is never rewritten, so a
page that later fails, or a copy that changes, shows the feed's text again.

A page asked for is kept with the source's ``full_text_selector`` it was
extracted with (NULL: none, trafilatura's choice).  When the source's
selector changes, its pages are wanted again, without their validators (a
"not modified" would keep the article the other way gave), and the next
passes extract them anew, newest first, ``full_text_max_pages`` a pass;
until then an item shows the article it had.  A copy that needed no page
(``url`` None) is not wanted again: a selector does not change that.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Protocol

from ..models import FetchState

# pages_wanted's default: no source has a full_text_selector.
NO_SELECTORS: Mapping[str, str] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class PageCandidate:
    """A copy that leads its item and has no page decided for its current text."""

    source: str
    entry_key: str
    link: str | None  # the copy's link: the page to fetch
    content_hash: str  # the copy's, to store with the page
    content_html: str  # the item's text as the feed gave it (for full_text: auto)
    # The page fetched for an earlier version of the copy: its validators,
    # for a conditional request (None: none fetched, or it gave no article).
    previous: FetchState | None = None
    failures: int = 0  # fetches of the page that failed for the copy's current text


@dataclass(frozen=True, slots=True)
class PageWrite:
    """What became of one copy's page, to store in place of what was there.

    ``article_html`` None with ``error`` None: no page was needed (the feed's
    text was long enough); with ``error``: why there is no article.
    ``keep_article``: the page was not modified since ``previous``, so the
    article stored for it stays.
    """

    source: str
    entry_key: str
    content_hash: str
    url: str | None  # the page asked for; None when none was
    when: datetime
    state: FetchState | None = None  # the page's validators, for the next request
    article_html: str | None = None  # sanitized HTML of the main content
    error: str | None = None
    keep_article: bool = False
    failures: int = 0  # of the page, for this text, this one included
    retry_at: datetime | None = None  # when to fetch it again; None: not for this text
    selector: str | None = None  # the source's full_text_selector, of a page asked for

    def row(self, date: Callable[[datetime], object]) -> tuple[object, ...]:
        """The values of the ``pages`` upsert both stores run, in its column
        order, ``keep_article`` last; ``date`` makes a date what the store's
        driver takes."""
        state = self.state
        return (
            self.source,
            self.entry_key,
            self.content_hash,
            self.url,
            state.etag if state else None,
            state.last_modified if state else None,
            state.content_hash if state else None,
            self.article_html,
            self.error,
            date(self.when),
            self.failures,
            date(self.retry_at) if self.retry_at is not None else None,
            self.selector,
            self.keep_article,
        )


@dataclass(frozen=True, slots=True)
class PageHealth:
    """One source's pages, for ``aggregate status``."""

    tried: int  # pages asked for (those not needed left out)
    failed: int  # of which gave no article
    last_failure: tuple[str, str] | None = None  # (url, why) of the latest failed
    retrying: int = 0  # of the failed, those to be fetched again (``retry_at``)


class PageStore(Protocol):
    def pages_wanted(
        self,
        sources: Collection[str],
        limit: int,
        now: datetime,
        selectors: Mapping[str, str] = NO_SELECTORS,
    ) -> list[PageCandidate]:
        """Copies of ``sources`` that lead their item and have no page stored
        for their current content hash, or one whose ``retry_at`` is ``now``
        or before, or one asked for (``url`` not None) with another selector
        than their source's in ``selectors`` (a source not in it has none),
        the newest items first, at most ``limit``.  A page of another
        selector gives neither its validators (``previous``) nor its
        failures.  One query."""
        ...

    def save_pages(self, pages: Sequence[PageWrite]) -> None:
        """Store each page in place of the copy's earlier one, in one
        transaction (a savepoint inside the caller's); counts a change to what
        is published (the generation) when any gave an article.  Saving the
        same page twice stores it once."""
        ...

    def page_health(self, sources: Collection[str]) -> dict[str, PageHealth]:
        """Per source with pages stored: how many were asked for, how many
        failed, and the latest failure."""
        ...
