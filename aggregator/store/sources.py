"""Sources and their poll state: the storage a poll reads and writes.

source_states()            every source as stored      -> the decider (SourceState)
apply_poll(PollIntent)     what one poll decided       <- the decider
entry_digests / save_...   the source's last document, to parse only what is new
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from ..decide import PollIntent
from ..models import EntryDigests, SourceState


class SourceStore(Protocol):
    def sync_sources(self, sources: Iterable[tuple[str, str, str]]) -> None:
        """Make sure each configured (name, location, section) has a row, keeping its
        state.  A source whose location changed is a new subscription: its
        redirects, 410, validators, back-off and entry digests are forgotten (its
        items stay).  Writes nothing when nothing changed."""
        ...

    def source_states(self, *, counts: bool = True) -> list[SourceState]:
        """Every source's state, by name; ``counts=False`` leaves ``items_stored``
        None (counting reads every copy: a warm pass does not need it)."""
        ...

    def apply_poll(self, intent: PollIntent) -> None:
        """Store what one poll decided about a source (see :mod:`aggregator.decide`),
        in one transaction (a savepoint inside another): the failure, counted
        and with its retry-after; or the new validators and the feed's title,
        link and ``<ttl>``, the failures reset; the next due time; the redirect
        seen or the move confirmed; the source disabled.  Its items are stored
        apart, by the dedup stage, in the same outer transaction."""
        ...

    def entry_digests(self, name: str) -> EntryDigests | None:
        """What the source's last parsed document held (see :class:`EntryDigests`)."""
        ...

    def save_entry_digests(self, name: str, digests: EntryDigests | None) -> None:
        """Replace them; None: the source's last document is not remembered."""
        ...
