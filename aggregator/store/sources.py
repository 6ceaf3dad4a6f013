"""Sources and their poll state: the storage a poll reads and writes.

source_states()            every source as stored      -> the decider (SourceState)
claim_due(now, lease, n)   the sources due now, each to one poller only (the schedule as data)
apply_poll(PollIntent)     what one poll decided       <- the decider; ends the source's claim
entry_digests / save_...   the source's last document, to parse only what is new

StatesInOrder(store, names)   source_states() of a long list, read a chunk at a time
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
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

    def lock_sources(self, names: Collection[str]) -> None:
        """Inside a transaction about to store the polls of ``names``: take
        their rows' locks now, all at once, in name order, as
        :meth:`sync_sources` does, so that storing several sources in one
        transaction never waits for another writer while holding some of
        them.  Nothing to do where one writer at a time is the rule (SQLite)."""
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


class StatesInOrder(Mapping[str, SourceState]):
    """The stored states of ``names`` (``counts=False``), for a reader that goes
    through them in about that order: read from the store :data:`CHUNK` names
    at a time, when one of them is first asked for, and forgotten once the
    chunk after the next is read.

    All of them at once grow with the sources (some 1 KB each: 9.5 MB for
    ten thousand); these, not.  A pass reads them in order, fetching at most
    some sixty sources ahead of storing (:mod:`aggregator.ahead`), far less
    than a chunk.
    A chunk asked for again after it was forgotten is read again, as stored
    by then.  Iterates over ``names``, each of which must have a row
    (:meth:`SourceStore.sync_sources`); a name without one is a ``KeyError``.
    """

    CHUNK = 500

    def __init__(self, store: SourceStore, names: Sequence[str]):
        self._store = store
        self._names = list(names)
        self._chunk_of = {name: n // self.CHUNK for n, name in enumerate(self._names)}
        self._held: dict[int, dict[str, SourceState]] = {}

    def __getitem__(self, name: str) -> SourceState:
        chunk = self._chunk_of[name]
        states = self._held.get(chunk)
        if states is None:
            names = self._names[chunk * self.CHUNK : (chunk + 1) * self.CHUNK]
            states = {s.name: s for s in self._store.source_states(counts=False, names=names)}
            for old in [held for held in self._held if held < chunk - 1]:
                del self._held[old]
            self._held[chunk] = states
        return states[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
