"""Time ``aggregate add``, ``remove`` and ``import`` on a large feeds.yaml.

    python benchmarks/edit.py [--sources 10000] [--feeds 100] [--rounds 3] [--keep DIR]

1. Writes a feeds.yaml of ``--sources`` sources in block style, three lines
   each (``- name: feedNNNNN`` / ``url: ...`` / ``section: ...``), and an
   OPML file of ``--feeds`` feeds that are not in it.
2. Serves one RSS feed on 127.0.0.1 (``add`` fetches the feed it adds; the
   file says ``allow_private: true``), so nothing reaches the network.
3. Runs, each as its own process, as a person would type them:
   ``aggregate add URL --section Bench --name added``, then
   ``aggregate remove added``, then ``aggregate import feeds.opml``, from
   the same generated file each round; prints the wall and CPU seconds of
   each command (best and median over ``--rounds``), and of a process that
   only imports the command line, which every command pays first.

It checks what it edits: ``add`` then ``remove`` gives the file back byte
for byte, and the import leaves ``--sources`` plus ``--feeds`` sources that
every command reads.  Exits 1 if not; it sets no target on the times.

The ``aggregator`` this Python imports is the one timed: to time another
version, put a copy of its package first on the path
(``PYTHONPATH=/tmp/old python benchmarks/edit.py``).  A benchmark, not a
test: ``tests/benchmarks`` runs it at a tiny size.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Bench feed</title><link>https://bench.example/</link>
<description>One feed for aggregate add</description>
<item><title>One</title><link>https://bench.example/1</link><guid>bench-1</guid>
<description>The first item.</description></item>
</channel></rss>
"""


def write_config(path: Path, count: int) -> None:
    lines = ["title: Edit benchmark", "allow_private: true", "sources:"]
    for n in range(count):
        lines += [
            f"  - name: feed{n:05d}",
            f"    url: https://feeds{n % 97}.example/feed/{n:05d}.xml",
            f"    section: Section {n % 7}",
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_opml(path: Path, count: int) -> None:
    outlines = [
        f'<outline type="rss" text="Imported {n}" title="Imported {n}" '
        f'xmlUrl="https://imported{n}.example/rss"/>'
        for n in range(count)
    ]
    path.write_text(
        '<?xml version="1.0"?>\n<opml version="2.0"><head><title>Bench</title></head><body>\n'
        + "\n".join(outlines)
        + "\n</body></opml>\n",
        encoding="utf-8",
    )


class _Feed(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(RSS)))
        self.end_headers()
        self.wfile.write(RSS)

    def log_message(self, format: str, *args: object) -> None:
        pass


def timed(command: list[str]) -> tuple[float, float]:
    """(wall, CPU) seconds of ``command`` run to its end; exits 1 if it fails."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    run = subprocess.run(command, capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if run.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({run.returncode}): {run.stderr.strip()}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=10_000, help="sources in the file")
    parser.add_argument("--feeds", type=int, default=100, help="feeds in the OPML file")
    parser.add_argument("--rounds", type=int, default=3, help="times each command is run")
    parser.add_argument("--keep", type=Path, help="write the files here and leave them")
    args = parser.parse_args()

    directory = args.keep or Path(tempfile.mkdtemp(prefix="edit-bench-"))
    directory.mkdir(parents=True, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    try:
        return _run(args, directory, url)
    finally:
        server.shutdown()
        server.server_close()
        if args.keep is None:
            shutil.rmtree(directory, ignore_errors=True)


def _run(args: argparse.Namespace, directory: Path, url: str) -> int:
    from aggregator.config import load_config

    generated, config, opml = (
        directory / "generated.yaml",
        directory / "feeds.yaml",
        directory / "feeds.opml",
    )
    write_config(generated, args.sources)
    write_opml(opml, args.feeds)
    aggregate = [sys.executable, "-m", "aggregator.cli"]
    commands = {
        "python -c 'import aggregator.cli'": [sys.executable, "-c", "import aggregator.cli"],
        "add": [*aggregate, "add", url, "--section", "Bench", "--name", "added", "-c", str(config)],
        "remove": [*aggregate, "remove", "added", "-c", str(config)],
        f"import ({args.feeds} feeds)": [*aggregate, "import", str(opml), "-c", str(config)],
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    failed = False
    for _ in range(args.rounds):
        shutil.copyfile(generated, config)
        for name, command in commands.items():
            times[name].append(timed(command))
            if name == "remove" and config.read_bytes() != generated.read_bytes():
                print("add then remove did not give the file back as it was")
                failed = True
        count = len(load_config(config).sources)
        if count != args.sources + args.feeds:
            print(f"after the import: {count} sources, not {args.sources + args.feeds}")
            failed = True

    size = os.path.getsize(generated)
    print(f"feeds.yaml of {args.sources} sources ({size:,} bytes), {args.rounds} rounds")
    print(f"{'command':<34} {'wall best':>9} {'median':>7} {'CPU best':>9} {'median':>7}")
    for name, measured in times.items():
        walls, cpus = [wall for wall, _ in measured], [cpu for _, cpu in measured]
        print(
            f"{name:<34} {min(walls):9.3f} {statistics.median(walls):7.3f}"
            f" {min(cpus):9.3f} {statistics.median(cpus):7.3f}"
        )
    print("add then remove gave the file back byte for byte:", "no" if failed else "yes")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
