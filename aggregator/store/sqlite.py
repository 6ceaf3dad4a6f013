"""SQLite storage: WAL, versioned schema, one transaction per unit of work.

Why it is safe to kill at any moment: every change happens inside
:meth:`SqliteStore.transaction`, and SQLite in WAL mode either has a
committed transaction whole or not at all.  ``synchronous=NORMAL`` can lose the
last transactions on a power cut, never on a process crash.

Times are stored as ISO 8601 UTC text with second precision, which sorts in
time order in any SQL database.

Look-ups that take many keys bind them as values, in chunks under SQLite's
limit on bound values; a set of ids to leave out is bound as one JSON array
(``json_each``, built into SQLite since 3.38 and in most builds before).
"""

from __future__ import annotations

import functools
import json
import os
import re
import sqlite3
import struct
import threading
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

from ..decide import PollIntent
from ..errors import StoreError
from ..models import EntryDigests, FetchState, SourceRef, SourceState, Summary
from .index import BAND_HITS_LIMIT, BandHits, BandQuery, Candidate, IndexedCopy
from .items import (
    PENDING,
    ClusterMember,
    CopyForMerge,
    CopyRecord,
    DuplicateCluster,
    ItemMatch,
    ItemWrite,
    MergeIntent,
    StoredItem,
    media_json,
)
from .pages import NO_SELECTORS, PageCandidate, PageHealth, PageWrite
from .published import published_changes
from .rows import feed_url, page_candidate, source_state, stored_item

if TYPE_CHECKING:
    from .band_filter import BandFilter

# Each entry migrates from version i to i + 1.  Append, never edit.
MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE sources (
        name TEXT PRIMARY KEY,
        location TEXT NOT NULL,
        section TEXT NOT NULL,
        title TEXT,
        site_link TEXT,
        etag TEXT,
        last_modified TEXT,
        content_hash TEXT,
        last_fetch TEXT,
        last_success TEXT,
        last_error TEXT,
        consecutive_failures INTEGER NOT NULL DEFAULT 0,
        next_due TEXT,
        broken_hash TEXT,
        url TEXT,
        redirect_target TEXT,
        redirect_count INTEGER NOT NULL DEFAULT 0,
        disabled TEXT,
        feed_ttl REAL,
        retry_after TEXT
    );
    CREATE TABLE items (
        id INTEGER PRIMARY KEY,
        uid TEXT NOT NULL UNIQUE,
        section TEXT NOT NULL,
        title TEXT NOT NULL,
        link TEXT,
        canonical_url TEXT,
        fingerprint TEXT,
        published TEXT NOT NULL,
        updated TEXT NOT NULL,
        content_html TEXT NOT NULL,
        author TEXT,
        language TEXT,
        lead_source TEXT NOT NULL,
        first_seen TEXT NOT NULL
    );
    CREATE INDEX items_by_canonical_url ON items (canonical_url);
    CREATE INDEX items_by_fingerprint ON items (fingerprint);
    CREATE INDEX items_by_published ON items (published, uid);
    CREATE TABLE item_sources (
        source TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        link TEXT,
        content_hash TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        PRIMARY KEY (source, entry_key)
    );
    CREATE INDEX item_sources_by_item ON item_sources (item_id);
    CREATE TABLE summaries (
        key TEXT PRIMARY KEY,
        summary TEXT NOT NULL
    );
    """,
    # The near-duplicate index: each copy's signature, how it joined its item,
    # and one row per LSH band key.  Dates are whole seconds since 1970 (UTC),
    # so the window is an integer range on the band index.
    """
    CREATE TABLE dedup_copies (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        item_id INTEGER NOT NULL REFERENCES items (id),
        title TEXT NOT NULL,
        at INTEGER NOT NULL,
        signature BLOB NOT NULL,
        bands BLOB NOT NULL,
        method TEXT NOT NULL,
        score REAL,
        matched INTEGER,
        shown INTEGER NOT NULL DEFAULT 0,
        UNIQUE (source, entry_key)
    );
    CREATE INDEX dedup_copies_by_item ON dedup_copies (item_id);
    CREATE TABLE dedup_bands (
        band INTEGER NOT NULL,
        at INTEGER NOT NULL,
        copy_id INTEGER NOT NULL
    );
    CREATE INDEX dedup_bands_by_band ON dedup_bands (band, at, copy_id);
    """,
    # Small facts about the store as a whole: the generation counter that
    # publishing compares to know whether anything changed since it last ran.
    """
    CREATE TABLE meta (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    INSERT INTO meta (key, value) VALUES ('generation', '0');
    """,
    # What each source's last parsed document held (EntryDigests.to_bytes):
    # a table of its own, as only a source that changed reads or writes it.
    """
    CREATE TABLE entry_digests (
        source TEXT PRIMARY KEY,
        digests BLOB NOT NULL
    );
    """,
    # The schedule as data: a source claimed by a poller until a time
    # (claim_due), and the index that finds the due ones.  Never polled (no
    # next_due) sorts first, and as a value: "due by now" is a range of it.
    """
    ALTER TABLE sources ADD COLUMN claimed_until TEXT;
    CREATE INDEX sources_due ON sources (COALESCE(next_due, ''), name) WHERE disabled IS NULL;
    """,
    # The files last published, for every daemon sharing the store to serve
    # (save_published); their state is the meta key 'published_files'.
    """
    CREATE TABLE published_files (
        name TEXT PRIMARY KEY,
        body BLOB NOT NULL
    );
    """,
    # An item's enclosures and main image (items.media_json), NULL for none.
    """
    ALTER TABLE items ADD COLUMN media TEXT;
    """,
    # Each copy's article page (store.pages), decided for its content hash.
    """
    CREATE TABLE pages (
        source TEXT NOT NULL,
        entry_key TEXT NOT NULL,
        content_hash TEXT NOT NULL,
        url TEXT,
        etag TEXT,
        last_modified TEXT,
        page_hash TEXT,
        article_html TEXT,
        error TEXT,
        decided TEXT NOT NULL,
        PRIMARY KEY (source, entry_key)
    );
    """,
    # The band keys as the index alone, without a table beside it: every
    # look-up reads (band, at, copy_id) from the index, and each copy writes
    # some twenty keys, so a row written once instead of twice halves the
    # largest part of a copy's writes.
    """
    CREATE TABLE dedup_keys (
        band INTEGER NOT NULL,
        at INTEGER NOT NULL,
        copy_id INTEGER NOT NULL,
        PRIMARY KEY (band, at, copy_id)
    ) WITHOUT ROWID;
    INSERT OR IGNORE INTO dedup_keys (band, at, copy_id) SELECT band, at, copy_id FROM dedup_bands;
    DROP TABLE dedup_bands;
    ALTER TABLE dedup_keys RENAME TO dedup_bands;
    """,
    # New band keys are written here first, and moved to dedup_bands in key
    # order once there are enough of them (see SqliteStore._add_bands); the
    # meta key counts the keys moved, of which dedup_bands holds about as many.
    """
    CREATE TABLE dedup_bands_recent (
        band INTEGER NOT NULL,
        at INTEGER NOT NULL,
        copy_id INTEGER NOT NULL,
        PRIMARY KEY (band, at, copy_id)
    ) WITHOUT ROWID;
    INSERT INTO meta (key, value) SELECT 'dedup_bands_moved', COUNT(*) FROM dedup_bands;
    """,
    # A page's failed fetches for its copy's text, and when to try it again
    # (fulltext.decide.next_try); NULL: not for this text.
    """
    ALTER TABLE pages ADD COLUMN failures INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE pages ADD COLUMN retry_at TEXT;
    """,
    # The full_text_selector a page asked for was extracted with; NULL:
    # none (trafilatura's choice), as every page stored before was.
    """
    ALTER TABLE pages ADD COLUMN selector TEXT;
    """,
    # Each published file's digest (store.published.file_digest), so that a
    # save writes only the files that changed; NULL: saved before, written
    # once more by the next save.
    """
    ALTER TABLE published_files ADD COLUMN digest TEXT;
    """,
)

# A common table expression that SQLite is told to compute once (3.35 and
# later; before, it chose for itself, and the query is only slower).
_MATERIALIZED = "MATERIALIZED " if sqlite3.sqlite_version_info >= (3, 35) else ""
# Arms of one UNION ALL of band_hits: under SQLite's limit on compound
# SELECTs (500) and, with up to 5 values an arm, on bound values (999 before 3.32).
_ARMS = 150
# Band keys held in dedup_bands_recent before they move to dedup_bands (see
# SqliteStore._add_bands): at least RECENT_BANDS (some 3 MB of pages), else a
# RECENT_SHARE of those moved before, so that moving them costs the same per
# key however large the index; at most MAX_RECENT_BANDS (9 MB, of the 16 MB
# page cache).
RECENT_BANDS = 131_072
_BAND_TABLES = ("dedup_bands", "dedup_bands_recent")  # the main one, the recent keys
RECENT_SHARE = 1 / 16
MAX_RECENT_BANDS = 393_216
# Statements of band_hits are prepared for a multiple of this many arms: a
# statement of a hundred arms takes most of a millisecond to prepare, and
# SQLite's cache of prepared statements holds only so many sizes.
_ARMS_STEP = 10
_T = TypeVar("_T")
# Bands probed by statement, as a share of the keys indexed, after which
# reading every key into a filter (SqliteStore._current_band_filter) pays: a
# key read costs some eighth of a probe.  A pass that adds a few copies to a
# large index (a daemon's, a warm one) probes far fewer and reads none.
BAND_FILTER_AFTER = 1 / 8
# Bytes of write-ahead log kept on disk once it starts over: a log keeps
# the size of the largest stretch of commits between two checkpoints, which
# a daemon would otherwise hold on disk for as long as it runs.  Starting
# over, the writer cuts it back to this; the space below it is reused.  A
# cold pass of 10,000 feeds cuts it some 20 times (its storing thread
# truncated files 522 times against 505 without the limit) and took 158.4
# and 158.6 s, against 154.7 to 165.8 s without it.
WAL_SIZE_LIMIT = 64 * 1024 * 1024
# Seconds between two checkpoints of the thread that makes them (Checkpoints).
CHECKPOINT_EVERY = 0.25

_COPY_COLUMNS = (
    "c.id, c.source, c.entry_key, c.item_id, c.title, c.at, c.signature, c.bands, c.method, "
    "c.score, c.matched, c.shown"
)
# An item's text: its lead copy's article (store.pages) when that copy's
# page gave one for its current text, else the feed's.
_ITEM_TEXT = (
    "COALESCE((SELECT p.article_html FROM item_sources s JOIN pages p "
    "ON p.source = s.source AND p.entry_key = s.entry_key AND p.content_hash = s.content_hash "
    "WHERE s.item_id = items.id AND s.source = items.lead_source "
    "AND p.article_html IS NOT NULL LIMIT 1), content_html)"
)
_ITEM_COLUMNS = (
    f"id, uid, section, title, link, published, updated, {_ITEM_TEXT}, author, language, "
    "lead_source, media"
)


def to_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    # In UTC before the cache: in other zones, datetimes equal as keys may be
    # other instants (fold).
    return _utc_text(value if value.tzinfo is UTC else value.astimezone(UTC))


# A pass writes the same instant (its start) for every source it polls.
@functools.lru_cache(maxsize=256)
def _utc_text(value: datetime) -> str:
    # Not strftime: it does not pad years before 1000, which would neither
    # sort nor read back.
    return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"


def from_text(value: str | None) -> datetime | None:
    if value is None:
        return None
    # fromisoformat is fifty times faster than strptime, and every source's
    # dates are read at the start of each pass.
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def _damage_hint(exc: sqlite3.Error) -> str:
    """What to do about a damaged database file, for the error's line."""
    if getattr(exc, "sqlite_errorname", None) not in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
        return ""
    return (
        "; the file is damaged: restore it from a backup, or move it (with its "
        "-wal and -shm files) aside to start afresh"
    )


def why_unusable(path: Path, error: BaseException) -> str:
    """Why the database at ``path`` cannot be opened or created, naming what is in the way.

    SQLite says only "unable to open database file", and ``mkdir`` under a
    file says "File exists" about the file: the nearest existing ancestor
    tells more.  Other errors (a file that is not a database) keep their words.
    """
    if isinstance(error, sqlite3.Error) and not re.search("unable to open|readonly", str(error)):
        return f"{error}{_damage_hint(error)}"
    if path.is_dir():
        return f"{path} is a directory"
    for parent in path.parents:
        if not parent.exists():
            continue
        if not parent.is_dir():
            return f"{parent} is not a directory"
        try:
            read_only = bool(os.statvfs(parent).f_flag & os.ST_RDONLY)
        except OSError:
            read_only = False
        if read_only:
            return f"{parent} is on a read-only file system"
        break
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return str(error)


class Checkpoints:
    """Copies committed pages from the write-ahead log into the database file
    on a thread of its own, with a connection of its own.

    SQLite copies them on the connection whose commit filled the log
    (``wal_autocheckpoint``): in the thread that stores, and with two
    flushes to disk.  Beyond some 100 MB of indexes, every batch changes
    pages all over them, and that copy was a large share of a cold pass's
    storing.  A PASSIVE checkpoint waits for no reader or writer, the
    writer goes on appending meanwhile, and Python's sqlite3 lets other
    threads run while SQLite works.  One at most every ``every`` seconds:
    each one flushes the database file, and pages changed again and again
    are copied once for many commits.  The writer's own checkpoint stays the
    backstop when the log outgrows its limit.
    """

    def __init__(self, path: Path, *, every: float | None = None):
        self.path = path
        self.every = CHECKPOINT_EVERY if every is None else every
        # Set after each checkpoint, for whoever waits for one (tests do).
        self.copied = threading.Event()
        self._wanted = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def after_commit(self) -> None:
        """The log has grown: copy it soon.  The thread starts on the first commit."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"checkpoints of {self.path.name}", daemon=True
            )
            self._thread.start()
        self._wanted.set()

    def close(self) -> None:
        """Stop, once the checkpoint under way (if any) is done."""
        if self._thread is not None:
            self._closing.set()
            self._wanted.set()
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        try:
            db = sqlite3.connect(self.path, isolation_level=None)
        except sqlite3.Error:
            return  # the writer's own checkpoints go on
        try:
            while True:
                self._wanted.wait()
                if self._closing.is_set():
                    return
                self._wanted.clear()
                # Busy (another checkpoint under way) or failing: the next
                # commit asks again, and the writer's backstop remains.
                with suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                self.copied.set()
                if self._closing.wait(self.every):
                    return
        finally:
            db.close()


_P = ParamSpec("_P")
_R = TypeVar("_R")


def _translated(
    method: Callable[Concatenate[SqliteStore, _P], _R],
) -> Callable[Concatenate[SqliteStore, _P], _R]:
    """The database's failures, from this method, as one-line StoreErrors:
    outside a transaction too (a read of a corrupt file, a locked database)."""

    @functools.wraps(method)
    def wrapper(store: SqliteStore, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with store.failures():
            return method(store, *args, **kwargs)

    return wrapper


class SqliteStore:
    """The :class:`~aggregator.store.base.Store` over one SQLite file."""

    remote = False

    def __init__(self, path: Path | str):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: transactions are ours, begun explicitly.
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30.0)
        except sqlite3.Error as exc:
            raise StoreError(
                f"cannot open the database {self.path}: {why_unusable(self.path, exc)}"
            ) from exc
        except OSError as exc:
            raise StoreError(
                f"cannot create the database {self.path}: {why_unusable(self.path, exc)}"
            ) from exc
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # Each item writes a few random pages of indexes (most of them the
            # near-duplicate index): a cache and fewer, larger checkpoints keep
            # a pass from reading and rewriting them again.  Checkpoints are
            # made beside this connection (Checkpoints); its own, when the log
            # outgrows the limit, are the backstop.  Not a larger
            # cache: it is memory of this process, and pages it misses come
            # from the operating system's cache for a system call each.
            self._db.execute("PRAGMA cache_size=-16384")  # KiB
            self._db.execute("PRAGMA wal_autocheckpoint=10000")  # pages
            self._db.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
            self._migrate()
        except BaseException as exc:
            # Not left for the garbage collector: a connection it finds open
            # is a ResourceWarning from Python 3.13 on, and holds the file.
            self._db.close()
            if isinstance(exc, sqlite3.Error):
                raise StoreError(
                    f"cannot open the database {self.path}: {why_unusable(self.path, exc)}"
                ) from exc
            raise
        self._in_transaction = False
        self._checkpoints = Checkpoints(self.path)
        # Rows in dedup_bands_recent, counted once they are first needed.
        # Other connections may add some unseen: it only says when to move them.
        self._recent_bands: int | None = None
        self._move_bands_at = RECENT_BANDS
        # The band keys of both tables in memory (see _current_band_filter), once
        # reading them costs less than the look-ups they save; with the
        # data_version it was read at, to drop it when another connection writes.
        self._band_filter: BandFilter | None = None
        self._band_filter_version: int | None = None
        self._bands_probed = 0  # by a statement, while there was no filter
        self._band_filter_after = BAND_FILTER_AFTER

    # -- housekeeping -------------------------------------------------------

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER)")
            row = self._db.execute("SELECT version FROM schema_version").fetchone()
            version = row[0] if row else 0
            if version > len(MIGRATIONS):
                raise StoreError(
                    f"the database {self.path} has schema version {version}, newer than this "
                    f"program's {len(MIGRATIONS)}; upgrade aggregator"
                )
            for script in MIGRATIONS[version:]:
                for statement in script.split(";"):
                    if statement.strip():
                        self._db.execute(statement)
            if row is None:
                self._db.execute("INSERT INTO schema_version VALUES (?)", (len(MIGRATIONS),))
            else:
                self._db.execute("UPDATE schema_version SET version = ?", (len(MIGRATIONS),))
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All writes inside are committed together or not at all.

        A transaction inside another is a savepoint: when it fails, what it
        wrote is undone and the outer one goes on, so one source's failure
        does not undo the other sources of its batch.  The database itself
        failing (locked, full, read-only, corrupt, closed) raises
        :class:`StoreError` from any depth; a failure caused by the data
        written (an integrity or binding error) is left as it is, for the
        caller to treat as that data's.
        """
        if self._in_transaction:
            with self.failures():
                self._db.execute("SAVEPOINT nested")
            try:
                with self.failures():
                    yield
            except BaseException:
                with self.failures():
                    self._db.execute("ROLLBACK TO nested")
                    self._db.execute("RELEASE nested")
                raise
            with self.failures():
                self._db.execute("RELEASE nested")
            return
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: cannot start a transaction: {exc}") from exc
        self._in_transaction = True
        try:
            with self.failures():
                yield
        except BaseException:
            with suppress(sqlite3.Error):  # a failed commit may have ended it already
                self._db.execute("ROLLBACK")
            raise
        else:
            try:
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                raise StoreError(f"{self.path}: cannot commit: {exc}") from exc
            self._checkpoints.after_commit()
        finally:
            self._in_transaction = False

    @contextmanager
    def failures(self) -> Iterator[None]:
        """The database's own failures as :class:`StoreError`; the data's left alone."""
        try:
            yield
        except (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError):
            raise
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}{_damage_hint(exc)}") from exc

    def close(self) -> None:
        self._checkpoints.close()
        self._db.close()

    # -- meta -----------------------------------------------------------------

    @_translated
    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    @_translated
    def set_meta(self, key: str, value: str) -> None:
        self._db.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    @_translated
    def read_meta(self, prefix: str) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?", (len(prefix), prefix)
        ).fetchall()
        return {str(key): str(value) for key, value in rows}

    @_translated
    def take_meta(self, prefix: str) -> dict[str, str]:
        with self.transaction():
            rows = self._db.execute(
                "DELETE FROM meta WHERE substr(key, 1, ?) = ? RETURNING key, value",
                (len(prefix), prefix),
            ).fetchall()
        return {str(key): str(value) for key, value in rows}

    @_translated
    def save_published(self, state: str, files: Mapping[str, bytes]) -> None:
        # One writer at a time (BEGIN IMMEDIATE): the digests read are still
        # the table's when the changes are written.
        with self.transaction():
            stored = self._db.execute("SELECT name, digest FROM published_files").fetchall()
            changes = published_changes(dict(stored), files)
            self._db.executemany(
                "DELETE FROM published_files WHERE name = ?", [(name,) for name in changes.deleted]
            )
            self._db.executemany(
                "INSERT INTO published_files (name, body, digest) VALUES (?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE "
                "SET body = excluded.body, digest = excluded.digest",
                changes.written,
            )
            self.set_meta("published_files", state)

    @_translated
    def published_files(self, *, unless: str | None = None) -> tuple[str | None, dict[str, bytes]]:
        # One statement, so that the state and the files are of one publish.
        rows = self._db.execute(
            "SELECT m.value, f.name, f.body FROM meta m "
            "LEFT JOIN published_files f ON m.value <> ? OR ? IS NULL "
            "WHERE m.key = 'published_files' ORDER BY f.name",
            (unless, unless),
        ).fetchall()
        if not rows:
            return None, {}
        state = str(rows[0][0])
        return state, {str(name): bytes(body) for _state, name, body in rows if name is not None}

    def published_state(self) -> str | None:
        return self.get_meta("published_files")

    @_translated
    def bump_generation(self) -> None:
        """Count a change to what is published (items, summaries, source titles)."""
        self._db.execute(
            "UPDATE meta SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT) "
            "WHERE key = 'generation'"
        )

    # -- sources ------------------------------------------------------------

    @_translated
    def sync_sources(self, sources: Iterable[tuple[str, str, str]]) -> None:
        """Make sure each (name, location, section) has a row; keep its state."""
        stored = set(self._db.execute("SELECT name, location, section FROM sources"))
        changed = [source for source in sources if tuple(source) not in stored]
        if not changed:
            return  # the usual case, and then nothing is written
        with self.transaction():
            for name, location, section in changed:
                self._db.execute(
                    "INSERT INTO sources (name, location, section) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET section = excluded.section",
                    (name, location, section),
                )
                # A location edited in the configuration is a new subscription:
                # forget redirects, a 410 and the caching state of the old one.
                moved = self._db.execute(
                    "UPDATE sources SET location = ?, url = NULL, redirect_target = NULL, "
                    "redirect_count = 0, disabled = NULL, etag = NULL, last_modified = NULL, "
                    "content_hash = NULL, broken_hash = NULL, retry_after = NULL, "
                    "next_due = NULL, claimed_until = NULL WHERE name = ? AND location <> ?",
                    (location, name, location),
                )
                if moved.rowcount:
                    self.save_entry_digests(name, None)

    @_translated
    def source_states(
        self, *, counts: bool = True, names: Collection[str] | None = None
    ) -> list[SourceState]:
        count = "(SELECT COUNT(*) FROM item_sources WHERE source = sources.name)"
        select = (
            "SELECT name, etag, last_modified, content_hash, title, site_link, last_fetch, "
            "last_success, last_error, consecutive_failures, next_due, broken_hash, url, "
            "redirect_target, redirect_count, disabled, feed_ttl, retry_after, "
            f"{count if counts else 'NULL'} FROM sources"
        )
        if names is None:
            rows = self._db.execute(f"{select} ORDER BY name").fetchall()
        else:
            rows = []
            for chunk in _chunks(sorted(set(names))):
                marks = ",".join("?" * len(chunk))
                rows += self._db.execute(
                    f"{select} WHERE name IN ({marks}) ORDER BY name", chunk
                ).fetchall()
        return [source_state(row, _date_of_text) for row in rows]

    def lock_sources(self, names: Collection[str]) -> None:
        """Nothing to do (``names`` left unread): a transaction here is ``BEGIN
        IMMEDIATE``, the only writer of the database until it ends."""

    @_translated
    def claim_due(self, now: datetime, *, lease: timedelta, limit: int) -> list[str]:
        # Atomic as any write here: one writer at a time (BEGIN IMMEDIATE).
        with self.transaction():
            names = [
                name
                for (name,) in self._db.execute(
                    "SELECT name FROM sources WHERE disabled IS NULL "
                    "AND COALESCE(next_due, '') <= ? "
                    "AND (claimed_until IS NULL OR claimed_until < ?) "
                    "ORDER BY COALESCE(next_due, ''), name LIMIT ?",
                    (to_text(now), to_text(now), limit),
                )
            ]
            self._db.executemany(
                "UPDATE sources SET claimed_until = ? WHERE name = ?",
                [(to_text(now + lease), name) for name in names],
            )
        return names

    @_translated
    def apply_poll(self, intent: PollIntent) -> None:
        name, when = intent.source, intent.when
        if _only_not_modified(intent):
            # Nearly every poll of a warm pass: one statement, atomic by itself,
            # so without the savepoint that was most of its cost.
            with self.failures() if self._in_transaction else self.transaction():
                self._record_not_modified(intent)
            return
        with self.transaction():
            if intent.error is not None:
                self._record_failure(
                    name,
                    when,
                    str(intent.error),
                    intent.failures,
                    intent.broken,
                    intent.retry_after,
                )
            elif intent.feed is None:
                self._record_not_modified(intent)
            else:
                assert intent.fetch_state is not None
                feed = intent.feed
                self._record_success(
                    name, when, intent.fetch_state, feed.title, feed.link, feed.ttl_seconds
                )
            if intent.disable is not None:
                self._disable_source(name, intent.disable)
            if intent.move_to is not None:
                self._move_source(name, intent.move_to)
            # Last, after a disable's: its own next due time, as the intent says.
            self._record_schedule(
                name, intent.next_due, intent.redirect_target, intent.redirect_count
            )

    def _record_success(
        self,
        name: str,
        when: datetime,
        state: FetchState,
        title: str | None,
        site_link: str | None,
        feed_ttl: float | None = None,
    ) -> None:
        self._db.execute(
            "UPDATE sources SET etag = ?, last_modified = ?, content_hash = ?, title = ?, "
            "site_link = ?, last_fetch = ?, last_success = ?, last_error = NULL, "
            "consecutive_failures = 0, broken_hash = NULL, feed_ttl = ?, retry_after = NULL "
            "WHERE name = ?",
            (
                state.etag,
                state.last_modified,
                state.content_hash,
                title,
                site_link,
                to_text(when),
                to_text(when),
                feed_ttl,
                name,
            ),
        )

    @_translated
    def entry_digests(self, name: str) -> EntryDigests | None:
        row = self._db.execute(
            "SELECT digests FROM entry_digests WHERE source = ?", (name,)
        ).fetchone()
        return EntryDigests.from_bytes(row[0]) if row else None

    @_translated
    def save_entry_digests(self, name: str, digests: EntryDigests | None) -> None:
        if digests is None:
            self._db.execute("DELETE FROM entry_digests WHERE source = ?", (name,))
            return
        self._db.execute(
            "INSERT INTO entry_digests (source, digests) VALUES (?, ?) "
            "ON CONFLICT (source) DO UPDATE SET digests = excluded.digests",
            (name, digests.to_bytes()),
        )

    def _record_not_modified(self, intent: PollIntent) -> None:
        """The new validators, the failures reset, and the schedule, in one statement."""
        assert intent.fetch_state is not None
        state, when = intent.fetch_state, to_text(intent.when)
        self._db.execute(
            "UPDATE sources SET etag = ?, last_modified = ?, content_hash = ?, last_fetch = ?, "
            "last_success = ?, last_error = NULL, consecutive_failures = 0, retry_after = NULL, "
            "next_due = ?, redirect_target = ?, redirect_count = ?, claimed_until = NULL "
            "WHERE name = ?",
            (
                state.etag,
                state.last_modified,
                state.content_hash,
                when,
                when,
                to_text(intent.next_due),
                intent.redirect_target,
                intent.redirect_count,
                intent.source,
            ),
        )

    def _record_failure(
        self,
        name: str,
        when: datetime,
        error: str,
        failures: int,
        broken: FetchState | None = None,
        retry_after: datetime | None = None,
    ) -> None:
        self._db.execute(
            "UPDATE sources SET last_fetch = ?, last_error = ?, retry_after = ?, "
            "consecutive_failures = ? WHERE name = ?",
            (to_text(when), error, to_text(retry_after), failures, name),
        )
        if broken is not None:
            # Remember the validators of a body that did not parse, so the same
            # bytes are answered with the same error and not parsed again.
            self._db.execute(
                "UPDATE sources SET etag = ?, last_modified = ?, content_hash = ?, "
                "broken_hash = ? WHERE name = ?",
                (broken.etag, broken.last_modified, broken.content_hash, broken.content_hash, name),
            )

    def _record_schedule(
        self, name: str, next_due: datetime | None, redirect_target: str | None, redirect_count: int
    ) -> None:
        # The poll is done: its claim ends with it.
        self._db.execute(
            "UPDATE sources SET next_due = ?, redirect_target = ?, redirect_count = ?, "
            "claimed_until = NULL WHERE name = ?",
            (to_text(next_due), redirect_target, redirect_count, name),
        )

    def _move_source(self, name: str, url: str) -> None:
        self._db.execute("UPDATE sources SET url = ? WHERE name = ?", (url, name))

    def _disable_source(self, name: str, reason: str) -> None:
        self._db.execute(
            "UPDATE sources SET disabled = ?, next_due = NULL WHERE name = ?", (reason, name)
        )

    # -- items --------------------------------------------------------------

    @_translated
    def lock_for_merge(self, keys: Iterable[int]) -> None:
        """Nothing to do (``keys`` left unread): a transaction here is ``BEGIN
        IMMEDIATE``, the only writer of the database until it ends, so no
        other merge runs meanwhile."""

    @_translated
    def copies_for_merge(self, source: str, entry_keys: Collection[str]) -> dict[str, CopyForMerge]:
        found: dict[str, CopyForMerge] = {}
        for chunk in _chunks(list(entry_keys)):
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                "SELECT s.entry_key, s.item_id, s.content_hash, i.lead_source = s.source, "
                f"i.canonical_url, i.fingerprint, {_COPY_COLUMNS} "
                "FROM item_sources s JOIN items i ON i.id = s.item_id "
                "LEFT JOIN dedup_copies c ON c.source = s.source AND c.entry_key = s.entry_key "
                f"WHERE s.source = ? AND s.entry_key IN ({marks})",
                (source, *chunk),
            ):
                key, item_id, content_hash, is_lead, url, fingerprint = row[:6]
                indexed = _indexed_copy(row[6:]) if row[6] is not None else None
                record = CopyRecord(item_id, content_hash, bool(is_lead))
                found[key] = CopyForMerge(record, url, fingerprint, indexed)
        return found

    @_translated
    def copy_hashes(self, source: str) -> dict[str, str]:
        rows = self._db.execute(
            "SELECT entry_key, content_hash FROM item_sources WHERE source = ?", (source,)
        )
        return dict(rows.fetchall())

    @_translated
    def items_by_url(
        self, canonical_urls: Collection[str], source: str, excluding: Collection[int] = ()
    ) -> dict[str, ItemMatch]:
        found: dict[str, ItemMatch] = {}
        unless, left_out = _excluding("id", excluding)
        for chunk in _chunks(list(canonical_urls)):
            marks = ",".join("?" * len(chunk))
            for url, item_id, has_source in self._db.execute(
                "SELECT m.canonical_url, m.id, EXISTS (SELECT 1 FROM item_sources s "
                "WHERE s.item_id = m.id AND s.source = ?) "
                "FROM (SELECT canonical_url, MIN(id) AS id FROM items "
                f"WHERE canonical_url IN ({marks}){unless} GROUP BY canonical_url) m",
                (source, *chunk, *left_out),
            ):
                found[url] = ItemMatch(int(item_id), bool(has_source))
        return found

    @_translated
    def items_by_fingerprint(
        self, fingerprints: Collection[str], excluding: Collection[int] = ()
    ) -> dict[str, int]:
        found: dict[str, int] = {}
        unless, left_out = _excluding("id", excluding)
        for chunk in _chunks(list(fingerprints)):
            marks = ",".join("?" * len(chunk))
            for fingerprint, item_id in self._db.execute(
                "SELECT fingerprint, MIN(id) FROM items "
                f"WHERE fingerprint IN ({marks}){unless} GROUP BY fingerprint",
                (*chunk, *left_out),
            ):
                found[fingerprint] = int(item_id)
        return found

    @_translated
    def apply_merge(self, intent: MergeIntent) -> list[int]:
        # Step by step, in order: ids are assigned as they would be one copy
        # at a time, and a step's error can name its entry.
        items: dict[int, int] = {}  # step -> the item it inserted
        copies: dict[int, int] = {}  # step -> the copy it indexed

        def resolve(ref: int, assigned: dict[int, int]) -> int:
            return assigned[ref - PENDING] if ref >= PENDING else ref

        item_ids = []
        # Every copy's band keys, written together once the steps are done:
        # one call, and in key order, so that neighbouring keys land on a page
        # the call has just written rather than on random pages one by one.
        # Nothing the steps do reads them.
        band_rows: list[tuple[int, int, int]] = []
        # The caller's transaction, not a savepoint of its own: the pipeline
        # already runs each source in one, which undoes the intent with the
        # rest of the source's writes, and a savepoint journals every page the
        # intent changes once more (in the dedup benchmark, as long again as
        # the writes themselves).
        with nullcontext() if self._in_transaction else self.transaction():
            for n, step in enumerate(intent.steps):
                try:
                    if step.insert is not None:
                        items[n] = self._insert_item(
                            step.insert.uid, step.insert.item, intent.source, intent.when
                        )
                    item_id = resolve(step.item_id, items)
                    if step.rewrite is not None:
                        self._update_item(item_id, step.rewrite)
                    if step.retext is not None:
                        self._update_item_text(item_id, step.retext)
                    self._save_copy(
                        intent.source,
                        step.entry_key,
                        item_id,
                        step.link,
                        step.content_hash,
                        intent.when,
                    )
                    index, matched = step.index, step.index.matched
                    copies[n] = self._index_copy(
                        index,
                        step.replacing,
                        band_rows,
                        # Ids the intent could not know, resolved here rather
                        # than in a copy of the record (one per new copy).
                        item_id=resolve(index.item_id, items),
                        matched=resolve(matched, copies) if matched is not None else None,
                    )
                    if step.show:
                        self._show_copy(item_id, copies[n])
                except Exception as exc:
                    exc.add_note(f"while storing {intent.source}'s entry {step.entry_key!r}")
                    raise
                item_ids.append(item_id)
            self._add_bands(band_rows)
        return item_ids

    def _add_bands(self, rows: list[tuple[int, int, int]]) -> None:
        """Index band keys: in the small table of recent keys, and once it
        holds enough, all of them moved to the main one together.

        Band keys are random: each lands on a page of its own in a large
        index, and every page a batch changes is written twice (to the WAL
        at its commit, to the database at a checkpoint).  Beyond some 100 MB
        of index (10,000 feeds) that was most of the time spent storing a
        cold pass.  The recent table stays small enough for the page cache,
        and moving its keys in key order changes each page of the main index
        once for some hundred thousand keys, not once per batch.  A move
        rewrites most of the main index, so it waits for more keys the
        larger that is (RECENT_SHARE), up to what the cache holds.  Look-ups
        read both tables (see _band_hits_sql).
        """
        rows.sort()
        self._db.executemany(
            "INSERT INTO dedup_bands_recent (band, at, copy_id) VALUES (?, ?, ?)", rows
        )
        if self._recent_bands is not None:
            self._recent_bands += len(rows)
        if self._band_filter is not None:
            self._band_filter.add(band for band, _at, _copy_id in rows)
            if self._band_filter.full:
                # Twice the room, and the old one let go first: both at once
                # would be the pass's peak of memory.
                room, self._band_filter = self._band_filter.room, None
                self._band_filter = self._read_band_filter(2 * room)
        if self._recent_count() < self._move_bands_at:
            return
        moved = int(self.get_meta("dedup_bands_moved") or 0)
        wanted = min(max(self._move_bands_at, int(moved * RECENT_SHARE)), MAX_RECENT_BANDS)
        if self._recent_count() < wanted:
            return
        (count,) = self._db.execute(
            "SELECT COUNT(*) FROM dedup_bands_recent"  # another writer's too
        ).fetchone()
        self._db.execute(
            "INSERT INTO dedup_bands (band, at, copy_id) "
            "SELECT band, at, copy_id FROM dedup_bands_recent ORDER BY band, at, copy_id"
        )
        self._db.execute("DELETE FROM dedup_bands_recent")
        self.set_meta("dedup_bands_moved", str(moved + count))
        self._recent_bands = 0

    def _recent_count(self) -> int:
        """Rows in dedup_bands_recent: counted when first needed, then kept up
        by _add_bands (not counted again at every look-up or batch)."""
        if self._recent_bands is None:
            (self._recent_bands,) = self._db.execute(
                "SELECT COUNT(*) FROM dedup_bands_recent"
            ).fetchone()
        return self._recent_bands

    def _insert_item(self, uid: str, item: ItemWrite, lead_source: str, when: datetime) -> int:
        cursor = self._db.execute(
            "INSERT INTO items (uid, section, title, link, canonical_url, fingerprint, "
            "published, updated, content_html, author, language, lead_source, first_seen, "
            "media) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                uid,
                item.section,
                item.title,
                item.link,
                item.canonical_url,
                item.fingerprint,
                to_text(item.published or when),
                to_text(item.updated or item.published or when),
                item.content_html,
                item.author,
                item.language,
                lead_source,
                to_text(when),
                media_json(item.enclosures, item.image),
            ),
        )
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def _update_item(self, item_id: int, item: ItemWrite) -> None:
        self._db.execute(
            "UPDATE items SET section = ?, title = ?, link = ?, canonical_url = ?, "
            "fingerprint = ?, published = COALESCE(?, published), "
            "updated = COALESCE(?, ?, published), content_html = ?, author = ?, "
            "language = ?, media = ? WHERE id = ?",
            (
                item.section,
                item.title,
                item.link,
                item.canonical_url,
                item.fingerprint,
                to_text(item.published),
                to_text(item.updated),
                to_text(item.published),
                item.content_html,
                item.author,
                item.language,
                media_json(item.enclosures, item.image),
                item_id,
            ),
        )

    def _update_item_text(self, item_id: int, item: ItemWrite) -> None:
        """What the item shows, from another copy; its id, link and dates stay."""
        self._db.execute(
            "UPDATE items SET title = ?, content_html = ?, author = ?, language = ? WHERE id = ?",
            (item.title, item.content_html, item.author, item.language, item_id),
        )

    def _save_copy(
        self,
        source: str,
        entry_key: str,
        item_id: int,
        link: str | None,
        content_hash: str,
        when: datetime,
    ) -> None:
        self._db.execute(
            "INSERT INTO item_sources (source, entry_key, item_id, link, content_hash, "
            "first_seen) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (source, entry_key) DO UPDATE "
            "SET link = excluded.link, content_hash = excluded.content_hash",
            (source, entry_key, item_id, link, content_hash, to_text(when)),
        )

    # -- the near-duplicate index ---------------------------------------------

    def _index_copy(
        self,
        copy: IndexedCopy,
        replacing: IndexedCopy | None,
        band_rows: list[tuple[int, int, int]],
        *,
        item_id: int | None = None,
        matched: int | None = None,
    ) -> int:
        """Store a copy, and add the rows of its band keys to ``band_rows``
        for the caller to insert; ``replacing``: what its source said before,
        as the look-up returned it (its keys are deleted here); ``item_id``
        and ``matched``, when given, in place of the copy's own.  Returns the
        copy's id."""
        at = _seconds(copy.at)
        values = (
            copy.item_id if item_id is None else item_id,
            copy.title,
            at,
            copy.signature,
            _band_blob(copy.bands),
            copy.method,
            copy.score,
            copy.matched if matched is None else matched,
            int(copy.shown),
        )
        if replacing is None:
            cursor = self._db.execute(
                "INSERT INTO dedup_copies (item_id, title, at, signature, bands, method, score, "
                "matched, shown, source, entry_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, copy.source, copy.entry_key),
            )
            assert cursor.lastrowid is not None
            copy_id = cursor.lastrowid
        else:
            copy_id, old_at = replacing.id, _seconds(replacing.at)
            old_rows = [(band, old_at, copy_id) for band in dict.fromkeys(replacing.bands)]
            for table in _BAND_TABLES:
                self._db.executemany(
                    f"DELETE FROM {table} WHERE band = ? AND at = ? AND copy_id = ?", old_rows
                )
            self._db.execute(
                "UPDATE dedup_copies SET item_id = ?, title = ?, at = ?, signature = ?, "
                "bands = ?, method = ?, score = ?, matched = ?, shown = ? WHERE id = ?",
                (*values, copy_id),
            )
        band_rows += [(band, at, copy_id) for band in dict.fromkeys(copy.bands)]
        return copy_id

    def _show_copy(self, item_id: int, copy_id: int) -> None:
        """Mark the copy whose title and text the item shows; only one is."""
        self._db.execute(
            "UPDATE dedup_copies SET shown = CASE WHEN id = ? THEN 1 ELSE 0 END "
            "WHERE item_id = ? AND (shown = 1 OR id = ?)",
            (copy_id, item_id, copy_id),
        )

    @_translated
    def band_hits(
        self, queries: Sequence[BandQuery], excluding: Collection[int] = ()
    ) -> list[list[BandHits]]:
        # One arm of a UNION ALL per distinct (band, window): copies of one
        # source often share both.  Each arm reads the band's index newest
        # first and stops after BAND_HITS_LIMIT rows, so a band that
        # thousands of copies share costs no more than another.
        wanted: dict[tuple[int, int, int], list[int]] = {}
        for n, query in enumerate(queries):
            low, high = _seconds(query.start), _seconds(query.end)
            for band in dict.fromkeys(query.bands):
                wanted.setdefault((band, low, high), []).append(n)
        hits: list[list[BandHits]] = [[] for _ in queries]
        unless, left_out = _excluding("copy_id", excluding)
        keys = list(wanted)
        # Most bands of a source's new copies are under no copy at all (a
        # new story's).  Which may be: the filter, else one statement, a
        # look-up each, about half what an arm costs (for a few copies, not
        # worth it).
        held = self._current_band_filter() if keys else None
        if held is not None:
            present = held.holding({band for band, _low, _high in keys})
            keys = [key for key in keys if key[0] in present]
        elif len(keys) > _ARMS:
            bands = list({band for band, _low, _high in keys})
            self._bands_probed += len(bands)
            present = {band for (band,) in self._db.execute(_PRESENT_BANDS, (json.dumps(bands),))}
            keys = [key for key in keys if key[0] in present]
        for start in range(0, len(keys), _ARMS):
            chunk = keys[start : start + _ARMS]
            # A few sizes of statement, each prepared once: arms past the
            # chunk's look for no band (NULL) and answer nothing.
            arms = -(-len(chunk) // _ARMS_STEP) * _ARMS_STEP
            params: list[object] = []
            # Each arm reads its band, window and left-out ids once per band
            # table (two): see _band_hits_sql.
            for k, (band, low, high) in enumerate(chunk):
                params += (k, band, low, high, *left_out, band, low, high, *left_out)
            for k in range(len(chunk), arms):
                params += (k, None, 0, 0, *left_out, None, 0, 0, *left_out)
            # Each arm's copies in two lists, not a record per copy: a cold
            # pass reads millions of hits.
            copy_ids: dict[int, list[int]] = {}
            seconds: dict[int, list[int]] = {}
            for k, copy_id, at in self._db.execute(_band_hits_sql(arms, unless), params):
                found = copy_ids.get(k)
                if found is None:
                    copy_ids[k], seconds[k] = [copy_id], [at]
                else:
                    found.append(copy_id)
                    seconds[k].append(at)
            for k, found in copy_ids.items():
                key = chunk[k]
                hit = BandHits(key[0], found, seconds[k])
                for n in wanted[key]:
                    hits[n].append(hit)
        return hits

    def _current_band_filter(self) -> BandFilter | None:
        """The filter of the band keys indexed, read when it pays: once this
        store has probed BAND_FILTER_AFTER as many bands by statement as the
        index holds, at once for an empty index (a cold pass).  Dropped when
        another connection has written since."""
        (version,) = self._db.execute("PRAGMA data_version").fetchone()
        if self._band_filter is not None and version == self._band_filter_version:
            return self._band_filter
        self._band_filter = None
        indexed = self._recent_count() + int(self.get_meta("dedup_bands_moved") or 0)
        if self._bands_probed < indexed * self._band_filter_after:
            return None
        self._band_filter = self._read_band_filter(indexed)
        self._band_filter_version = version
        self._bands_probed = 0
        return self._band_filter

    def _read_band_filter(self, keys: int) -> BandFilter:
        """A filter of every band key of both tables, with room for ``keys``."""
        # Imported here: it imports numpy (a tenth of a second), which a
        # pass that reads no filter (a warm one) does not need.
        from .band_filter import BandFilter

        held = BandFilter(keys)
        for table in _BAND_TABLES:
            held.add(band for (band,) in self._db.execute(f"SELECT band FROM {table}"))
        return held

    @_translated
    def candidates(self, copy_ids: Collection[int], source: str) -> list[Candidate]:
        rows = []
        for chunk in _chunks(sorted(copy_ids)):
            marks = ",".join("?" * len(chunk))
            rows += self._db.execute(
                f"SELECT {_COPY_COLUMNS}, EXISTS (SELECT 1 FROM item_sources s "
                "WHERE s.item_id = c.item_id AND s.source = ?) "
                f"FROM dedup_copies c WHERE c.id IN ({marks}) ORDER BY c.id",
                (source, *chunk),
            ).fetchall()
        return [Candidate(_indexed_copy(row[:-1]), bool(row[-1])) for row in rows]

    @_translated
    def shown_copies(self, item_ids: Collection[int]) -> dict[int, IndexedCopy]:
        shown: dict[int, IndexedCopy] = {}
        for chunk in _chunks(sorted(item_ids)):
            marks = ",".join("?" * len(chunk))
            for row in self._db.execute(
                f"SELECT {_COPY_COLUMNS} FROM dedup_copies c "
                f"WHERE c.item_id IN ({marks}) AND c.shown = 1 ORDER BY c.id",
                chunk,
            ):
                copy = _indexed_copy(row)
                shown.setdefault(copy.item_id, copy)
        return shown

    @_translated
    def duplicate_clusters(self) -> list[DuplicateCluster]:
        """Every item more than one copy became, newest first."""
        rows = self._db.execute(
            "SELECT i.id, i.uid, i.title, i.link, s.source, s.link, s.first_seen, c.title, "
            "c.method, c.score, m.source, src.location "
            "FROM items i JOIN item_sources s ON s.item_id = i.id "
            "LEFT JOIN dedup_copies c ON c.source = s.source AND c.entry_key = s.entry_key "
            "LEFT JOIN dedup_copies m ON m.id = c.matched "
            "LEFT JOIN sources src ON src.name = s.source "
            "WHERE i.id IN (SELECT item_id FROM item_sources GROUP BY item_id "
            "HAVING COUNT(*) > 1) "
            "ORDER BY i.published DESC, i.id, s.first_seen, c.id, s.source"
        ).fetchall()
        clusters: dict[int, tuple[tuple[str, str, str | None], list[ClusterMember]]] = {}
        for row in rows:
            (item_id, uid, title, link, source, copy_link, seen) = row[:7]
            copy_title, method, score, other, location = row[7:]
            first_seen = from_text(seen)
            assert first_seen is not None
            entry = clusters.setdefault(int(item_id), ((uid, title, link), []))
            entry[1].append(
                ClusterMember(
                    source=source,
                    link=copy_link,
                    title=copy_title,
                    method=method,
                    score=score,
                    matched_source=other,
                    feed_url=feed_url(location),
                    first_seen=first_seen,
                )
            )
        return [
            DuplicateCluster(item_id, uid, title, link, tuple(members))
            for item_id, ((uid, title, link), members) in clusters.items()
        ]

    @_translated
    def latest_items(
        self, limit: int, *, sources: Collection[str] | None = None
    ) -> list[StoredItem]:
        if sources is None:
            rows = self._db.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY published DESC, uid LIMIT ?", (limit,)
            ).fetchall()
        else:
            # The names as one JSON parameter: any number of them, one statement.
            rows = self._db.execute(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE EXISTS (SELECT 1 FROM item_sources s "
                "WHERE s.item_id = items.id AND s.source IN (SELECT value FROM json_each(?))) "
                "ORDER BY published DESC, uid LIMIT ?",
                (json.dumps(sorted(sources)), limit),
            ).fetchall()
        return self._with_sources(rows)

    @_translated
    def items_by_id(self, ids: Sequence[int]) -> list[StoredItem]:
        rows = []
        for start in range(0, len(ids), 500):  # stay under SQLite's variable limit
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows.extend(
                self._db.execute(
                    f"SELECT {_ITEM_COLUMNS} FROM items WHERE id IN ({marks}) ORDER BY id", chunk
                ).fetchall()
            )
        return self._with_sources(rows)

    @_translated
    def delete_items_before(self, cutoff: datetime) -> int:
        when = to_text(cutoff)
        doomed = [
            int(row[0])
            for row in self._db.execute(
                "SELECT id FROM items WHERE published < ? AND first_seen < ?", (when, when)
            )
        ]
        if not doomed:
            return 0
        with self.transaction():
            for chunk in _chunks(doomed):
                marks = ",".join("?" * len(chunk))
                copies = self._db.execute(
                    f"SELECT id, bands FROM dedup_copies WHERE item_id IN ({marks})", chunk
                ).fetchall()
                # By band key and copy: the index on dedup_bands leads with the band.
                old_rows = [
                    (band, copy_id) for copy_id, bands in copies for band in _bands_of(bands)
                ]
                for table in _BAND_TABLES:
                    self._db.executemany(
                        f"DELETE FROM {table} WHERE band = ? AND copy_id = ?", old_rows
                    )
                for statement in (
                    f"DELETE FROM dedup_copies WHERE item_id IN ({marks})",
                    "DELETE FROM pages WHERE (source, entry_key) IN (SELECT source, entry_key "
                    f"FROM item_sources WHERE item_id IN ({marks}))",
                    f"DELETE FROM item_sources WHERE item_id IN ({marks})",
                    f"DELETE FROM items WHERE id IN ({marks})",
                ):
                    self._db.execute(statement, chunk)
            self.bump_generation()
        return len(doomed)

    def iter_items(self) -> Iterator[StoredItem]:
        with self.failures():  # here: a generator's caller would meet them unwrapped
            rows = self._db.execute(f"SELECT {_ITEM_COLUMNS} FROM items ORDER BY id").fetchall()
            items = self._with_sources(rows)
        yield from items

    def _with_sources(self, rows: list[tuple[object, ...]]) -> list[StoredItem]:
        if not rows:
            return []
        ids = [int(str(row[0])) for row in rows]
        by_item: dict[int, list[tuple[int, SourceRef]]] = {i: [] for i in ids}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for item_id, name, title, site, location, link, is_lead in self._db.execute(
                "SELECT s.item_id, s.source, src.title, src.site_link, src.location, "
                "s.link, i.lead_source = s.source "
                "FROM item_sources s JOIN items i ON i.id = s.item_id "
                "LEFT JOIN sources src ON src.name = s.source "
                f"WHERE s.item_id IN ({marks}) ORDER BY s.first_seen, s.source, s.entry_key",
                chunk,
            ):
                ref = SourceRef(
                    name=name,
                    title=title or name,
                    site_link=site,
                    feed_url=feed_url(location),
                    item_link=link,
                )
                # The lead copy first; other copies in the order they arrived.
                by_item[item_id].append((0 if is_lead else 1, ref))
        items = []
        for row in rows:
            refs = by_item[int(str(row[0]))]
            seen: set[str] = set()
            ordered = []
            for _, ref in sorted(refs, key=lambda pair: pair[0]):
                if ref.name not in seen:  # one source may carry a story twice
                    seen.add(ref.name)
                    ordered.append(ref)
            items.append(stored_item(row, tuple(ordered), _date_of_text))
        return items

    # -- summaries ----------------------------------------------------------

    @_translated
    def summaries(self, keys: Sequence[str]) -> dict[str, Summary]:
        found: dict[str, Summary] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            marks = ",".join("?" * len(chunk))
            for key, text in self._db.execute(
                f"SELECT key, summary FROM summaries WHERE key IN ({marks})", chunk
            ):
                found[key] = Summary.from_json(json.loads(text))
        return found

    @_translated
    def save_summaries(self, summaries: dict[str, Summary]) -> None:
        with self.transaction():
            self._db.executemany(
                "INSERT INTO summaries (key, summary) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                [
                    (key, json.dumps(s.to_json(), ensure_ascii=False))
                    for key, s in summaries.items()
                ],
            )

    # -- article pages (store.pages) -----------------------------------------

    @_translated
    def pages_wanted(
        self,
        sources: Collection[str],
        limit: int,
        now: datetime,
        selectors: Mapping[str, str] = NO_SELECTORS,
    ) -> list[PageCandidate]:
        # sel.selector: the source's selector now, NULL for none (no row).
        # Materialized, it is looked up by an index SQLite makes for the
        # query; json_each joined as it is was scanned for every copy: 5.4 s
        # instead of 0.16 s for 100,000 copies of 1,000 sources with one each.
        rows = self._db.execute(
            f"WITH sel (source, selector) AS {_MATERIALIZED}(SELECT key, value FROM json_each(?)) "
            "SELECT s.source, s.entry_key, s.link, s.content_hash, i.content_html, "
            "p.article_html IS NOT NULL AND p.selector IS sel.selector, "
            "p.etag, p.last_modified, p.page_hash, "
            "CASE WHEN p.content_hash = s.content_hash AND p.selector IS sel.selector "
            "THEN p.failures ELSE 0 END "
            "FROM item_sources s JOIN items i ON i.id = s.item_id AND i.lead_source = s.source "
            "LEFT JOIN pages p ON p.source = s.source AND p.entry_key = s.entry_key "
            "LEFT JOIN sel ON sel.source = s.source "
            "WHERE s.source IN (SELECT value FROM json_each(?)) "
            "AND (p.content_hash IS NULL OR p.content_hash != s.content_hash "
            "OR p.retry_at <= ? OR (p.url IS NOT NULL AND p.selector IS NOT sel.selector)) "
            "ORDER BY i.published DESC, i.uid LIMIT ?",
            (json.dumps(dict(selectors)), json.dumps(sorted(sources)), to_text(now), limit),
        ).fetchall()
        return [page_candidate(row) for row in rows]

    @_translated
    def save_pages(self, pages: Sequence[PageWrite]) -> None:
        if not pages:
            return
        with self.transaction():
            self._db.executemany(
                "INSERT INTO pages (source, entry_key, content_hash, url, etag, last_modified, "
                "page_hash, article_html, error, decided, failures, retry_at, selector) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (source, entry_key) DO UPDATE SET "
                "content_hash = excluded.content_hash, url = excluded.url, "
                "etag = excluded.etag, last_modified = excluded.last_modified, "
                "page_hash = excluded.page_hash, error = excluded.error, "
                "decided = excluded.decided, failures = excluded.failures, "
                "retry_at = excluded.retry_at, selector = excluded.selector, "
                "article_html = CASE WHEN ? THEN pages.article_html ELSE excluded.article_html END",
                [page.row(to_text) for page in pages],
            )
            self.bump_generation()

    @_translated
    def page_health(self, sources: Collection[str]) -> dict[str, PageHealth]:
        names = json.dumps(sorted(sources))
        last: dict[str, tuple[str, str]] = {}
        for source, url, error in self._db.execute(
            "SELECT source, url, error FROM pages WHERE error IS NOT NULL "
            "AND source IN (SELECT value FROM json_each(?)) ORDER BY decided, entry_key",
            (names,),
        ):
            last[source] = (url or "", error)
        return {
            source: PageHealth(int(tried), int(failed or 0), last.get(source), int(retrying))
            for source, tried, failed, retrying in self._db.execute(
                "SELECT source, COUNT(url), SUM(error IS NOT NULL), COUNT(retry_at) FROM pages "
                "WHERE source IN (SELECT value FROM json_each(?)) GROUP BY source",
                (names,),
            )
            if tried
        }


def _chunks(values: Sequence[_T], size: int = 500) -> Iterator[Sequence[_T]]:
    """``values`` in lists short enough to bind (SQLite's default limit was 999)."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _only_not_modified(intent: PollIntent) -> bool:
    """A success with nothing new to read, and nothing else to record."""
    return (
        intent.error is None
        and intent.feed is None
        and intent.disable is None
        and intent.move_to is None
    )


# The recent table first: it is in the page cache, the main one mostly not.
_PRESENT_BANDS = "SELECT value FROM json_each(?) WHERE " + " OR ".join(
    f"EXISTS (SELECT 1 FROM {table} WHERE band = value)" for table in reversed(_BAND_TABLES)
)


@functools.lru_cache(maxsize=64)
def _band_hits_sql(arms: int, unless: str) -> str:
    """A UNION ALL of ``arms`` arms, each bound to (arm number, then band,
    low, high, and the ids left out when ``unless``, once for each of the two
    band tables): the newest copies under the band in both band tables, each
    table's read newest first and no further than BAND_HITS_LIMIT."""
    # Plain "?", each value bound as often as it is read: numbered ones
    # ("?3") bound from a sequence are deprecated since Python 3.12, an
    # error from 3.14.
    per_table = " UNION ALL ".join(
        f"SELECT copy_id, at FROM {table} WHERE band = ? AND at BETWEEN ? AND ?{unless}"
        for table in _BAND_TABLES
    )
    # A compound ordered by what both tables' keys are ordered by: SQLite
    # merges the two index scans, no sort, and stops at the limit.
    arm = (
        f"SELECT ?, copy_id, at FROM ({per_table} "
        f"ORDER BY at DESC, copy_id DESC LIMIT {BAND_HITS_LIMIT})"
    )
    return " UNION ALL ".join([arm] * arms)


def _excluding(column: str, ids: Collection[int]) -> tuple[str, tuple[str, ...]]:
    """A condition leaving out ``ids`` (none when there are none, the usual
    case), and its one bound value: any number of ids as a JSON array."""
    if not ids:
        return "", ()
    return f" AND {column} NOT IN (SELECT value FROM json_each(?))", (
        json.dumps([int(i) for i in ids]),
    )


def _seconds(value: datetime) -> int:
    return int(value.timestamp())


def _band_blob(bands: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(bands)}q", *bands)


def _bands_of(blob: object) -> tuple[int, ...]:
    assert isinstance(blob, bytes)
    return struct.unpack(f"<{len(blob) // 8}q", blob)


def _indexed_copy(row: Sequence[Any]) -> IndexedCopy:
    # As SQLite returns the columns (INTEGER, TEXT, REAL, BLOB): no
    # conversion of each, for the tens of thousands of candidates of a pass.
    (copy_id, source, key, item_id, title, at, signature, bands, method, score, matched, shown) = (
        row
    )
    return IndexedCopy(
        source,
        key,
        item_id,
        title,
        datetime.fromtimestamp(at, UTC),
        signature,
        _bands_of(bands),
        method,
        score,
        matched,
        bool(shown),
        copy_id,
    )


def _opt(value: object) -> str | None:
    return None if value is None else str(value)


def _date_of_text(value: object) -> datetime | None:
    """A date as SQLite keeps it (ISO text, see :func:`to_text`)."""
    return from_text(_opt(value))
