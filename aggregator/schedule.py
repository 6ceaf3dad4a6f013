"""When is a source next due?  Pure functions of stored state and ``now``.

Nothing here reads a clock, sleeps or touches I/O, so every rule is tested
with an injected ``now`` (and an injected random number for jitter).  The
rules, as Miniflux and Feedbin apply them:

* after a success: the source's interval, or longer if the server or feed
  asks (Cache-Control max-age, Expires, RSS ``<ttl>``, ``sy:updatePeriod``),
  clamped between the minimum and maximum interval;
* after a failure: exponential back-off from the interval with jitter, capped
  at the maximum interval, so a failing source is still tried at the cap;
* ``Retry-After`` (429, 503): no request before then, whatever else says;
* a source that answered 410 Gone is never due again.

It does not decide *whether* a response was a failure; the pipeline does.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

# After this many failures in a row a source is shown as failing.
FAILING_AFTER = 5
# Retry-After is honoured up to this long; beyond it the header is more
# likely a mistake than a plan, and the source is tried at the cap.
MAX_RETRY_AFTER = timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Timing:
    interval: float  # seconds between polls of a healthy source
    min_interval: float
    max_interval: float

    def clamp(self, seconds: float) -> float:
        return max(self.min_interval, min(self.max_interval, seconds))


def next_due(
    now: datetime,
    timing: Timing,
    *,
    failures: int = 0,
    cache_seconds: float | None = None,
    retry_after: datetime | None = None,
    gone: bool = False,
    jitter: float = 0.0,
) -> datetime | None:
    """The next poll after a poll at ``now``; None when never (410 Gone).

    ``failures`` counts consecutive failures including this one; ``jitter``
    is a number in [0, 1) that spreads sources apart (random in production).
    """
    if gone:
        return None
    if failures > 0:
        # interval, 2x, 4x, ... up to the cap; jitter adds up to a quarter so
        # sources that failed together do not retry together.
        backoff = timing.interval * 2.0 ** min(failures - 1, 30)
        delay = min(backoff * (1.0 + 0.25 * jitter), timing.max_interval)
        delay = max(delay, timing.min_interval)
    else:
        delay = timing.clamp(max(timing.interval, cache_seconds or 0.0))
    due = now + timedelta(seconds=delay)
    if retry_after is not None:
        due = max(due, min(retry_after, now + MAX_RETRY_AFTER))
    return due


def first_due(now: datetime, timing: Timing, name: str, stored: datetime | None) -> datetime:
    """When a newly started scheduler first polls a source.

    A stored due time in the future is kept (a restart must not hammer a
    source that asked for a pause); otherwise sources are spread over the
    first tenth of their interval by a hash of their name, so they do not
    all fire at once, and the same source lands on the same offset each time.
    """
    if stored is not None and stored > now:
        return stored
    offset = stable_fraction(name) * min(timing.interval / 10.0, 60.0)
    return now + timedelta(seconds=offset)


def stable_fraction(name: str) -> float:
    """A number in [0, 1) fixed by ``name``."""
    digest = hashlib.sha256(name.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def is_failing(failures: int) -> bool:
    return failures >= FAILING_AFTER


def cache_lifetime(
    max_age: float | None, expires: datetime | None, date: datetime | None, ttl: float | None
) -> float | None:
    """How long the server or feed asks us to wait, in seconds, from all hints.

    ``Expires`` is read relative to the response's ``Date`` (RFC 9111), so a
    skewed server clock does not matter.  The longest hint wins: each one is
    a request not to come back sooner.
    """
    hints = [h for h in (max_age, ttl) if h is not None and h > 0]
    if expires is not None and date is not None:
        lifetime = (expires - date).total_seconds()
        if lifetime > 0:
            hints.append(lifetime)
    return max(hints) if hints else None


@dataclass(frozen=True, slots=True)
class RedirectVerdict:
    pending_target: str | None  # a permanent redirect seen, not yet trusted
    seen_count: int
    move_to: str | None  # trusted: change the stored URL to this


# The same permanent redirect on this many polls in a row moves the source.
REDIRECT_CONFIRMATIONS = 3


def judge_redirect(target: str | None, pending: str | None, count: int) -> RedirectVerdict:
    """Move a subscription only after the same 301/308 on several polls in a
    row, so a hijacked or flapping redirect does not move it at once."""
    if target is None:
        return RedirectVerdict(None, 0, None)
    count = count + 1 if target == pending else 1
    if count >= REDIRECT_CONFIRMATIONS:
        return RedirectVerdict(None, 0, target)
    return RedirectVerdict(target, count, None)
