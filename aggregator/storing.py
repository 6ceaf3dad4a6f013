"""Storing one batch of polls: what each means, its entries, then its intent.

    store_batch(sources, fetched, ingested)     one transaction per batch (over
                                                PostgreSQL, per _lock_safe_runs run)
      per source: decide_poll (pure)            -> PollIntent
                  entries -> dedup.merge_copies -> new / merged / updated / unchanged
                  Store.apply_poll(intent)
      = a SourceResult per source, its log lines written once the batch is stored

A bug met while storing one source is that source's
:class:`~aggregator.errors.ProcessingError`: the batch is stored again with a
savepoint per source, so only that source's writes are undone.  A failing
store (:class:`~aggregator.errors.StoreError`) is the pass's.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, TypeAlias

from .config import Config, SourceConfig
from .decide import PollIntent, Skipped, decide_poll
from .errors import ProcessingError, SourceError, StoreError
from .fetching import PollOutcome
from .models import Fetched, SourceState
from .redact import redact_url
from .results import SourceResult
from .schedule import Timing
from .store import Store

if TYPE_CHECKING:
    from .dedup.crowded import CrowdedKeys
    from .ingest import Ingested

log = logging.getLogger(__name__)

_Stored: TypeAlias = "tuple[SourceResult, PollIntent | None]"
# A source's result, and whether its bytes were parsed: called in the
# transaction that stores it (see PollStorer.store_batch).
StoredResult: TypeAlias = Callable[[SourceResult, bool], None]


class PollStorer:
    """Stores polls in one store under one configuration (the pipeline's storing stage)."""

    def __init__(self, config: Config, store: Store, jitter: Callable[[], float]):
        self.config = config
        self.store = store
        self.jitter = jitter
        # The weak index keys found crowded (.dedup.crowded) between
        # begin_pass and end_pass; made by the first source with entries, as
        # importing the dedup stage imports numpy, which a pass of 304s
        # (most of whose time is start-up) does not need.
        self._crowded: CrowdedKeys | None = None
        self._in_pass = False

    def begin_pass(self) -> None:
        """Keep what look-ups learn of crowded index keys until :meth:`end_pass`.

        Only for the batches of one pass: deleting old items between passes
        (``retention``) may empty a key this would still take for crowded.
        """
        self._in_pass, self._crowded = True, None

    def end_pass(self) -> None:
        self._in_pass, self._crowded = False, None

    def store_batch(
        self,
        batch: Sequence[SourceConfig],
        states: Mapping[str, SourceState],
        fetched: Sequence[PollOutcome],
        ingested: dict[str, Ingested | SourceError],
        now: datetime,
        *,
        on_stored: StoredResult | None = None,
    ) -> list[SourceResult]:
        """Store a batch's polls in one transaction; each source's result, in
        order, its log lines written once the batch is stored.

        ``on_stored(result, parsed)`` is called for each source in the
        transaction that stores it, after its writes: what it writes too is
        stored with them or not at all (a ``--once``'s record of the poll,
        which a retried job then need not poll again).

        One commit per batch: a commit is most of the cost of storing a source
        that did not change, and a crash loses at most this batch, which the
        next pass fetches again.  A bug met while storing one source undoes
        only that source's writes, in a savepoint of its own; but only once a
        source has failed.  A savepoint journals again every page its writes
        change that was there before it (for the near-duplicate index's
        random keys, most of the pages a source writes), through a temporary
        file: a second of CPU in the benchmark's cold pass.  So the batch is
        stored without them, and when a source's bug interrupts it, undone and
        stored again, each source in a savepoint.  Storing is deterministic,
        so the second time meets the same bug, in the same source.

        Over a store that other processes write at the same time (PostgreSQL),
        at most one source with entries to store a transaction
        (:func:`_lock_safe_runs`): its merge takes the locks of its keys in
        one sorted sweep, then the generation's row, and a transaction that
        went on to lock another source's keys while holding those could
        deadlock with another process's doing the same (seen with two
        daemons' poll jobs of several sources each).  The polls that stored
        nothing but their source's own row (a 304, an error) join it: a warm
        pass commits once a batch.
        """
        if self.store.remote:
            runs = _lock_safe_runs(batch, ingested)
            if len(runs) > 1:
                return [
                    result
                    for run in runs
                    for result in self.store_batch(
                        batch[run], states, fetched[run], ingested, now, on_stored=on_stored
                    )
                ]

        def store_all(isolated: bool) -> list[_Stored]:
            done: list[_Stored] = []
            with self.store.transaction():
                if self.store.remote:
                    # Every row this transaction writes, locked first, in
                    # name order (see Store.lock_sources).
                    self.store.lock_sources(
                        [
                            s.name
                            for s, o in zip(batch, fetched, strict=True)
                            if not isinstance(o, Skipped)
                        ]
                    )
                for source, outcome in zip(batch, fetched, strict=True):
                    state = states[source.name]
                    if isinstance(outcome, Skipped):
                        result = SourceResult(source.name, skipped=outcome, next_due=state.next_due)
                        done.append((result, None))
                    elif isolated:
                        done.append(
                            self._store_isolated(
                                source, state, outcome, ingested.get(source.name), now
                            )
                        )
                    else:
                        done.append(
                            self._store_source(
                                source, state, outcome, ingested.get(source.name), now
                            )
                        )
                if on_stored is not None:
                    for source, (result, _intent) in zip(batch, done, strict=True):
                        on_stored(result, source.name in ingested)
            return done

        try:
            with _cycle_collector_paused():
                stored = store_all(isolated=False)
        except StoreError:
            raise  # the pass's end, and with it that of the crowded keys (end_pass)
        except Exception as exc:
            log.debug(
                "a source's bug stopped its batch; storing it again source by source: %r", exc
            )
            self._forget_crowded()  # it counted the copies just undone
            with _cycle_collector_paused():
                stored = store_all(isolated=True)
        for source, (_result, intent) in zip(batch, stored, strict=True):
            if intent is not None:
                _log_poll(source, states[source.name], intent)
        return [result for result, _intent in stored]

    def _forget_crowded(self) -> None:
        """After a failure: the crowded keys learned may count copies now undone."""
        if self._crowded is not None:
            self._crowded.clear()

    def _store_isolated(
        self,
        source: SourceConfig,
        stored: SourceState,
        fetched: Fetched | SourceError,
        ingested: Ingested | SourceError | None,
        now: datetime,
    ) -> tuple[SourceResult, PollIntent | None]:
        """Store one source's poll in a savepoint of its batch; a bug in doing
        so undoes only this source's writes and is recorded as its error."""
        try:
            with self.store.transaction():
                return self._store_source(source, stored, fetched, ingested, now)
        except StoreError:
            raise
        except Exception as exc:
            self._forget_crowded()
            error = (
                exc
                if isinstance(exc, ProcessingError)
                else ProcessingError.of(source.name, "storing", exc)
            )
            # The traceback is in ``details``; the frames need not live on.
            error.__cause__ = None
            error = error.with_traceback(None)
            try:
                with self.store.transaction():
                    return self._store_source(source, stored, error, None, now)
            except StoreError:
                raise
            except Exception as again:
                # Even recording the failure failed (scheduling it, say): the
                # line is still printed, and the stored state left as it was.
                log.debug("%s: recording the failure failed", source.name, exc_info=again)
                return SourceResult(source.name, error=error, next_due=stored.next_due), None

    def _store_source(
        self,
        source: SourceConfig,
        stored: SourceState,
        fetched: Fetched | SourceError,
        ingested: Ingested | SourceError | None,
        now: datetime,
    ) -> tuple[SourceResult, PollIntent]:
        """Decide what the poll means (:func:`.decide.decide_poll`), store the
        entries it read, then the intent (in the caller's transaction)."""
        parsed = (
            ingested.feed
            if ingested is not None and not isinstance(ingested, SourceError)
            else ingested
        )
        intent = decide_poll(
            stored,
            source.url,
            Timing(source.interval, self.config.min_interval, self.config.max_interval),
            fetched,
            parsed,
            now,
            jitter=self.jitter(),
        )
        result = SourceResult(
            source.name,
            error=intent.error,
            not_modified=intent.not_modified,
            next_due=intent.next_due,
        )
        if intent.feed is not None:
            assert ingested is not None and not isinstance(ingested, SourceError)
            self._store_items(source, ingested, result, now)
            if result.changed or intent.feed_changed:
                self.store.bump_generation()
            self.store.save_entry_digests(source.name, intent.feed.digests)
        self.store.apply_poll(intent)
        return result, intent

    def _store_items(
        self, source: SourceConfig, ingested: Ingested, result: SourceResult, now: datetime
    ) -> None:
        """The copies through the dedup stage: new, merged, updated or unchanged.

        One look-up, a decision per copy, one write (:func:`.dedup.merge.merge_copies`);
        a bug met on one copy is raised as this source's ProcessingError naming it.
        """
        from .dedup.crowded import CrowdedKeys
        from .dedup.merge import Outcome, merge_copies

        feed = ingested.feed
        result.warning = feed.warning
        result.unchanged = feed.unchanged  # not parsed: their bytes were there last time
        result.filtered = ingested.filtered
        if self._in_pass and self._crowded is None:
            self._crowded = CrowdedKeys()
        merged = merge_copies(
            self.store,
            source.name,
            source.section,
            ingested.copies,
            now,
            self.config.dedup,
            self._crowded,
        )
        for outcome, _item_id in merged:
            if outcome is Outcome.NEW:
                result.new += 1
            elif outcome is Outcome.MERGED:
                result.merged += 1
            elif outcome is Outcome.UPDATED:
                result.updated += 1
            else:
                result.unchanged += 1


def _lock_safe_runs(
    batch: Sequence[SourceConfig], ingested: Mapping[str, Ingested | SourceError]
) -> list[slice]:
    """The batch cut into runs that each hold one source with entries to
    store at most (a feed parsed: its merge and the generation are the locks
    other processes' transactions take too), in order."""
    runs: list[slice] = []
    start, merging = 0, False
    for n, source in enumerate(batch):
        parsed = ingested.get(source.name)
        if parsed is None or isinstance(parsed, SourceError):
            continue
        if merging:
            runs.append(slice(start, n))
            start = n
        merging = True
    runs.append(slice(start, len(batch)))
    return runs


@contextmanager
def _cycle_collector_paused() -> Iterator[None]:
    """Python's cycle collector off while a batch is stored.

    Storing a batch makes and drops some hundred thousand containers (look-up
    answers, decisions, rows), none of them in a cycle: each is freed as
    its last reference goes.  But every 700 of them start a collection, and
    every few dozen of those a walk over every object of the process (the
    batches fetched and parsed ahead among them): in the benchmark's cold
    pass a second of CPU, most of it for nothing.  Anything that does form
    a cycle is collected once the collector is on again, after the batch.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _log_poll(source: SourceConfig, stored: SourceState, intent: PollIntent) -> None:
    """What a stored poll says that the log should: its error, a 410, a move."""
    if intent.error is not None:
        if intent.error.details:
            log.debug("%s\n%s", intent.error, intent.error.details)
        log.warning("%s", intent.error)
    if intent.disable is not None:
        log.warning("%s: HTTP 410 Gone; the source is disabled", source.name)
    if intent.move_to is not None:
        log.warning(
            "%s: moved permanently from %s to %s",
            source.name,
            redact_url(stored.url or source.url or ""),
            redact_url(intent.move_to),
        )
