"""Publishing and serving the merged feed: how fast, is anything rewritten, and does it hold?

    python benchmarks/serve.py [--entries 200] [--seconds 5] [--connections 64] [--keep DIR]
    python benchmarks/serve.py --abuse [--idle 1000] [--slow 300] [--hold 10] [--feed-mb 4.3]
                               [--nofile 200] [--status-requests 1000]

1. Generates feeds with the generator of ``benchmarks/pipeline.py`` as local
   files, enough for ``--entries`` items, and runs ``aggregate --once`` over
   them: a real store, real summaries, every format published, at most
   ``--entries`` entries per feed.
2. Publishing: removes the published files and times publishing them again
   from the store (``Pipeline.publish_if_changed``: the summaries are cached,
   so this is making the entries and the digests, rendering every format and
   writing it), best and median of five.  Then it publishes with nothing
   changed and counts the files rewritten, and once more after removing
   ``feed.atom`` only: that file alone should be written.
3. Serving: runs the app the daemon serves (``aggregator.serve.app``) over the
   published directory in a child process on 127.0.0.1 and loads it with
   `wrk <https://github.com/wg/wrk>`_ for ``--seconds`` each: conditional GETs
   of ``feed.atom`` answered 304, then full GETs of it, plain and gzipped.
   Without ``wrk`` on the PATH this part is skipped with a note.

Targets (issue 7): publishing 200 entries into every format in under 0.2 s,
no file rewritten when nothing changed, and at least 5,000 304s and 1,000
full responses of the 200-entry Atom feed per second.  Exits 1 when one is
missed.  A benchmark, not a test: ``tests/benchmarks`` runs it at a tiny size.

``--abuse`` (issue 12) runs the daemon itself (``aggregate``, over a few
generated local feeds, ``feed.atom`` then replaced by a synthetic one of
``--feed-mb``) and, from this process, on 127.0.0.1 only:

1. opens ``--idle`` connections that send nothing and ``--slow`` readers of
   ``feed.atom`` that read 16 bytes a second through a 4 KB receive window,
   and holds them ``--hold`` seconds, asking for ``/healthz`` every quarter
   second on a new connection and sampling the daemon's memory (Rss and Pss
   of its main process, from ``/proc``);
2. then sends ``--status-requests`` requests for ``/status`` over 50
   connections, still asking for ``/healthz``;
3. closes everything and waits up to 5 s for the memory to come back;
4. stops the daemon with SIGTERM and reads its log.

It does this twice: with this process's descriptor limit, then with the
daemon's lowered to ``--nofile`` (0 skips that round).  Goals: every
``/healthz`` answered 200 within 1 s; memory at most 50 MB above what it
was with the feed loaded, at the peak, and at most 15 MB above it once the
clients are gone (the allocator keeps some: see AFTER_TARGET_MB); at most
one log line saying that descriptors ran out, and no traceback.  Exits 1
when one is missed.  Everything is bounded: the connections are opened once,
each wait has a deadline, and a round takes about ``--hold`` plus 15
seconds; one that runs a minute longer, or whose daemon logs more than
256 MB, is cut short and counts as missed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import random
import re
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pipeline as pipeline_benchmark  # benchmarks/pipeline.py, beside this script

from aggregator.config import load_config
from aggregator.pipeline import Pipeline
from aggregator.publish.layout import ATOM_FILE
from aggregator.store import open_store

PUBLISH_TARGET_S = 0.2
NOT_MODIFIED_TARGET = 5_000  # requests per second
FULL_TARGET = 1_000
REPEAT = 5
ITEMS_PER_FEED = 30


def write_corpus(directory: Path, entries: int, seed: int) -> Path:
    """Feeds as local files, about 10% more items than ``entries``, and their feeds.yaml."""
    feeds = math.ceil(entries * 1.1 / ITEMS_PER_FEED)
    corpus = pipeline_benchmark.generate(feeds, ITEMS_PER_FEED, seed)
    (directory / "feeds").mkdir(parents=True, exist_ok=True)
    lines = [
        "title: Benchmark",
        "store: aggregator.db",
        "output:",
        "  dir: out",
        f"  max_entries: {entries}",
        "sources:",
    ]
    for feed in corpus.feeds:
        name = feed.path.rsplit("/", 1)[1]
        (directory / "feeds" / name).write_bytes(feed.render())
        lines += [
            f"  - name: {feed.name}",
            f"    path: feeds/{name}",
            f"    section: {feed.section}",
        ]
    config = directory / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _published(out: Path) -> dict[str, int]:
    """Each published file (relative path) and its modification time in ns."""
    return {
        str(p.relative_to(out)): p.stat().st_mtime_ns for p in sorted(out.rglob("*")) if p.is_file()
    }


def measure_publishing(config_path: Path) -> tuple[list[float], int, int, list[str], int]:
    """Seconds per full publish, files per publish, files rewritten with nothing
    changed, files written after removing feed.atom, and entries published."""
    config = load_config(config_path)
    out = config.output.dir
    store = open_store(config.store)

    async def run() -> tuple[list[float], int, int, list[str]]:
        seconds = []
        files = 0
        async with Pipeline(config, store) as pipeline:
            for _ in range(REPEAT):
                shutil.rmtree(out)
                started = time.perf_counter()
                _, report = await pipeline.publish_if_changed()
                seconds.append(time.perf_counter() - started)
                assert report is not None
                files = len(report.written)
            before = _published(out)
            _, report = await pipeline.publish_if_changed()
            after = _published(out)
            rewritten = len(report.written) if report is not None else 0
            rewritten += sum(before[name] != after.get(name) for name in before)
            (out / ATOM_FILE).unlink()
            _, report = await pipeline.publish_if_changed()
            assert report is not None
            return seconds, files, rewritten, report.written

    try:
        seconds, files, rewritten, only = asyncio.run(run())
        entries = len(store.latest_items(config.output.max_entries))
    finally:
        store.close()
    return seconds, files, rewritten, only, entries


# -- serving ------------------------------------------------------------------


def serve_forever(out: Path) -> None:
    """The child process: the daemon's app over ``out`` on 127.0.0.1; prints its port."""
    from aggregator.serve.app import Server, create_app

    async def main() -> None:
        app = create_app(out, status=dict, healthy=lambda: True, opml=lambda: b"")
        server = Server(app)
        await server.start("127.0.0.1", 0)
        print(server.port, flush=True)
        await asyncio.Event().wait()

    asyncio.run(main())


def wrk(url: str, seconds: int, connections: int, headers: Sequence[str]) -> tuple[float, str]:
    """Requests per second wrk reached, and its summary of the responses."""
    # One thread of wrk leaves the other core to the server.
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", *headers, url]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    errors = re.search(r"(Non-2xx or 3xx responses: \d+|Socket errors: .*)", output)
    return (float(rate.group(1)) if rate else 0.0), (errors.group(1) if errors else "no errors")


def measure_serving(out: Path, seconds: int, connections: int) -> list[tuple[str, float, str]]:
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve-only", str(out)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        port = int(child.stdout.readline())
        url = f"http://127.0.0.1:{port}/{ATOM_FILE}"
        with urllib.request.urlopen(url, timeout=5) as response:
            etag = response.headers["ETag"]
            size = len(response.read())
        request = urllib.request.Request(url, headers={"If-None-Match": etag})
        try:
            urllib.request.urlopen(request, timeout=5)
            raise SystemExit("the served feed did not answer 304 to its own ETag")
        except urllib.error.HTTPError as answer:
            assert answer.code == 304, answer.code
        rounds = [
            (f"304 Not Modified ({ATOM_FILE})", ["-H", f"If-None-Match: {etag}"]),
            (f"200 full {ATOM_FILE} ({size / 1024:.0f} KB)", []),
            (f"200 full {ATOM_FILE}, gzip", ["-H", "Accept-Encoding: gzip"]),
        ]
        return [(name, *wrk(url, seconds, connections, headers)) for name, headers in rounds]
    finally:
        child.terminate()
        child.wait()


# -- abuse (issue 12) ------------------------------------------------------------

HEALTHZ_TARGET_S = 1.0
GROWTH_TARGET_MB = 50.0
# What "returns" means: pymalloc keeps about 9 MB of arenas that a crowd's
# objects were spread over, and reuses them for the next crowd.
AFTER_TARGET_MB = 15.0
TOO_MANY = "Too many open files"
PROBE_EVERY_S = 0.25
SLOW_READ_BYTES = 16
SLOW_RECEIVE_BUFFER = 4096
CONNECT_BATCH = 50
FLOOD_CONNECTIONS = 50
AGGREGATE = Path(sys.executable).parent / "aggregate"
# A round is cut short past --hold and this much, or when the daemon's log
# grows past LOG_CAP (the daemon wrote 9.4 MB in 20 s; unfixed, with
# 1,300 connections, it writes hundreds of MB a minute).
ROUND_SLACK_S = 60
LOG_CAP = 256 << 20


def large_feed(megabytes: float, seed: int) -> bytes:
    """A synthetic Atom feed of about ``megabytes``, about as compressible as a real one."""
    pick = random.Random(seed).choice
    words = [f"word{i}" for i in range(5000)]
    head = '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">\n'
    parts = [head, "<title>Benchmark</title><id>urn:benchmark</id>\n"]
    size = sum(map(len, parts))
    n = 0
    while size < megabytes * 1_000_000:
        n += 1
        title = " ".join(pick(words) for _ in range(8))
        text = " ".join(pick(words) for _ in range(80))
        entry = (
            f"<entry><id>urn:benchmark:{n}</id><title>{title}</title>"
            f"<updated>2024-11-19T09:30:00Z</updated><summary>{text}</summary></entry>\n"
        )
        parts.append(entry)
        size += len(entry)
    parts.append("</feed>\n")
    return "".join(parts).encode()


def memory_mb(pid: int) -> tuple[float, float]:
    """Rss and Pss of one process, in MB (from smaps_rollup)."""
    values = {}
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        for line in rollup:
            name, _, rest = line.partition(":")
            if name in ("Rss", "Pss"):
                values[name] = int(rest.split()[0]) / 1024
    return values["Rss"], values["Pss"]


@dataclass
class Round:
    name: str
    limit: str = ""
    probes: list[float] = field(default_factory=list)  # /healthz seconds while held
    failed_probes: list[str] = field(default_factory=list)
    flood_probes: list[float] = field(default_factory=list)
    flood_seconds: float = 0.0
    flood_ok: int = 0
    before: tuple[float, float] = (0.0, 0.0)
    peak: tuple[float, float] = (0.0, 0.0)
    after: tuple[float, float] = (0.0, 0.0)
    idle_opened: int = 0
    idle_closed: int = 0
    slow_statuses: dict[str, int] = field(default_factory=dict)
    too_many_lines: int = 0
    limit_lines: int = 0
    tracebacks: int = 0
    log_lines: int = 0
    log_bytes: int = 0
    stop_seconds: float = 0.0
    limit_line: str = "?"
    aborted: str = ""

    def worst(self, probes: list[float]) -> float:
        return max(probes, default=float("nan"))

    def missed(self) -> list[str]:
        missed = [f"{self.name}: {self.aborted}"] if self.aborted else []
        if self.failed_probes:
            missed.append(f"{self.name}: {len(self.failed_probes)} /healthz failed")
        if not self.probes or self.worst(self.probes + self.flood_probes) > HEALTHZ_TARGET_S:
            missed.append(f"{self.name}: /healthz slower than {HEALTHZ_TARGET_S} s")
        if self.peak[0] - self.before[0] > GROWTH_TARGET_MB:
            missed.append(f"{self.name}: memory grew more than {GROWTH_TARGET_MB:.0f} MB")
        if self.after[0] - self.before[0] > AFTER_TARGET_MB:
            missed.append(f"{self.name}: memory not returned")
        if self.too_many_lines > 1 or self.tracebacks:
            missed.append(f"{self.name}: log")
        if self.flood_ok == 0:
            missed.append(f"{self.name}: /status flood")
        return missed


class Daemon:
    """``aggregate -c CONFIG --port 0`` with its log in a file and, maybe, few descriptors."""

    def __init__(self, config: Path, log: Path, nofile: int | None) -> None:
        self.log = log

        def limit() -> None:
            if nofile is not None:
                _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
                resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                [str(AGGREGATE), "-c", str(config), "--port", "0", "--log-level", "INFO"],
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                preexec_fn=limit,
            )
        deadline = time.monotonic() + 60
        while True:
            match = re.search(r"serving .* on http://127\.0\.0\.1:(\d+)/", self.text())
            if match:
                self.port = int(match.group(1))
                break
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.process.kill()
                raise SystemExit("the daemon did not start:\n" + self.text()[-3000:])
            time.sleep(0.1)

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> float:
        started = time.monotonic()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return time.monotonic() - started


async def http_get(port: int, path: str, timeout: float) -> tuple[int, bytes]:
    """One GET on a new connection (Connection: close): status and body."""

    async def get() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            data = await reader.read()
        finally:
            writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
        return status, body

    return await asyncio.wait_for(get(), timeout)


async def pause(stop: asyncio.Event, seconds: float) -> None:
    """Waits ``seconds``, or less once ``stop`` is set."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def probe(port: int, into: list[float], failed: list[str], stop: asyncio.Event) -> None:
    """/healthz every PROBE_EVERY_S until ``stop``: seconds per answer, and what failed."""
    while not stop.is_set():
        started = time.monotonic()
        try:
            status, _ = await http_get(port, "/healthz", 5.0)
            if status != 200:
                failed.append(f"status {status}")
        except (OSError, TimeoutError) as error:
            failed.append(repr(error))
        into.append(time.monotonic() - started)
        await pause(stop, PROBE_EVERY_S)


async def connect(port: int, receive_buffer: int | None = None) -> socket.socket | None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setblocking(False)
    if receive_buffer is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    try:
        await asyncio.wait_for(
            asyncio.get_running_loop().sock_connect(sock, ("127.0.0.1", port)), 5
        )
    except (OSError, TimeoutError):
        sock.close()
        return None
    return sock


async def open_many(
    count: int, make: Callable[[], Awaitable[socket.socket | None]]
) -> list[socket.socket]:
    """``count`` connections, CONNECT_BATCH at a time with a pause between batches.

    All at once would overflow the listen queue, and Linux then leaves a client
    believing in connections the server never sees.
    """
    made: list[socket.socket] = []
    while len(made) < count:
        batch = min(CONNECT_BATCH, count - len(made))
        results = await asyncio.gather(*(make() for _ in range(batch)))
        made += [sock for sock in results if sock is not None]
        await asyncio.sleep(0.02)
    return made


async def slow_read(sock: socket.socket, status: dict[str, int], stop: asyncio.Event) -> int:
    """Asks for feed.atom, then reads SLOW_READ_BYTES a second until ``stop``; bytes read."""
    loop = asyncio.get_running_loop()
    got = b""
    try:
        await loop.sock_sendall(sock, b"GET /feed.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        while not stop.is_set():
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(sock, SLOW_READ_BYTES), 1.0)
            except TimeoutError:
                continue
            if not chunk:
                break
            got += chunk if len(got) < 64 else b""
            await pause(stop, 1.0)
    except OSError:
        pass
    match = re.match(rb"HTTP/1\.1 (\d+)", got)
    key = match.group(1).decode() if match else "closed"
    status[key] = status.get(key, 0) + 1
    return len(got)


def closed_by_server(sock: socket.socket) -> bool:
    try:
        return sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


async def status_flood(port: int, requests: int) -> int:
    """``requests`` GETs of /status over FLOOD_CONNECTIONS kept-alive connections; 200s."""
    remaining = requests
    ok = 0

    async def worker() -> None:
        nonlocal remaining, ok
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining > 0:
                remaining -= 1
                writer.write(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                head = await reader.readuntil(b"\r\n\r\n")
                length = re.search(rb"(?i)content-length: *(\d+)", head)
                await reader.readexactly(int(length.group(1)) if length else 0)
                ok += head.startswith(b"HTTP/1.1 200")
        except (OSError, asyncio.IncompleteReadError):
            pass  # closed to make room: the other workers go on
        finally:
            writer.close()

    await asyncio.wait_for(asyncio.gather(*(worker() for _ in range(FLOOD_CONNECTIONS))), 60)
    return ok


async def abuse(daemon: Daemon, result: Round, args: argparse.Namespace) -> None:
    port = daemon.port
    pid = daemon.process.pid
    status, body = await http_get(port, f"/{ATOM_FILE}", 30)
    assert status == 200 and len(body) > args.feed_mb * 900_000, (status, len(body))
    result.before = result.peak = memory_mb(pid)
    stop = asyncio.Event()

    async def sample() -> None:
        while not stop.is_set():
            rss, pss = memory_mb(pid)
            result.peak = (max(result.peak[0], rss), max(result.peak[1], pss))
            await pause(stop, PROBE_EVERY_S)

    idle: list[socket.socket] = []
    slow: list[socket.socket] = []
    sampler = asyncio.create_task(sample())
    prober = asyncio.create_task(probe(port, result.probes, result.failed_probes, stop))
    try:
        idle += await open_many(args.idle, lambda: connect(port))
        slow += await open_many(args.slow, lambda: connect(port, SLOW_RECEIVE_BUFFER))
        readers = [asyncio.create_task(slow_read(s, result.slow_statuses, stop)) for s in slow]
        result.idle_opened = len(idle)
        await asyncio.sleep(args.hold)
        result.idle_closed = sum(closed_by_server(s) for s in idle)
        stop.set()
        await asyncio.gather(*readers)
        await prober

        # /status, as the daemon answers it, in a flood.
        flood_stop = asyncio.Event()
        prober = asyncio.create_task(
            probe(port, result.flood_probes, result.failed_probes, flood_stop)
        )
        started = time.monotonic()
        result.flood_ok = await status_flood(port, args.status_requests)
        result.flood_seconds = time.monotonic() - started
        flood_stop.set()
        await prober
    finally:
        stop.set()
        await sampler
        for sock in idle + slow:
            sock.close()
    deadline = time.monotonic() + 5
    while True:
        await asyncio.sleep(0.25)
        result.after = memory_mb(pid)
        if result.after[0] - result.before[0] <= AFTER_TARGET_MB or time.monotonic() > deadline:
            break


async def watched(daemon: Daemon, result: Round, args: argparse.Namespace) -> None:
    """``abuse()``, cut short when it takes too long or the daemon's log floods the disk."""
    task = asyncio.create_task(abuse(daemon, result, args))
    deadline = time.monotonic() + args.hold + ROUND_SLACK_S
    while not task.done():
        await asyncio.wait({task}, timeout=0.25)
        if task.done():
            break
        if daemon.log.stat().st_size > LOG_CAP:
            result.aborted = f"log over {LOG_CAP >> 20} MB"
        elif time.monotonic() > deadline:
            result.aborted = f"round over {args.hold + ROUND_SLACK_S:g} s"
        if result.aborted:
            task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def scan_log(result: Round, log: Path) -> None:
    """What the daemon's log says, line by line (the first LOG_CAP bytes of it)."""
    result.log_bytes = log.stat().st_size
    read = 0
    with log.open("rb") as lines:
        for raw in lines:
            read += len(raw)
            if read > LOG_CAP:
                break
            line = raw.decode(errors="replace")
            result.log_lines += 1
            result.too_many_lines += TOO_MANY in line
            result.limit_lines += "connection limit reached" in line
            result.tracebacks += line.startswith("Traceback")
            limit = re.search(r"at most (\d+) connections, (\d+) of them", line)
            if limit:
                result.limit_line = f"{limit.group(1)} ({limit.group(2)} large)"


def abuse_round(
    workdir: Path, config: Path, name: str, nofile: int | None, args: argparse.Namespace
) -> Round:
    result = Round(name)
    log = workdir / f"daemon-{nofile or 'default'}.log"
    daemon = Daemon(config, log, nofile)
    try:
        asyncio.run(watched(daemon, result, args))
    finally:
        result.stop_seconds = daemon.stop()
    scan_log(result, log)
    return result


def run_abuse(args: argparse.Namespace, workdir: Path) -> int:
    # The descriptors this process needs for its own ends of every connection.
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    config = write_corpus(workdir, 20, args.seed)
    # A fixed base_url: the daemon then finds the published output current
    # and rewrites nothing, so the large feed.atom put in its place stays.
    with config.open("a", encoding="utf-8") as text:
        text.write("base_url: http://127.0.0.1:8080/\n")
    subprocess.run(
        [str(AGGREGATE), "--once", "-c", str(config)], check=True, stdout=subprocess.DEVNULL
    )
    feed = large_feed(args.feed_mb, args.seed)
    temporary = workdir / "out" / f".{ATOM_FILE}.tmp"
    temporary.write_bytes(feed)
    os.replace(temporary, workdir / "out" / ATOM_FILE)
    print(
        f"abuse: {args.idle} idle connections and {args.slow} slow readers "
        f"({SLOW_READ_BYTES} bytes/s) of a {len(feed) / 1e6:.1f} MB {ATOM_FILE}, "
        f"held {args.hold:g} s; "
        f"then {args.status_requests} /status requests over {FLOOD_CONNECTIONS} connections"
    )
    rounds = [abuse_round(workdir, config, f"limit {hard}", None, args)]
    if args.nofile:
        rounds.append(abuse_round(workdir, config, f"limit {args.nofile}", args.nofile, args))

    def row(label: str, cell: Callable[[Round], str]) -> None:
        print(f"{label:<36}" + "".join(f"{cell(r):>24}" for r in rounds))

    def mb(pair: tuple[float, float]) -> str:
        return f"{pair[0]:.1f} / {pair[1]:.1f}"

    row("daemon descriptor limit", lambda r: r.name.removeprefix("limit "))
    row("connection limit (large responses)", lambda r: r.limit_line)
    row("/healthz while held: asked, failed", lambda r: f"{len(r.probes)}, {len(r.failed_probes)}")
    row(
        "  worst, median (s)",
        lambda r: f"{r.worst(r.probes):.3f}, {statistics.median(r.probes or [0]):.3f}",
    )
    row("idle: opened, closed by server", lambda r: f"{r.idle_opened}, {r.idle_closed}")
    row(
        "slow readers: 200, 503, closed",
        lambda r: ", ".join(str(r.slow_statuses.get(k, 0)) for k in ("200", "503", "closed")),
    )
    row("/status flood: 200s, seconds", lambda r: f"{r.flood_ok}, {r.flood_seconds:.2f}")
    row("  /healthz meanwhile, worst (s)", lambda r: f"{r.worst(r.flood_probes):.3f}")
    row("Rss / Pss MB: with feed loaded", lambda r: mb(r.before))
    row("  peak", lambda r: mb(r.peak))
    row("  after closing", lambda r: mb(r.after))
    row("log: lines, bytes", lambda r: f"{r.log_lines}, {r.log_bytes:,}")
    row(f"log: '{TOO_MANY}'", lambda r: str(r.too_many_lines))
    row("log: 'connection limit reached'", lambda r: str(r.limit_lines))
    row("log: tracebacks", lambda r: str(r.tracebacks))
    row("SIGTERM to exit (s)", lambda r: f"{r.stop_seconds:.1f}")
    row("cut short", lambda r: r.aborted or "no")
    missed = [m for r in rounds for m in r.missed()]
    print(
        f"goals: /healthz within {HEALTHZ_TARGET_S:g} s, memory +{GROWTH_TARGET_MB:.0f} MB at most "
        f"and back within {AFTER_TARGET_MB:.0f} MB, '{TOO_MANY}' at most once, no traceback"
    )
    if missed:
        print("missed: " + "; ".join(missed))
        return 1
    print("all goals met")
    return 0


# -- the run --------------------------------------------------------------------


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    config = write_corpus(workdir, args.entries, args.seed)
    aggregate = Path(sys.executable).parent / "aggregate"
    started = time.perf_counter()
    subprocess.run(
        [str(aggregate), "--once", "-c", str(config)], check=True, stdout=subprocess.DEVNULL
    )
    print(f"aggregate --once over the generated feeds: {time.perf_counter() - started:.1f} s")

    seconds, files, rewritten, only, entries = measure_publishing(config)
    best, median = min(seconds), statistics.median(seconds)
    failed = []
    print(
        f"publish {entries} entries into {files} files: best {best:.3f} s, "
        f"median {median:.3f} s of {REPEAT} (target < {PUBLISH_TARGET_S} s)"
    )
    print(f"publish with nothing changed: {rewritten} files rewritten (target 0)")
    print(f"publish after removing {ATOM_FILE}: wrote {only} (target [{ATOM_FILE!r}])")
    if median >= PUBLISH_TARGET_S:
        failed.append("publishing time")
    if rewritten or only != [ATOM_FILE]:
        failed.append("files rewritten")

    if shutil.which("wrk") is None:
        print("serving skipped: wrk is not on the PATH (apt-get install wrk)")
    else:
        targets = [NOT_MODIFIED_TARGET, FULL_TARGET, FULL_TARGET]
        for (name, rate, errors), target in zip(
            measure_serving(workdir / "out", args.seconds, args.connections), targets, strict=True
        ):
            print(
                f"serve {name}: {rate:,.0f} requests/s with {args.connections} connections, "
                f"{errors} (target >= {target:,})"
            )
            if rate < target:
                failed.append(f"serving {name}")
    if failed:
        print("missed: " + ", ".join(failed))
        return 1
    print("all targets met")
    return 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=200, help="entries published (200)")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per wrk round (5)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (64)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it")
    parser.add_argument("--serve-only", type=Path, help=argparse.SUPPRESS)
    abuse = parser.add_argument_group("--abuse: the daemon under abuse (issue 12)")
    abuse.add_argument("--abuse", action="store_true", help="run the abuse rounds instead")
    abuse.add_argument("--idle", type=int, default=1000, help="idle connections (1000)")
    abuse.add_argument("--slow", type=int, default=300, help="slow readers (300)")
    abuse.add_argument("--hold", type=float, default=10, help="seconds to hold them (10)")
    abuse.add_argument("--feed-mb", type=float, default=4.3, help="size of feed.atom (4.3)")
    abuse.add_argument(
        "--nofile", type=int, default=200, help="the second round's descriptor limit (200; 0: none)"
    )
    abuse.add_argument(
        "--status-requests", type=int, default=1000, help="/status requests in the flood (1000)"
    )
    args = parser.parse_args(argv)
    if args.abuse and not (0 < args.idle <= 5000 and 0 < args.slow <= 1000 and 0 < args.hold <= 60):
        parser.error("--abuse is bounded: --idle 1..5000, --slow 1..1000, --hold up to 60 s")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_only is not None:
        serve_forever(args.serve_only)
        return 0
    run = run_abuse if args.abuse else benchmark
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="aggregator-serve-") as workdir:
        return run(args, Path(workdir))


if __name__ == "__main__":
    raise SystemExit(main())
