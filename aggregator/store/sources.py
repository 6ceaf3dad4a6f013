"""Sources and their poll state: the storage a poll reads and writes.

source_states()            every source as stored      -> the decider (SourceState)
claim_due(now, lease, n)   the sources due now, each to one poller only (the schedule as data)
apply_poll(PollIntent)     what one poll decided       <- the decider; ends the source's claim
entry_digests / save_...   the source's last document, to parse only what is new
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Protocol

from ..decide import PollIntent
from ..models import EntryDigests, SourceState


class SourceStore(Protocol):
    def sync_sources(self, sources: Iterable[tuple[str, str, str]]) -> None:
        """Make sure each configured (name, location, section) has a row, keeping its
        state.  A source whose location changed is a new subscription: its
        redirects, 410, validators, back-off and entry digests are forgotten (its
        items stay), and so is a claim on it (see :meth:`claim_due`).  Writes
        nothing when nothing changed."""
        ...

    def source_states(
        self, *, counts: bool = True, names: Collection[str] | None = None
    ) -> list[SourceState]:
        """Every source's state (or those of ``names`` that exist), by name;
        ``counts=False`` leaves ``items_stored`` None (counting reads every
        copy: a warm pass does not need it)."""
        ...

    def claim_due(self, now: datetime, *, lease: timedelta, limit: int) -> list[str]:
        """Claim up to ``limit`` due sources until ``now + lease``; their names,
        earliest due first (never polled first, then by name).

        A source is due when it is not disabled, its next due time is at or
        before ``now`` or unset (never polled), and it is not claimed: no
        claim, or one that expired before ``now`` (its poller died or gave
        up; the lease is how long a poll may take).  A claim ends with the
        source's :meth:`apply_poll`, or when :meth:`sync_sources` moves it.

        Atomic: callers at once, in any processes on any machines, never get
        the same source; each gets what the others left.  Its own transaction
        (a savepoint inside another, whose end releases the claim's row lock:
        commit soon).  One indexed query however many sources are stored:
        this is the schedule, read by a periodic tick.
        """
        ...

    def apply_poll(self, intent: PollIntent) -> None:
        """Store what one poll decided about a source (see :mod:`aggregator.decide`),
        in one transaction (a savepoint inside another): the failure, counted
        and with its retry-after; or the new validators and the feed's title,
        link and ``<ttl>``, the failures reset; the next due time; the redirect
        seen or the move confirmed; the source disabled; its claim ended.  Its items are stored
        apart, by the dedup stage, in the same outer transaction."""
        ...

    def entry_digests(self, name: str) -> EntryDigests | None:
        """What the source's last parsed document held (see :class:`EntryDigests`)."""
        ...

    def save_entry_digests(self, name: str, digests: EntryDigests | None) -> None:
        """Replace them; None: the source's last document is not remembered."""
        ...
