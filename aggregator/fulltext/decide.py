"""Which copies' pages to fetch, and when to try a failed one again: pure, ``now`` passed in.

    plan_pages(copies with no page for their text, the sources' settings, the pass's cap, now)
      -> PagePlan: the pages to fetch (at most the cap), each with its
         source's full_text_selector, and what to store for the copies that
         need none (full_text: auto and text long enough, or no http(s) link)
    next_try(the page's failures before, why it failed now, now)
      -> when to fetch it again, or None: never, for the copy's current text

Nothing here fetches, reads a clock or touches the store; the stage
(:mod:`.stage`) does, with what this decided.  A copy left out by the cap
gets no row: the store offers it again next pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from ..addresses import host_name
from ..config import SourceConfig
from ..request_headers import ScopedHeaders
from ..store.pages import PageCandidate, PageWrite

# A page whose fetch failed in a way that may pass (a timeout, a dropped
# connection, a 429 or 5xx) is fetched again after RETRY_FIRST, then after
# RETRY_GROWTH times as long each time, PAGE_RETRIES times at most: 30
# minutes, 2 hours, 8 hours.  A site that is down for a morning still gives
# its articles; one that keeps failing costs four requests per story, not
# one every pass.  A page answered for good (a 404, no article in it) is
# not fetched again until the copy's text changes.
PAGE_RETRIES = 3
RETRY_FIRST = timedelta(minutes=30)
RETRY_GROWTH = 4
# A server's Retry-After is followed when it asks for longer, up to this.
RETRY_AFTER_CAP = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PageFailure:
    """Why a page could not be fetched, and whether asking again later may help."""

    reason: str
    transient: bool = False
    retry_after: datetime | None = None  # the server's Retry-After, if it sent one


@dataclass(frozen=True, slots=True)
class PageFetch:
    """A copy's page to fetch, the hosts on which it may be on a private
    address, its source's own headers (sent on its feed's origin only), and
    its source's ``full_text_selector`` (None: the extractor's choice)."""

    candidate: PageCandidate
    url: str
    private_hosts: frozenset[str]
    headers: ScopedHeaders | None = None
    selector: str | None = None


@dataclass(frozen=True, slots=True)
class PagePlan:
    fetch: list[PageFetch] = field(default_factory=list)
    not_needed: list[PageWrite] = field(default_factory=list)


def plan_pages(
    candidates: Sequence[PageCandidate],
    sources: Mapping[str, SourceConfig],
    limit: int,
    now: datetime,
) -> PagePlan:
    """What to do with each copy that has no page decided for its text, in
    the given order (newest first), fetching at most ``limit`` pages."""
    plan = PagePlan()
    for candidate in candidates:
        source = sources.get(candidate.source)
        if source is None or source.full_text == "off":
            continue  # not this pass's to decide: its source is not being updated
        link = candidate.link
        no_page = link is None or urlsplit(link).scheme.lower() not in ("http", "https")
        long_enough = source.full_text == "auto" and (
            word_count(candidate.content_html) >= source.full_text_min_words
        )
        if no_page or long_enough:
            plan.not_needed.append(_no_page(candidate, now))
        elif len(plan.fetch) < limit:
            assert link is not None
            plan.fetch.append(
                PageFetch(
                    candidate,
                    link,
                    private_hosts(source),
                    # A cookie-walled site wants its cookie for its pages
                    # too; ScopedHeaders sends it to no other site's.
                    ScopedHeaders.of(source.headers, source.url),
                    source.full_text_selector,
                )
            )
    return plan


def private_hosts(source: SourceConfig) -> frozenset[str]:
    """The hosts on which the source's pages may be on a private address:
    those its ``allow_private`` lists; with ``allow_private: true``, its
    feed's, and no other.

    ``true`` says where the feed lives, not where its items may point: a
    feed made on localhost from public sites (a bridge) carries links their
    authors chose, and a page there redirecting to 169.254.169.254 must meet
    the guard.  A list names the hosts the user trusts, the feed's and its
    pages' alike (an intranet feed on news.corp linking to wiki.corp).  With
    ``true``, a source read from files has no feed host, so its pages are
    never private.
    """
    if isinstance(source.allow_private, frozenset):
        return source.allow_private
    if not source.allow_private or source.url is None:
        return frozenset()
    host = host_name(urlsplit(source.url).hostname or "")
    return frozenset({host}) if host else frozenset()


def next_try(failures_before: int, failure: PageFailure, now: datetime) -> datetime | None:
    """When to fetch again a page that failed now, after ``failures_before``
    failures for the same text; None: not until that text changes."""
    if not failure.transient or failures_before >= PAGE_RETRIES:
        return None
    wait = RETRY_FIRST * int(RETRY_GROWTH**failures_before)
    if failure.retry_after is not None:
        wait = max(wait, min(failure.retry_after - now, RETRY_AFTER_CAP))
    return now + wait


def word_count(html: str) -> int:
    from ..parse.normalize import plain_text  # nh3: only where pages are planned

    return len(plain_text(html).split())


def _no_page(candidate: PageCandidate, now: datetime) -> PageWrite:
    return PageWrite(candidate.source, candidate.entry_key, candidate.content_hash, None, now)
