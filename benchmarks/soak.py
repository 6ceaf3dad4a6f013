"""Does the daemon leak over many passes?  Its memory, threads, descriptors,
child processes and database files, pass after pass; over PostgreSQL, the
cluster's too (its workers, connections and job queue).

    generate N feeds (benchmarks/pipeline.py's generator) | serve them on 127.0.0.1
      |  feeds.yaml: every source due every second (interval and min_interval 1s)
      |  aggregate -c feeds.yaml (the real daemon, SQLite), --log-level INFO
      |  a feed reader polls its /feed.atom, with and without If-None-Match
      |  after each pass: measure; change some feeds for the next one
      |  stop it (SIGTERM); first 10 passes against last 10, and slopes

Usage::

    python benchmarks/soak.py [--feeds 200] [--items 30] [--passes 60 | --minutes M]
                              [--every 10] [--window 10] [--changed 0.1] [--seed 1]
                              [--gzip] [--keep DIR]
                              [--store postgresql://.../empty_database [--workers 0]]

A pass is every source polled once more: the daemon logs one line per poll
(``new  feed-0001: 3 new, ...``, ``unchanged  feed-0002: not modified``, or
the source's error), and pass n is over when every source has n such lines.
Each source is due again a second after its poll, so passes run back to
back: the daemon is never idle, and every figure is taken while it works.

Before each pass after the first, ``--changed`` of the feeds (10%) gain a
story each, the newest stories pushing the oldest out (a feed keeps
``--items``), and the first of them is also carried by another feed under
the same page, with its own id and tracking parameters: so every pass
fetches, parses, stores, merges one copy into another source's entry,
summarizes and publishes, while most feeds answer 304.  What the daemon
parses stays the same size pass after pass; only the database grows.

After each pass it records: the Pss of the daemon's whole process tree (its
worker processes too) and of the daemon alone; the daemon's threads
(``Threads`` of /proc/PID/status), open descriptors (/proc/PID/fd, also split
into sockets and the rest), the processes below it, and the sizes of the
database and its write-ahead log.  A table row every ``--every`` passes;
at the end, for each figure, the average of the first 10 passes and of the
last 10, and the least-squares slope per 100 passes over all of them and
over the second half (the first passes warm caches up: the late slope is
the one a leak shows in).  Every pass's row goes to soak.csv in the work
directory (kept with ``--keep``).

With ``--store URL`` (an empty PostgreSQL database, which the run fills) the
daemon is the cluster's (aggregator/cluster), ``cluster.tick`` one second,
and ``--workers N`` more processes run ``aggregate worker`` beside it, each
logging to worker-K.log; a pass is every source polled once by any of them.
Each process tree is measured as the daemon's is (the worker's figures are
``wK_...``), ``db_mb`` is the whole database's size (``wal_mb`` is 0: the
write-ahead log is the server's) and, for the database: ``connections`` (its
sessions in pg_stat_activity, this script's own left out), ``jobs`` (rows of
procrastinate_jobs: a worker deletes a job that succeeded, a failed one
stays), ``events`` (procrastinate_events, deleted with their job),
``queue_workers`` (procrastinate_workers: one a process while it beats),
``queue_mb`` (procrastinate's tables with their indexes), ``published_mb``
(the files last published; a publish rewrites those whose bytes changed),
``store_mb`` (the store's tables, which grow with the items) and
``dead_rows`` (the tables' dead rows, pg_stat_user_tables.n_dead_tup: a job
deleted, a file rewritten, a source's row updated leaves one, until a VACUUM).  With the server's
autovacuum off (it says so at the start) nothing reclaims them: the tables'
sizes then grow with them, which says nothing of the aggregator.

It exits 1 when the daemon exits before it is stopped, does not stop with
0, logs a source's error or a traceback, abandons more than one publish at
the stop (they piled up), the reader is answered other than 200 or 304 or
sees only one version of the feed (nothing published while the daemon
ran), or a count grows without bound: its largest over the last
``--window`` passes (10) over its largest over the first by more than a
small slack (threads 2, children 1, descriptors other than sockets 4,
sockets ``fetch.concurrency``, the most connections a pass opens to the
feeds).  Memory is reported, not judged: what is allocator noise and what a
leak needs the numbers and the slopes.  Over PostgreSQL, the same slack holds
for each worker; it also exits 1 when a process of the cluster exits early or
not with 0, logs a warning or an error (a job that failed or is retried, a
lost connection), leaves a failed job in the queue, or when the connections
grow by more than 2 a process, the jobs by more than the sources (a tick
queues one poll each), or the queue's workers at all.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pipeline as bench  # this directory's, once the path is set

# Connections a pass may hold open to the feeds at once (pipeline.py's feeds.yaml).
FETCH_CONCURRENCY = 64
WINDOW = 10  # passes compared at each end (--window)
# How much more the largest of the last window of passes may be than the
# largest of the first, before a count is said to grow.
SLACK = {"threads": 2, "children": 1, "fds_other": 4, "sockets": FETCH_CONCURRENCY}
# One poll's line: "<status>  <source>: <detail>", or an error, "<source>: <message>".
# The SQLite daemon logs its polls as aggregator.daemon, the cluster's processes
# as aggregator.cluster.node.
POLL_LINE = re.compile(
    r" aggregator\.(?:daemon|cluster\.node): "
    r"(?:(new|updated|unchanged|error|\S+)\s+)?(feed-\d+): (.*)$"
)
MERGED = re.compile(r"(\d+) merged into")
PUBLISHED = re.compile(r" aggregator\.(?:daemon|cluster\.node): published ")


@dataclass
class Sample:
    """One pass, measured when its last source's poll was logged."""

    pass_: int
    seconds: float  # since the daemon started
    pss_tree_mb: float
    pss_daemon_mb: float
    threads: int
    fds: int
    sockets: int
    fds_other: int
    children: int
    db_mb: float
    wal_mb: float
    new_polls: int  # polls of this pass that stored something
    merged: int
    published: int  # publish log lines since the previous pass
    reader_200: int
    reader_304: int
    # Over PostgreSQL: the workers' process trees and the database (see
    # PROCESS_FIGURES, DATABASE_FIGURES); empty over SQLite.
    more: dict[str, float] = field(default_factory=dict)

    def value(self, name: str) -> float:
        """A figure by name: a field's, or one of :attr:`more`."""
        if name in self.more:
            return self.more[name]
        value: float = getattr(self, name)
        return value


# Figures in the summary, with their format.
FIGURES = {
    "pss_tree_mb": ".1f",
    "pss_daemon_mb": ".1f",
    "threads": ".1f",
    "fds": ".1f",
    "sockets": ".1f",
    "fds_other": ".1f",
    "children": ".1f",
    "db_mb": ".2f",
    "wal_mb": ".2f",
}
# A process tree's figures, each worker's prefixed by "wK_" (w1_threads).
PROCESS_FIGURES = {
    "pss_tree_mb": ".1f",
    "pss_own_mb": ".1f",
    "threads": ".1f",
    "fds": ".1f",
    "sockets": ".1f",
    "fds_other": ".1f",
    "children": ".1f",
}
# The database's, over PostgreSQL (see Database.read).
DATABASE_FIGURES = {
    "connections": ".1f",
    "jobs": ".1f",
    "events": ".1f",
    "queue_workers": ".1f",
    "queue_mb": ".2f",
    "published_mb": ".2f",
    "store_mb": ".2f",
    "dead_rows": ".1f",
}
# Connections a process of the cluster may open beyond those it held in the
# first passes: procrastinate's pool holds 1 to 4.
CONNECTIONS_SLACK = 2


# --- The feeds change ---------------------------------------------------------


class Changes:
    """New stories for some feeds before each pass, from their own generator."""

    def __init__(self, corpus: bench.Corpus, items: int, share: float, seed: int):
        self.corpus = corpus
        self.items = items
        self.count = max(1, round(len(corpus.feeds) * share))
        self.rng = random.Random(f"{seed}-soak")
        self.prose = bench.Prose(self.rng)

    def before(self, number: int) -> list[bench.GeneratedFeed]:
        """Change feeds for pass ``number``; the feeds changed."""
        rng, feeds = self.rng, self.corpus.feeds
        changed = rng.sample(feeds, min(self.count, len(feeds)))
        # Newer than every story before, in a fixed order.
        at = bench.BASE_DATE + timedelta(hours=1, minutes=10 * number)
        stories = []
        for offset, feed in enumerate(changed):
            length = "long" if offset == 0 else "medium"
            story = bench._story(self.prose, feed, f"soak-{number:05d}", at, length)
            feed.stories.append(story)
            stories.append((feed, story))
        if len(feeds) > 1:
            # The first story again, in another feed: one merge a pass.
            feed, story = stories[0]
            partner = feeds[(feed.index + rng.randint(1, len(feeds) - 1)) % len(feeds)]
            page = story.link.split("?", 1)[0]
            partner.stories.append(
                bench.Story(
                    title=story.title,
                    link=f"{page}?utm_source=partner&utm_campaign={partner.name}",
                    guid=f"urn:bench:{partner.name}:from-{feed.name}:soak-{number:05d}",
                    published=story.published + timedelta(minutes=5),
                    author=story.author,
                    description=story.description,
                    content_html=story.content_html,
                )
            )
            changed.append(partner)
        for feed in changed:
            feed.stories.sort(key=lambda s: s.published, reverse=True)
            del feed.stories[self.items :]
        return changed


# --- A feed reader ------------------------------------------------------------


class Reader:
    """Polls the daemon's /feed.atom as a feed reader does: with the ETag it
    last got (If-None-Match), and every ``fresh_every``-th time without.

    A 503 before the first 200 is no failure: a daemon answers so until its
    first publish (a cluster's: its first copy of the files published)."""

    def __init__(self, base: str, interval: float = 0.5, fresh_every: int = 5):
        self.url = base + "/feed.atom"
        self.interval = interval
        self.fresh_every = fresh_every
        self.answers: dict[int, int] = {}
        self.failures: list[str] = []
        self.etags: set[str] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="reader", daemon=True)

    def start(self) -> Reader:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        etag: str | None = None
        asked = 0
        while not self._stop.wait(self.interval):
            headers = {}
            if etag is not None and asked % self.fresh_every:
                headers["If-None-Match"] = etag
            asked += 1
            try:
                status, etag = self._get(headers, etag)
            except (OSError, ValueError) as error:
                self.failures.append(f"{type(error).__name__}: {error}")
                continue
            self.answers[status] = self.answers.get(status, 0) + 1

    def _get(self, headers: dict[str, str], etag: str | None) -> tuple[int, str | None]:
        request = urllib.request.Request(self.url, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                response.read()
                new = response.headers.get("ETag")
                if new is None:
                    self.failures.append("a 200 without an ETag")
                else:
                    self.etags.add(new)
                return response.status, new
        except urllib.error.HTTPError as error:
            with error:
                error.read()
                early = error.code == 503 and not self.answers.get(200)
                if error.code != 304 and not early:
                    self.failures.append(f"HTTP {error.code}")
                return error.code, etag


# --- Measuring ----------------------------------------------------------------


def descriptors(pid: int) -> tuple[int, int]:
    """Open descriptors of ``pid``: all, and the sockets among them."""
    total = sockets = 0
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0, 0
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue  # closed meanwhile
        total += 1
        sockets += target.startswith("socket:")
    return total, sockets


def process_tree(pid: int) -> dict[str, float]:
    """PROCESS_FIGURES of ``pid`` and the processes below it."""
    tree = bench._process_tree(pid)
    pss = {p: bench._field_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in tree}
    fds, sockets = descriptors(pid)
    return {
        "pss_tree_mb": sum(pss.values()) / 1024,
        "pss_own_mb": pss[pid] / 1024,
        "threads": bench._field_kb(f"/proc/{pid}/status", "Threads"),
        "fds": fds,
        "sockets": sockets,
        "fds_other": fds - sockets,
        "children": len(tree) - 1,
    }


def _mb(path: Path) -> float:
    try:
        return path.stat().st_size / 1e6
    except FileNotFoundError:
        return 0.0


# A line at WARNING or above: "<date> <time> <LEVEL> <logger>: <message>".
LOUD_LINE = re.compile(r"^\S+ \S+ (?:WARNING|ERROR|CRITICAL) (\S+): (.*)$")
# The loud lines every start logs, which say nothing is wrong.
START_LINES = re.compile(r"serving .* on http://|worker \S+: running jobs from ")
# procrastinate's line for a job that raised: "Error, to retry" (at INFO) or "Error".
JOB_OUTCOME = re.compile(r"Job (\S+) ended with status: (?!Success)")


class LogWatcher:
    """Reads the logs of the daemon (and workers) as they grow: polls per
    source, merges, publishes."""

    def __init__(self, paths: Sequence[Path], sources: Sequence[str]):
        self.paths = list(paths)
        self.polls = dict.fromkeys(sources, 0)
        self.new_polls = 0
        self.merged = 0
        self.published = 0
        self.errors: list[str] = []
        self.tracebacks = 0
        self.publishes_abandoned = 0
        # Lines at WARNING or above but the start's, and jobs that raised
        # (judged over PostgreSQL only).
        self.warnings: list[str] = []
        self._offsets = [0] * len(self.paths)
        self._partials = [b""] * len(self.paths)

    def read(self) -> None:
        for index, path in enumerate(self.paths):
            try:
                with path.open("rb") as log:
                    log.seek(self._offsets[index])
                    data = log.read()
            except FileNotFoundError:
                continue  # a worker's, not started yet
            self._offsets[index] += len(data)
            lines = (self._partials[index] + data).split(b"\n")
            self._partials[index] = lines.pop()
            for raw in lines:
                self._line(raw.decode("utf-8", "replace"), path)

    def _line(self, line: str, path: Path) -> None:
        if "Traceback" in line:
            self.tracebacks += 1
        loud = LOUD_LINE.match(line)
        if (loud and not START_LINES.match(loud.group(2))) or JOB_OUTCOME.search(line):
            self.warnings.append(f"{path.name}: {line}")
        if " aggregator.daemon: publishing abandoned" in line:
            self.publishes_abandoned += 1
            return
        if PUBLISHED.search(line):
            self.published += 1
            return
        match = POLL_LINE.search(line)
        if match is None or match.group(2) not in self.polls:
            return
        status, source, detail = match.groups()
        self.polls[source] += 1
        if status is None or status == "error":
            self.errors.append(f"{source}: {detail}")
        elif status == "new" or status == "updated":
            self.new_polls += 1
        merged = MERGED.search(detail)
        if merged:
            self.merged += int(merged.group(1))

    def passes(self) -> int:
        return min(self.polls.values())


class Database:
    """The PostgreSQL database the cluster shares, as one connection of this
    script's sees it."""

    def __init__(self, url: str):
        import psycopg  # the postgres extra; only this mode needs it

        self.url = url
        self._connection = psycopg.connect(url, autocommit=True, connect_timeout=10)

    def close(self) -> None:
        self._connection.close()

    def tables(self) -> list[str]:
        rows = self._connection.execute(
            "SELECT schemaname || '.' || tablename FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchall()
        return [str(row[0]) for row in rows]

    def read(self) -> tuple[float, dict[str, float]]:
        """The database's size (MB), and DATABASE_FIGURES."""
        db = self._connection.execute
        size, connections = db(
            "SELECT pg_database_size(current_database()), "
            "(SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid())"
        ).fetchone() or (0, 0)
        by_table = {
            str(name): int(total)
            for name, total in db(
                "SELECT c.relname, pg_total_relation_size(c.oid) FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind IN ('r', 'p') "
                "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
                "AND n.nspname NOT LIKE 'pg_toast%'"
            ).fetchall()
        }
        queue = sum(n for name, n in by_table.items() if name.startswith("procrastinate_"))
        dead = db("SELECT coalesce(sum(n_dead_tup), 0) FROM pg_stat_user_tables").fetchone() or (0,)
        counts: tuple[Any, ...] = (0, 0, 0)
        if "procrastinate_jobs" in by_table:
            counts = (
                db(
                    "SELECT (SELECT count(*) FROM procrastinate_jobs), "
                    "(SELECT count(*) FROM procrastinate_events), "
                    "(SELECT count(*) FROM procrastinate_workers)"
                ).fetchone()
                or counts
            )
        figures = {
            "connections": int(connections),
            "jobs": int(counts[0]),
            "events": int(counts[1]),
            "queue_workers": int(counts[2]),
            "queue_mb": queue / 1e6,
            "published_mb": by_table.get("published_files", 0) / 1e6,
            "store_mb": (sum(by_table.values()) - queue) / 1e6,
            "dead_rows": int(dead[0]),
        }
        return int(size) / 1e6, figures

    def autovacuum(self) -> bool:
        row = self._connection.execute("SHOW autovacuum").fetchone()
        return row is not None and row[0] == "on"

    def jobs_left(self) -> dict[str, int]:
        """The queue's jobs by status (todo, doing, failed, ...)."""
        rows = self._connection.execute(
            "SELECT status::text, count(*) FROM procrastinate_jobs GROUP BY 1 ORDER BY 1"
        ).fetchall()
        return {str(status): int(n) for status, n in rows}


def measure(
    number: int,
    started: float,
    processes: dict[str, subprocess.Popen[bytes]],
    database: Path | Database,
    watch: LogWatcher,
    reader: Reader,
) -> Sample:
    """Pass ``number``'s figures: the daemon's process tree (and each worker's),
    the database's."""
    own = process_tree(processes["daemon"].pid)
    more: dict[str, float] = {}
    for name, process in processes.items():
        if name != "daemon":
            figures = process_tree(process.pid)
            more.update((f"{name}_{figure}", value) for figure, value in figures.items())
    if isinstance(database, Database):
        db_mb, figures = database.read()
        wal_mb = 0.0  # the server's, not the database's
        more.update(figures)
    else:
        db_mb = _mb(database)
        wal_mb = _mb(database.with_name(database.name + "-wal"))
    return Sample(
        pass_=number,
        seconds=time.monotonic() - started,
        pss_tree_mb=own["pss_tree_mb"],
        pss_daemon_mb=own["pss_own_mb"],
        threads=int(own["threads"]),
        fds=int(own["fds"]),
        sockets=int(own["sockets"]),
        fds_other=int(own["fds_other"]),
        children=int(own["children"]),
        db_mb=db_mb,
        wal_mb=wal_mb,
        new_polls=watch.new_polls,
        merged=watch.merged,
        published=watch.published,
        reader_200=reader.answers.get(200, 0),
        reader_304=reader.answers.get(304, 0),
        more=more,
    )


# --- Summary ------------------------------------------------------------------


def slope(values: Sequence[float]) -> float:
    """The least-squares slope of ``values`` against their index, per 100 passes."""
    n = len(values)
    if n < 2:
        return 0.0
    mean_x, mean_y = (n - 1) / 2, sum(values) / n
    covariance = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values))
    variance = sum((x - mean_x) ** 2 for x in range(n))
    return 100 * covariance / variance


def _average(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def growing(samples: Sequence[Sample], window: int, slack: dict[str, int] = SLACK) -> list[str]:
    """The counts whose largest over the last ``window`` passes exceeds their
    largest over the first ``window`` by more than their slack, each with its
    figures; none when the run is shorter than two windows."""
    if len(samples) < 2 * window:
        return []
    found = []
    for name, allowed in slack.items():
        first = max(s.value(name) for s in samples[:window])
        last = max(s.value(name) for s in samples[-window:])
        if last > first + allowed:
            found.append(
                f"{name}: at most {first} in the first {window} passes, {last} in the last"
            )
    return found


def cluster_slack(workers: int, sources: int) -> dict[str, int]:
    """SLACK over PostgreSQL: the daemon's and each worker's, and the database's."""
    slack = dict(SLACK)
    for number in range(1, workers + 1):
        slack.update((f"w{number}_{name}", allowed) for name, allowed in SLACK.items())
    slack["connections"] = CONNECTIONS_SLACK * (1 + workers)
    slack["jobs"] = sources  # a tick queues a poll of each source due, at most
    slack["queue_workers"] = 0
    return slack


def cluster_figures(workers: int) -> dict[str, str]:
    """The figures of the summary over PostgreSQL (its write-ahead log is the server's)."""
    figures = {name: spec for name, spec in FIGURES.items() if name != "wal_mb"}
    for number in range(1, workers + 1):
        figures.update((f"w{number}_{name}", spec) for name, spec in PROCESS_FIGURES.items())
    return figures | DATABASE_FIGURES


def print_row(sample: Sample, header: bool = False, workers: int = 0) -> None:
    if sample.more:
        _print_cluster_row(sample, header, workers)
        return
    if header:
        print(
            f"{'pass':>5} {'s':>6} {'PSS tree':>9} {'PSS own':>8} {'threads':>7} "
            f"{'fds':>4} {'socks':>5} {'kids':>4} {'db MB':>7} {'wal MB':>7} "
            f"{'new':>5} {'merged':>6} {'publ':>5} {'200/304':>9}",
            flush=True,
        )
    s = sample
    print(
        f"{s.pass_:>5} {s.seconds:>6.0f} {s.pss_tree_mb:>9.1f} {s.pss_daemon_mb:>8.1f} "
        f"{s.threads:>7} {s.fds:>4} {s.sockets:>5} {s.children:>4} {s.db_mb:>7.2f} "
        f"{s.wal_mb:>7.2f} {s.new_polls:>5} {s.merged:>6} {s.published:>5} "
        f"{s.reader_200:>4}/{s.reader_304:<4}",
        flush=True,
    )


def _print_cluster_row(sample: Sample, header: bool, workers: int) -> None:
    """A row over PostgreSQL: the daemon's tree, each worker's, the database's figures."""
    s, more = sample, sample.more
    if header:
        names = "".join(
            f" {f'w{k} PSS':>7} {f'w{k} own':>7} {'thr':>4} {'fds':>4} {'socks':>5} {'kids':>4}"
            for k in range(1, workers + 1)
        )
        print(
            f"{'pass':>5} {'s':>6} {'PSS tree':>9} {'PSS own':>8} {'threads':>7} "
            f"{'fds':>4} {'socks':>5} {'kids':>4}{names} {'conns':>5} {'jobs':>5} "
            f"{'dead':>6} {'queue MB':>8} {'publ MB':>7} {'db MB':>7} "
            f"{'new':>5} {'merged':>6} {'publ':>5} {'200/304':>9}",
            flush=True,
        )
    cells = "".join(
        f" {more[f'w{k}_pss_tree_mb']:>7.1f} {more[f'w{k}_pss_own_mb']:>7.1f} "
        f"{more[f'w{k}_threads']:>4} {more[f'w{k}_fds']:>4} {more[f'w{k}_sockets']:>5} "
        f"{more[f'w{k}_children']:>4}"
        for k in range(1, workers + 1)
    )
    print(
        f"{s.pass_:>5} {s.seconds:>6.0f} {s.pss_tree_mb:>9.1f} {s.pss_daemon_mb:>8.1f} "
        f"{s.threads:>7} {s.fds:>4} {s.sockets:>5} {s.children:>4}{cells} "
        f"{more['connections']:>5} {more['jobs']:>5} {more['dead_rows']:>6} "
        f"{more['queue_mb']:>8.2f} {more['published_mb']:>7.2f} {s.db_mb:>7.2f} "
        f"{s.new_polls:>5} {s.merged:>6} {s.published:>5} "
        f"{s.reader_200:>4}/{s.reader_304:<4}",
        flush=True,
    )


def print_summary(
    samples: Sequence[Sample], window: int, figures: dict[str, str] = FIGURES
) -> None:
    window = min(window, len(samples) // 2) or 1
    half = samples[len(samples) // 2 :]
    print()
    print(
        f"{'figure':<14} {f'first {window}':>9} {f'last {window}':>9} {'change':>8} "
        f"{'slope/100':>10} {'late slope':>10}"
    )
    for name, spec in figures.items():
        values = [float(s.value(name)) for s in samples]
        first, last = _average(values[:window]), _average(values[-window:])
        late = slope([float(s.value(name)) for s in half])
        print(
            f"{name:<14} {first:>9{spec}} {last:>9{spec}} {last - first:>+8{spec}} "
            f"{slope(values):>+10{spec}} {late:>+10{spec}}"
        )
    print(
        f"first/last {window}: averages over the first and last {window} passes; slope/100: "
        "least-squares slope per 100 passes over every pass; late slope: the same over the "
        "second half (after the caches have warmed up)"
    )


# --- The run ------------------------------------------------------------------


def write_config(
    workdir: Path, corpus: bench.Corpus, server: bench.FeedServer, store: str | None = None
) -> Path:
    """pipeline.py's feeds.yaml, every source due every second, served on a free port;
    over PostgreSQL (``store``), every process looks for sources due every second."""
    if store is None:
        config = bench.write_config(workdir, corpus, server)
    else:
        config = bench.write_config(workdir, corpus, server, store)
    daemon = ["interval: 1s", "min_interval: 1s", "serve:", "  host: 127.0.0.1", "  port: 0"]
    if store is not None:
        daemon += ["cluster:", "  tick: 1s"]
    config.write_text("\n".join(daemon) + "\n" + config.read_text(encoding="utf-8"))
    return config


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def _masked(url: str) -> str:
    """``url`` with its password, if any, masked."""
    return re.sub(r"^([^:/]+://[^:/@]*:)[^@]*@", r"\1***@", url)


def _title(name: str) -> str:
    """A process's name in messages: the daemon, worker 1."""
    return "the daemon" if name == "daemon" else f"worker {name.removeprefix('w')}"


def soak(args: argparse.Namespace, workdir: Path) -> int:
    if args.store is None:
        return _soak(args, workdir, workdir / "aggregator.db")
    try:
        database = Database(args.store)
    except ImportError:
        print("--store needs psycopg: pip install '.[postgres]'")
        return 1
    except Exception as error:  # psycopg.Error, not importable above
        print(f"cannot connect to {_masked(args.store)}: {' '.join(str(error).split())}")
        return 1
    try:
        tables = database.tables()
        if tables:
            print(
                f"{_masked(args.store)} is not empty ({len(tables)} tables, {tables[0]} "
                "among them): a store left there would not start cold"
            )
            return 1
        print(
            "PostgreSQL's autovacuum is "
            + (
                "on"
                if database.autovacuum()
                else "off: no dead row is reclaimed, and the tables grow by them"
            ),
            flush=True,
        )
        return _soak(args, workdir, database)
    finally:
        database.close()


def _soak(args: argparse.Namespace, workdir: Path, database: Path | Database) -> int:
    corpus = bench.generate(args.feeds, args.items, args.seed)
    changes = Changes(corpus, args.items, args.changed, args.seed)
    aggregate = Path(sys.executable).parent / "aggregate"
    logs = {"daemon": workdir / "daemon.log"}
    logs.update((f"w{k}", workdir / f"worker-{k}.log") for k in range(1, args.workers + 1))
    with bench.FeedServer(compress=args.gzip) as server:
        for feed in corpus.feeds:
            server.put(feed)
        config = write_config(workdir, corpus, server, args.store)
        command = [str(aggregate), "-c", str(config), "--log-level", "INFO"]
        worker = [str(aggregate), "worker", "-c", str(config), "--log-level", "INFO"]
        limit = f"{args.passes} passes" if args.minutes is None else f"{args.minutes:g} minutes"
        print(
            f"{len(corpus.feeds)} feeds of {args.items} items on {server.url('/')}, "
            f"{changes.count} changed a pass (and one copy); {limit}",
            flush=True,
        )
        print("running:", " ".join(command), flush=True)
        if args.workers:
            print(f"and {args.workers} times:", " ".join(worker), flush=True)
        processes: dict[str, subprocess.Popen[bytes]] = {}
        try:
            # Started together, as a cluster is: the first to open the
            # empty database creates the schema.
            for name, path in logs.items():
                with path.open("wb") as log:
                    processes[name] = subprocess.Popen(
                        command if name == "daemon" else worker,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
            return _watch(args, processes, workdir, database, logs, changes, server)
        finally:
            for process in processes.values():
                if process.poll() is None:
                    process.kill()
                    process.wait()


def _watch(
    args: argparse.Namespace,
    processes: dict[str, subprocess.Popen[bytes]],
    workdir: Path,
    database: Path | Database,
    logs: dict[str, Path],
    changes: Changes,
    server: bench.FeedServer,
) -> int:
    started = time.monotonic()
    process = processes["daemon"]

    def log_text(name: str = "daemon") -> str:
        return logs[name].read_text(encoding="utf-8", errors="replace")

    if not wait_for(lambda: "serving" in log_text() or process.poll() is not None, 60):
        print("the daemon did not start serving within 60 s")
        return 1
    match = re.search(r"on http://127\.0\.0\.1:(\d+)/", log_text())
    if process.poll() is not None or match is None:
        print(f"the daemon exited at start ({process.returncode}):\n{log_text()[-3000:]}")
        return 1
    reader = Reader(f"http://127.0.0.1:{match.group(1)}").start()
    watch = LogWatcher(list(logs.values()), [feed.name for feed in changes.corpus.feeds])
    samples: list[Sample] = []
    early_exit: tuple[str, int] | None = None
    deadline = None if args.minutes is None else started + 60 * args.minutes
    try:
        while True:
            exited = [(name, p.returncode) for name, p in processes.items() if p.poll() is not None]
            if exited:
                early_exit = exited[0]
                break
            watch.read()
            done = watch.passes()
            if done > len(samples):
                number = len(samples) + 1
                samples.append(measure(number, started, processes, database, watch, reader))
                watch.new_polls = watch.merged = watch.published = 0
                if number == 1 or number % args.every == 0:
                    print_row(samples[-1], header=number == 1, workers=args.workers)
                if args.minutes is None and number >= args.passes:
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    break
                for feed in changes.before(number + 1):
                    server.put(feed)
                continue
            time.sleep(0.05)
    finally:
        reader.stop()

    stopped: dict[str, int | None] = {}
    if early_exit is None:
        for each in processes.values():
            each.send_signal(signal.SIGTERM)
        for name, each in processes.items():
            try:
                stopped[name] = each.wait(timeout=60)
            except subprocess.TimeoutExpired:
                stopped[name] = None
    watch.read()
    _write_csv(workdir / "soak.csv", samples)
    if samples and samples[-1].pass_ % args.every:
        print_row(samples[-1], workers=args.workers)
    if not isinstance(database, Database):
        if samples:
            print_summary(samples, args.window)
        return _verdict(samples, args.window, early_exit, stopped, watch, reader, log_text)
    if samples:
        print_summary(samples, args.window, cluster_figures(args.workers))
    slack = cluster_slack(args.workers, len(changes.corpus.feeds))
    end = ClusterEnd(database.jobs_left(), watch.warnings)
    return _verdict(samples, args.window, early_exit, stopped, watch, reader, log_text, slack, end)


def _write_csv(path: Path, samples: Sequence[Sample]) -> None:
    """One row a pass; over PostgreSQL, its ``more`` figures after the others."""
    names = [f.name for f in fields(Sample) if f.name != "more"]
    more = list(samples[0].more) if samples else []
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow([name.rstrip("_") for name in names] + more)
        writer.writerows(
            [getattr(s, n) for n in names] + [s.more[n] for n in more] for s in samples
        )


@dataclass
class ClusterEnd:
    """What a cluster left: the jobs in the queue once every process stopped,
    and the loud lines of the logs."""

    jobs_left: dict[str, int]
    warnings: list[str]

    def problems(self) -> list[str]:
        left = ", ".join(f"{n} {status}" for status, n in self.jobs_left.items())
        print(f"the queue at the stop: {left or 'empty'}")
        problems = []
        if self.jobs_left.get("failed"):
            problems.append(f"{self.jobs_left['failed']} failed jobs left in the queue")
        if self.warnings:
            problems.append(
                f"{len(self.warnings)} warnings or job errors in the logs, the first: "
                f"{self.warnings[0]}"
            )
        return problems


def _verdict(
    samples: Sequence[Sample],
    window: int,
    early_exit: tuple[str, int] | None,
    stopped: dict[str, int | None],
    watch: LogWatcher,
    reader: Reader,
    log_text: Callable[[str], str],
    slack: dict[str, int] = SLACK,
    cluster: ClusterEnd | None = None,
) -> int:
    problems = []
    if early_exit is not None:
        name, code = early_exit
        problems.append(f"{_title(name)} exited with {code} after {len(samples)} passes")
    problems += [
        f"{_title(name)} did not stop with 0 on SIGTERM: {code}"
        for name, code in stopped.items()
        if code != 0
    ]
    if watch.errors:
        problems.append(f"{len(watch.errors)} polls failed, the first: {watch.errors[0]}")
    if watch.tracebacks:
        problems.append(f"{watch.tracebacks} tracebacks in the log")
    if watch.publishes_abandoned > 1:
        # The stop's grace may cut one publish short; more were waiting.
        problems.append(f"{watch.publishes_abandoned} publishes abandoned at the stop")
    if reader.failures:
        problems.append(f"{len(reader.failures)} reader failures, the first: {reader.failures[0]}")
    if not reader.answers.get(200):
        problems.append("the reader never got the feed")
    if len(reader.etags) < 2:
        problems.append(
            f"the reader saw {len(reader.etags)} version of /feed.atom: nothing was published "
            "while the daemon ran"
        )
    problems += [f"grows: {found}" for found in growing(samples, window, slack)]
    if cluster is not None:
        problems += cluster.problems()
    answers = ", ".join(f"{n} {status}" for status, n in sorted(reader.answers.items()))
    print(f"reader: {answers or 'no answers'}; {len(reader.etags)} versions of /feed.atom seen")
    if len(samples) < 2 * window:
        print(f"too few passes ({len(samples)}) to judge growth: {2 * window} needed")
    for problem in problems:
        print("FAILED:", problem)
    if early_exit is not None:
        print(log_text(early_exit[0])[-3000:])
    if not problems:
        workers = len(stopped) - 1
        processes = f" and {workers} worker{'s' * (workers > 1)}" if workers > 0 else ""
        print(f"ok: nothing grows beyond its slack; the daemon{processes} stopped with 0")
    return 1 if problems else 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=200, help="number of feeds (default 200)")
    parser.add_argument("--items", type=int, default=30, help="items per feed (default 30)")
    parser.add_argument("--passes", type=int, default=60, help="passes to run (default 60)")
    parser.add_argument("--minutes", type=float, help="run this long instead of a number of passes")
    parser.add_argument(
        "--every", type=int, default=10, help="a table row every this many passes (default 10)"
    )
    parser.add_argument(
        "--window",
        type=int,
        default=WINDOW,
        help=f"passes compared at each end of the run (default {WINDOW})",
    )
    parser.add_argument(
        "--changed",
        type=float,
        default=0.1,
        help="share of the feeds that gain a story before each pass (default 0.1)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--gzip", action="store_true", help="serve gzip to clients that accept it")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="work in DIR and keep it (default: a temp dir)"
    )
    parser.add_argument(
        "--store",
        metavar="URL",
        help="the URL of an empty PostgreSQL database: run the cluster's daemon over it "
        "(default: the SQLite daemon, its database in the work directory)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=0,
        help="'aggregate worker' processes beside the daemon, with --store (default 0)",
    )
    args = parser.parse_args(argv)
    if min(args.feeds, args.items, args.passes, args.every, args.window) < 1:
        parser.error("--feeds, --items, --passes, --every and --window must be at least 1")
    if args.minutes is not None and args.minutes <= 0:
        parser.error("--minutes must be positive")
    if not 0 < args.changed <= 1:
        parser.error("--changed must be in (0, 1]")
    if args.store is not None and not args.store.startswith(("postgresql://", "postgres://")):
        parser.error("--store takes a postgresql:// URL")
    if args.workers < 0:
        parser.error("--workers must be at least 0")
    if args.workers and args.store is None:
        parser.error("--workers needs --store: workers share a PostgreSQL store")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        if any(args.keep.iterdir()):
            print(f"{args.keep} is not empty: a database left there would not start cold")
            return 1
        return soak(args, args.keep.resolve())
    with tempfile.TemporaryDirectory(prefix="aggregator-soak-") as workdir:
        return soak(args, Path(workdir))


if __name__ == "__main__":
    raise SystemExit(main())
