"""The storage seam: what the stages need from a database, as Protocols by topic.

    Store = SourceStore        sources and their poll state     (.sources)
          + ItemStore          items, copies, clusters          (.items)
          + NearDuplicateIndex signatures and band keys         (.index)
          + SummaryCache       summaries by input hash          (.summaries)
          + PageStore          each copy's article page         (.pages)
          + transactions, meta, close                           (here)

The contract every implementation keeps (``tests/store`` runs one suite over
each: SQLite, the embedded default, and PostgreSQL, for several processes on
several machines):

* **Errors.**  The database failing (cannot be opened, locked for too long,
  full, read-only, corrupt, closed) raises :class:`~aggregator.errors.StoreError`
  naming the database, from any call; it is the pass's failure, not one
  source's.  An error caused by the data written (an integrity or binding
  error) is left as the driver raised it, for the caller to treat as that
  data's.  A database of a newer schema than this program's is refused with
  a ``StoreError`` at open.
* **Migrations.**  Opening a store creates or migrates its schema, in one
  transaction; a database is never left half-migrated.
* **Transactions.**  Writes happen inside :meth:`Store.transaction`; inside
  another, a transaction is a savepoint whose failure undoes only its own
  writes.  ``apply_poll`` takes its own (nested) transaction; ``apply_merge``
  writes inside the caller's, whose savepoint per source undoes it.  Reads
  see what the open transaction wrote.
* **Threads.**  A store object is used from one thread at a time (the event
  loop's, in the pipeline); CPU-bound stages never see it.  Other processes
  may read the same database while one writes (``aggregate status`` beside
  the daemon).
* **Writers.**  SQLite has one writer at a time; PostgreSQL any number, in
  processes on several machines.  What keeps them apart is in the contract,
  so that code written against it is right for both: ``claim_due`` gives
  each due source to one caller, ``lock_for_merge`` makes merges that could
  match each other take turns.  Errors (the database failing) name the
  database; a URL's password is masked.
* **Dates.**  Every datetime in and out is timezone-aware UTC, to the second.
* **Idempotence.**  Saving a copy, a summary or a poll's intent twice stores
  it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from typing import Protocol

from .index import NearDuplicateIndex
from .items import ItemStore
from .pages import PageStore
from .sources import SourceStore
from .summaries import SummaryCache


class Store(SourceStore, ItemStore, NearDuplicateIndex, SummaryCache, PageStore, Protocol):
    # Whether its calls wait on a database server (PostgreSQL), not on this
    # process's own work (SQLite): the event loop's thread then spends much
    # of a poll waiting for answers (see aggregator.pipeline).
    remote: bool

    def transaction(self) -> AbstractContextManager[None]:
        """Writes inside commit together or not at all; inside another, a savepoint.

        A failed inner transaction undoes only its own writes.  The database
        failing raises :class:`~aggregator.errors.StoreError` (the pass's
        error); any other exception is the data's, and is left as it is.
        """
        ...

    def close(self) -> None: ...

    def get_meta(self, key: str) -> str | None:
        """A small named value (the generation, what was last published)."""
        ...

    def set_meta(self, key: str, value: str) -> None: ...

    def read_meta(self, prefix: str) -> dict[str, str]:
        """Every value whose key starts with ``prefix``, by key."""
        ...

    def take_meta(self, prefix: str) -> dict[str, str]:
        """Remove every value whose key starts with ``prefix``, and return them
        by key (what the jobs of one ``--once`` run left for it)."""
        ...

    def bump_generation(self) -> None:
        """Count a change to what is published (items, summaries, source titles)."""
        ...

    def save_published(self, state: str, files: Mapping[str, bytes]) -> None:
        """Keep the files just published (name relative to the output directory
        -> bytes) in place of the last ones, as of ``state`` (the publish's),
        in one transaction: every daemon sharing the store serves these.

        Writes only the files whose bytes changed, and deletes those not in
        ``files`` (see :mod:`.published`).  A reader on another connection
        sees the files of one save whole, the one before or this one; two
        saves at once take turns, so the files left are the last one's.
        """
        ...

    def published_files(self, *, unless: str | None = None) -> tuple[str | None, dict[str, bytes]]:
        """The state of the files last saved and the files, all of one save;
        (None, {}) before any; no files when the state is ``unless`` (a daemon
        asking whether they changed since its copy)."""
        ...

    def published_state(self) -> str | None:
        """The state of the files last saved, None before any; without reading them."""
        ...
