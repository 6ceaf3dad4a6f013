"""Publishing and serving the merged feed: how fast, and is anything rewritten?

    python benchmarks/serve.py [--entries 200] [--seconds 5] [--connections 64] [--keep DIR]

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
"""

from __future__ import annotations

import argparse
import asyncio
import math
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
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
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve_only is not None:
        serve_forever(args.serve_only)
        return 0
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return benchmark(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="aggregator-serve-") as workdir:
        return benchmark(args, Path(workdir))


if __name__ == "__main__":
    raise SystemExit(main())
