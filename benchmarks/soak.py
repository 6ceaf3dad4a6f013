"""Does the daemon leak over many passes?  Its memory, threads, descriptors,
child processes and database files, pass after pass.

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

It exits 1 when the daemon exits before it is stopped, does not stop with
0, logs a source's error or a traceback, abandons more than one publish at
the stop (they piled up), the reader is answered other than 200 or 304 or
sees only one version of the feed (nothing published while the daemon
ran), or a count grows without bound: its largest over the last
``--window`` passes (10) over its largest over the first by more than a
small slack (threads 2, children 1, descriptors other than sockets 4,
sockets ``fetch.concurrency``, the most connections a pass opens to the
feeds).  Memory is reported, not judged: what is allocator noise and what a
leak needs the numbers and the slopes.
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
from dataclasses import astuple, dataclass, fields
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pipeline as bench  # this directory's, once the path is set

# Connections a pass may hold open to the feeds at once (pipeline.py's feeds.yaml).
FETCH_CONCURRENCY = 64
WINDOW = 10  # passes compared at each end (--window)
# How much more the largest of the last window of passes may be than the
# largest of the first, before a count is said to grow.
SLACK = {"threads": 2, "children": 1, "fds_other": 4, "sockets": FETCH_CONCURRENCY}
# One poll's line: "<status>  <source>: <detail>", or an error, "<source>: <message>".
POLL_LINE = re.compile(
    r" aggregator\.daemon: (?:(new|updated|unchanged|error|\S+)\s+)?(feed-\d+): (.*)$"
)
MERGED = re.compile(r"(\d+) merged into")


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
    last got (If-None-Match), and every ``fresh_every``-th time without."""

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
                if error.code != 304:
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


def _mb(path: Path) -> float:
    try:
        return path.stat().st_size / 1e6
    except FileNotFoundError:
        return 0.0


class LogWatcher:
    """Reads the daemon's log as it grows: polls per source, merges, publishes."""

    def __init__(self, path: Path, sources: Sequence[str]):
        self.path = path
        self.polls = dict.fromkeys(sources, 0)
        self.new_polls = 0
        self.merged = 0
        self.published = 0
        self.errors: list[str] = []
        self.tracebacks = 0
        self.publishes_abandoned = 0
        self._offset = 0
        self._partial = b""

    def read(self) -> None:
        with self.path.open("rb") as log:
            log.seek(self._offset)
            data = log.read()
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        for raw in lines:
            self._line(raw.decode("utf-8", "replace"))

    def _line(self, line: str) -> None:
        if "Traceback" in line:
            self.tracebacks += 1
        if " aggregator.daemon: publishing abandoned" in line:
            self.publishes_abandoned += 1
            return
        if " aggregator.daemon: published " in line:
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


def measure(
    number: int, started: float, pid: int, database: Path, watch: LogWatcher, reader: Reader
) -> Sample:
    tree = bench._process_tree(pid)
    pss = {p: bench._field_kb(f"/proc/{p}/smaps_rollup", "Pss") for p in tree}
    fds, sockets = descriptors(pid)
    return Sample(
        pass_=number,
        seconds=time.monotonic() - started,
        pss_tree_mb=sum(pss.values()) / 1024,
        pss_daemon_mb=pss[pid] / 1024,
        threads=bench._field_kb(f"/proc/{pid}/status", "Threads"),
        fds=fds,
        sockets=sockets,
        fds_other=fds - sockets,
        children=len(tree) - 1,
        db_mb=_mb(database),
        wal_mb=_mb(database.with_name(database.name + "-wal")),
        new_polls=watch.new_polls,
        merged=watch.merged,
        published=watch.published,
        reader_200=reader.answers.get(200, 0),
        reader_304=reader.answers.get(304, 0),
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
        first = max(getattr(s, name) for s in samples[:window])
        last = max(getattr(s, name) for s in samples[-window:])
        if last > first + allowed:
            found.append(
                f"{name}: at most {first} in the first {window} passes, {last} in the last"
            )
    return found


def print_row(sample: Sample, header: bool = False) -> None:
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


def print_summary(samples: Sequence[Sample], window: int) -> None:
    window = min(window, len(samples) // 2) or 1
    half = samples[len(samples) // 2 :]
    print()
    print(
        f"{'figure':<14} {f'first {window}':>9} {f'last {window}':>9} {'change':>8} "
        f"{'slope/100':>10} {'late slope':>10}"
    )
    for name, spec in FIGURES.items():
        values = [float(getattr(s, name)) for s in samples]
        first, last = _average(values[:window]), _average(values[-window:])
        late = slope([float(getattr(s, name)) for s in half])
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


def write_config(workdir: Path, corpus: bench.Corpus, server: bench.FeedServer) -> Path:
    """pipeline.py's feeds.yaml, every source due every second, served on a free port."""
    config = bench.write_config(workdir, corpus, server)
    daemon = ["interval: 1s", "min_interval: 1s", "serve:", "  host: 127.0.0.1", "  port: 0"]
    config.write_text("\n".join(daemon) + "\n" + config.read_text(encoding="utf-8"))
    return config


def wait_for(condition: Callable[[], bool], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def soak(args: argparse.Namespace, workdir: Path) -> int:
    corpus = bench.generate(args.feeds, args.items, args.seed)
    changes = Changes(corpus, args.items, args.changed, args.seed)
    aggregate = Path(sys.executable).parent / "aggregate"
    log_path = workdir / "daemon.log"
    database = workdir / "aggregator.db"
    with bench.FeedServer(compress=args.gzip) as server:
        for feed in corpus.feeds:
            server.put(feed)
        config = write_config(workdir, corpus, server)
        command = [str(aggregate), "-c", str(config), "--log-level", "INFO"]
        limit = f"{args.passes} passes" if args.minutes is None else f"{args.minutes:g} minutes"
        print(
            f"{len(corpus.feeds)} feeds of {args.items} items on {server.url('/')}, "
            f"{changes.count} changed a pass (and one copy); {limit}",
            flush=True,
        )
        print("running:", " ".join(command), flush=True)
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            return _watch(args, process, workdir, database, log_path, changes, server)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()


def _watch(
    args: argparse.Namespace,
    process: subprocess.Popen[bytes],
    workdir: Path,
    database: Path,
    log_path: Path,
    changes: Changes,
    server: bench.FeedServer,
) -> int:
    started = time.monotonic()

    def log_text() -> str:
        return log_path.read_text(encoding="utf-8", errors="replace")

    if not wait_for(lambda: "serving" in log_text() or process.poll() is not None, 60):
        print("the daemon did not start serving within 60 s")
        return 1
    match = re.search(r"on http://127\.0\.0\.1:(\d+)/", log_text())
    if process.poll() is not None or match is None:
        print(f"the daemon exited at start ({process.returncode}):\n{log_text()[-3000:]}")
        return 1
    reader = Reader(f"http://127.0.0.1:{match.group(1)}").start()
    watch = LogWatcher(log_path, [feed.name for feed in changes.corpus.feeds])
    samples: list[Sample] = []
    early_exit = None
    deadline = None if args.minutes is None else started + 60 * args.minutes
    try:
        while True:
            if process.poll() is not None:
                early_exit = process.returncode
                break
            watch.read()
            done = watch.passes()
            if done > len(samples):
                number = len(samples) + 1
                samples.append(measure(number, started, process.pid, database, watch, reader))
                watch.new_polls = watch.merged = watch.published = 0
                if number == 1 or number % args.every == 0:
                    print_row(samples[-1], header=number == 1)
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

    stopped = None
    if early_exit is None:
        process.send_signal(signal.SIGTERM)
        try:
            stopped = process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            stopped = None
    watch.read()
    _write_csv(workdir / "soak.csv", samples)
    if samples and samples[-1].pass_ % args.every:
        print_row(samples[-1])
    if samples:
        print_summary(samples, args.window)
    return _verdict(samples, args.window, early_exit, stopped, watch, reader, log_text)


def _write_csv(path: Path, samples: Sequence[Sample]) -> None:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(f.name.rstrip("_") for f in fields(Sample))
        writer.writerows(astuple(s) for s in samples)


def _verdict(
    samples: Sequence[Sample],
    window: int,
    early_exit: int | None,
    stopped: int | None,
    watch: LogWatcher,
    reader: Reader,
    log_text: Callable[[], str],
) -> int:
    problems = []
    if early_exit is not None:
        problems.append(f"the daemon exited with {early_exit} after {len(samples)} passes")
    elif stopped != 0:
        problems.append(f"the daemon did not stop with 0 on SIGTERM: {stopped}")
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
    problems += [f"grows: {found}" for found in growing(samples, window)]
    answers = ", ".join(f"{n} {status}" for status, n in sorted(reader.answers.items()))
    print(f"reader: {answers or 'no answers'}; {len(reader.etags)} versions of /feed.atom seen")
    if len(samples) < 2 * window:
        print(f"too few passes ({len(samples)}) to judge growth: {2 * window} needed")
    for problem in problems:
        print("FAILED:", problem)
    if early_exit is not None:
        print(log_text()[-3000:])
    if not problems:
        print("ok: nothing grows beyond its slack; the daemon stopped with 0")
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
    args = parser.parse_args(argv)
    if min(args.feeds, args.items, args.passes, args.every, args.window) < 1:
        parser.error("--feeds, --items, --passes, --every and --window must be at least 1")
    if args.minutes is not None and args.minutes <= 0:
        parser.error("--minutes must be positive")
    if not 0 < args.changed <= 1:
        parser.error("--changed must be in (0, 1]")
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
