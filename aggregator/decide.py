"""What one poll means for a source: pure, ``now`` passed in.

    skip_poll(the source as stored, now)  -> Skipped, or None: poll it
    decide_poll(the source as stored, what the fetch returned, what parsing made of it, now)
      -> PollIntent: the error to record or the new validators, the feed's own
         title, link and <ttl>, the next due time, a redirect seen or a move
         confirmed, the source disabled

Nothing here reads a clock, draws a random number, sleeps or touches I/O: the
pipeline passes in ``now`` and the jitter, stores the items itself (see
:mod:`.dedup.merge`), and hands the intent to the store in one call
(``Store.apply_poll``).  The rules of time are :mod:`.schedule`'s; this module
decides which of them a poll's outcome calls for.

It does not decide which entries are new, changed or duplicates (the dedup
stage does, per copy) and does not log: the caller says what happened.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .errors import FetchError, ParseError, SourceError
from .models import Fetched, FetchState, ParsedFeed, SourceState
from .schedule import Timing, judge_redirect, next_due

GONE = "gone (HTTP 410): no longer polled"


@dataclass(frozen=True, slots=True)
class Skipped:
    """A source not polled this time, and why."""

    status: str  # "disabled" (410 Gone) or "deferred" (Retry-After)
    reason: str


def skip_poll(stored: SourceState, now: datetime) -> Skipped | None:
    """Why not to poll the source now, if there is a reason: it is gone, or its
    server asked for no request before a time still ahead."""
    if stored.disabled:
        return Skipped("disabled", stored.disabled)
    if stored.retry_after is not None and stored.retry_after > now:
        when = f"{stored.retry_after:%Y-%m-%d %H:%M:%SZ}"
        return Skipped("deferred", f"the server asked for no request before {when}")
    return None


def superseded(stored: SourceState, now: datetime) -> bool:
    """Whether a scheduled poll is no longer wanted: the source was polled since
    the poll was asked for (its next due time is ahead), or it is gone.

    A poll job may run twice (retried after its worker stopped) or after
    another one for the same due time; the schedule in the store says
    whether it still has anything to do.
    """
    if stored.disabled:
        return True
    return stored.next_due is not None and stored.next_due > now


@dataclass(frozen=True, slots=True)
class PollIntent:
    """What to store about a source after one poll, its items apart.

    Exactly one of three outcomes: a failure (``error`` set), a success with
    nothing new to read (``not_modified``), or a success whose entries were
    read (``feed`` set: its title, link and ``<ttl>`` are stored).
    """

    source: str
    when: datetime
    next_due: datetime | None  # None: never again (410 Gone)
    error: SourceError | None = None
    # Failures in a row, this poll's included (0 after a success): a count,
    # not an increment, so that applying the same intent twice stores it once.
    failures: int = 0
    # The validators of bytes that did not parse: the same bytes next time
    # are answered with the same error, without parsing them again.
    broken: FetchState | None = None
    fetch_state: FetchState | None = None  # a success's new validators
    not_modified: bool = False
    feed: ParsedFeed | None = None
    feed_changed: bool = False  # its title or link differ from the stored ones
    redirect_target: str | None = None  # a permanent redirect seen, not yet trusted
    redirect_count: int = 0
    move_to: str | None = None  # a permanent redirect confirmed: the new URL
    disable: str | None = None  # why the source is no longer polled

    @property
    def retry_after(self) -> datetime | None:
        """No request before then, as the server asked (429, 503)."""
        return self.error.retry_after if isinstance(self.error, FetchError) else None


def decide_poll(
    stored: SourceState,
    configured_url: str | None,
    timing: Timing,
    fetched: Fetched | SourceError,
    parsed: ParsedFeed | SourceError | None,
    now: datetime,
    *,
    jitter: float = 0.0,
) -> PollIntent:
    """The intent of one poll of ``stored``'s source.

    ``parsed`` is None when nothing was parsed (not modified, or a failed
    fetch); ``jitter`` is a number in [0, 1) that spreads failing sources'
    retries apart.
    """
    name = stored.name
    error = fetched if isinstance(fetched, SourceError) else None
    if error is None and isinstance(parsed, SourceError):
        error = parsed
    broken = None
    if isinstance(fetched, Fetched):
        if isinstance(parsed, ParseError):
            broken = fetched.state
        elif (
            fetched.not_modified
            and stored.broken_hash is not None
            and fetched.state.content_hash == stored.broken_hash
        ):
            # The same bytes that did not parse last time: the same error,
            # without parsing them again.
            error = ParseError(name, (stored.last_error or "").split(": ", 1)[-1])
            broken = fetched.state
    feed = parsed if isinstance(parsed, ParsedFeed) and error is None else None

    redirect = fetched.permanent_redirect if isinstance(fetched, Fetched) else None
    verdict = judge_redirect(redirect, stored.redirect_target, stored.redirect_count)
    move_to = verdict.move_to if verdict.move_to != (stored.url or configured_url) else None

    if error is not None:
        gone = isinstance(error, FetchError) and error.status == 410
        due = next_due(
            now,
            timing,
            failures=stored.consecutive_failures + 1,
            retry_after=error.retry_after if isinstance(error, FetchError) else None,
            gone=gone,
            jitter=jitter,
        )
        return PollIntent(
            name,
            now,
            due,
            error=error,
            failures=stored.consecutive_failures + 1,
            broken=broken,
            disable=GONE if gone else None,
            redirect_target=verdict.pending_target,
            redirect_count=verdict.seen_count,
            move_to=move_to,
        )

    assert isinstance(fetched, Fetched)
    ttl = feed.ttl_seconds if feed is not None else stored.feed_ttl
    hints = [h for h in (fetched.cache_seconds, ttl) if h]
    due = next_due(now, timing, cache_seconds=max(hints) if hints else None)
    return PollIntent(
        name,
        now,
        due,
        fetch_state=fetched.state,
        not_modified=feed is None,
        feed=feed,
        feed_changed=feed is not None
        and (feed.title, feed.link) != (stored.title, stored.site_link),
        redirect_target=verdict.pending_target,
        redirect_count=verdict.seen_count,
        move_to=move_to,
    )
