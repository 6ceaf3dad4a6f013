"""Every hostile case in one configuration: does ``aggregate --once`` survive, in what memory?

    serve tests/hostile/corpus.py's cases + a few good feeds on 127.0.0.1
      |  write one feeds.yaml with all of them (+ local sources, one with a link to /etc/passwd)
      |  aggregate --once, sampled: peak memory of its process tree, wall time
      |  check: exit 0, each source's line as expected, the good ones published,
         every published file parses, nothing of /etc/passwd anywhere

Usage::

    python benchmarks/hostile.py [--cap-mb 300] [--timeout 5] [--keep DIR]

Prints one line per source (expected vs. got), the wall time, and the peak
memory of the ``aggregate`` process and every process it started (see
``MemorySampler`` in ``benchmarks/pipeline.py`` for the exact figures).
Exits 1 when a source's outcome is not the expected one, the pass fails,
or the peak footprint is over ``--cap-mb``.

The cap is on the tree's Pss, sampled every 0.2 s: what the processes
really hold, each page shared between the parent and its forked workers
counted once.  The sum of VmHWM is printed too, as an upper bound: it
counts every shared page once per process.

The cap is 300 MB.  Measured with every large case in one pass (a 50 MB
feed, a gzip bomb, 20,000 items, a 9.9 MB text node, a million nested
elements, five feeds of 1 MB titles), on two shared cores (busy with other
work): 231-258 MB in 6-12 s (five runs), of which 105-119 MB the
``aggregate`` process, 7 MB the resource tracker, and the rest the fork
server and the workers it forked, which share the modules and models it
loaded (``aggregator/preload.py``): 32-44 MB the fork server, 40-44 MB each
of the two workers of the pool, and 15-50 MB each process that runs one
large job (1 MB of input or more) and ends with it, one at a time
(``aggregator/workers.py``); the two documents that need chardet are read
each in such a process too.  No batch is parsed in the ``aggregate``
process itself, since the pool runs anyway.
A large job's worker holds a few times its input: feedparser is given no
text over 2 MB and no entry past ``fetch.max_items``.  ``peak Pss per
process`` says which process held what (each process's own peak, so they
do not add up to the tree's).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.feedserver import FeedServer, Route  # noqa: E402
from tests.hostile.corpus import CASES, SECRET_MARK, config_lines, serve  # noqa: E402

DATA = REPO / "tests" / "data" / "feeds"
SEED = REPO / "seeds" / "western-troops-ukraine.txt"
GOOD = {
    "good-rss": ("rss20.xml", "application/rss+xml"),
    "good-atom": ("atom10.xml", "application/atom+xml"),
    "good-json": ("feed11.json", "application/feed+json"),
}
OUTPUTS = ("feed.atom", "feed.rss", "feed.json", "index.html")


def _load(name: str, path: Path) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def local_sources(root: Path) -> list[str]:
    """A seed article directory (good) and one holding a link out of it (refused)."""
    good = root / "articles"
    good.mkdir()
    shutil.copy(SEED, good / SEED.name)
    escape = root / "escape"
    escape.mkdir()
    (escape / "fine.txt").write_text("**A local article**\n\nIt says one thing.\n")
    (escape / "passwd.txt").symlink_to("/etc/passwd")
    fifo_dir = root / "fifo"
    fifo_dir.mkdir()
    (fifo_dir / "story.md").write_text("# A story beside a FIFO\n\nThe FIFO is skipped.\n")
    os.mkfifo(fifo_dir / "blocks.txt")
    return [
        "  - name: local-seed",
        f"    path: {good}",
        "    section: Local",
        "  - name: local-link-escape",
        f"    path: {escape}",
        "    section: Local",
        "  - name: local-fifo",
        f"    path: {fifo_dir}",
        "    section: Local",
    ]


def write_config(root: Path, server: FeedServer, timeout: float) -> Path:
    lines = [
        "title: Hostile benchmark",
        "base_url: https://digest.example/",
        "allow_private: true",
        f"store: {root / 'state' / 'aggregator.db'}",
        "output:",
        f"  dir: {root / 'out'}",
        "fetch:",
        f"  timeout: {timeout:g}s",
        "sources:",
    ]
    for name in GOOD:
        lines += [f"  - name: {name}", f"    url: {server.url('/' + name)}", "    section: Good"]
    lines += config_lines(server)
    lines += local_sources(root)
    path = root / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


EXPECTED_LOCAL = {
    "local-seed": ("ok", ""),
    "local-link-escape": ("error", "outside the source's directory"),
    "local-fifo": ("ok", ""),
}


def check_lines(lines: list[str]) -> list[str]:
    """Each source's status line against its expected outcome; the problems found."""
    status = {}
    for line in lines:
        words = line.split(maxsplit=2)
        if len(words) >= 2 and words[0] in ("new", "updated", "unchanged", "error"):
            status[words[1].rstrip(":")] = line
    expected = {case.name: (case.outcome, case.expect) for case in CASES}
    expected.update({name: ("ok", "") for name in GOOD})
    expected.update(EXPECTED_LOCAL)
    problems = []
    for name, (outcome, phrase) in expected.items():
        line = status.get(name)
        got = "missing" if line is None else ("error" if line.startswith("error") else "ok")
        good = got == outcome and (line is not None and phrase in line)
        print(f"{'ok ' if good else 'BAD'} {name:28} expected {outcome:5} got: {line}")
        if not good:
            problems.append(name)
    return problems


def check_outputs(out: Path) -> list[str]:
    """Every published file parses; nothing of /etc/passwd in any file."""
    import xml.etree.ElementTree as ET

    problems = []
    for path in sorted(out.rglob("*")):
        if not path.is_file() or path.name.startswith("aggregator.db"):
            continue
        data = path.read_bytes()
        if SECRET_MARK.encode() in data:
            problems.append(f"{path.name}: contains {SECRET_MARK}")
        try:
            if path.suffix in (".atom", ".rss", ".opml"):
                ET.fromstring(data)
            elif path.suffix == ".json":
                json.loads(data)
        except (ET.ParseError, ValueError) as error:
            problems.append(f"{path.name}: does not parse: {error}")
    for name in OUTPUTS:
        if not (out / name).is_file():
            problems.append(f"{name}: not published")
    return problems


class PeakPerProcess:
    """Each process's own peak Pss, sampled every 0.2 s: where the memory is.

    ``MemorySampler`` says whether the tree stays under the cap; this says
    which process holds what (the parent, the fork server, each worker).
    """

    def __init__(self, bench: ModuleType, root: int):
        self.bench = bench
        self.root = root
        self.peaks_kb: dict[int, tuple[int, str]] = {}  # pid -> (peak Pss, role)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pss-per-process", daemon=True)

    def start(self) -> PeakPerProcess:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            for pid in self.bench._process_tree(self.root):
                pss = self.bench._field_kb(f"/proc/{pid}/smaps_rollup", "Pss")
                if pss > self.peaks_kb.get(pid, (0, ""))[0]:
                    self.peaks_kb[pid] = (pss, self._role(pid))
            self._stop.wait(0.2)

    def _role(self, pid: int) -> str:
        """The parent, the fork server, a worker (forked by it), or another helper."""
        if pid == self.root:
            return "aggregate"
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
            stat = Path(f"/proc/{pid}/stat").read_bytes()
        except OSError:
            return "gone"
        parent = int(stat.rsplit(b")", 1)[1].split()[1])
        if parent != self.root:
            return "worker"
        if b"forkserver" in command:
            return "fork server"
        return "resource tracker" if b"resource_tracker" in command else "child"

    def line(self) -> str:
        peaks = sorted(self.peaks_kb.values(), key=lambda peak: (peak[1] != "aggregate", peak[1]))
        return ", ".join(f"{role} {kb / 1024:.0f}" for kb, role in peaks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cap-mb", type=float, default=300.0, help="peak Pss allowed, MB")
    parser.add_argument("--timeout", type=float, default=5.0, help="fetch.timeout, seconds")
    parser.add_argument("--keep", type=Path, help="work in DIR and keep it")
    args = parser.parse_args(argv)
    bench = _load("benchmark_pipeline", REPO / "benchmarks" / "pipeline.py")

    root = args.keep or Path(tempfile.mkdtemp(prefix="hostile-"))
    root.mkdir(parents=True, exist_ok=True)
    server = FeedServer().start()
    try:
        for name, (file, content_type) in GOOD.items():
            server.add("/" + name, Route((DATA / file).read_bytes(), content_type=content_type))
        print("generating the cases...", flush=True)
        routes = serve(server)
        config = write_config(root, server, args.timeout)
        command = [sys.executable, "-m", "aggregator.cli", "--once", "-c", str(config)]
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        # The tree and its Pss every 0.2 s rather than every second: the
        # workers of a pass this short live only a few seconds.
        sampler = bench.MemorySampler(process.pid, interval=0.05, slow_every=4).start()
        per_process = PeakPerProcess(bench, process.pid).start()
        stdout, stderr = process.communicate(timeout=600)
        wall = time.monotonic() - started
        sampler.stop()
        per_process.stop()
    finally:
        server.stop()
    lines = stdout.splitlines()
    problems = check_lines(lines)
    problems += check_outputs(root / "out")
    if routes["private-address"].requests or routes["private-via-dns"].requests:
        problems.append("a refused private address was connected to")
    peak_mb = sampler.peak_pss_kb / 1024
    print(lines[-2] if len(lines) >= 2 else stdout)
    print(f"exit code {process.returncode}; wall time {wall:.1f} s")
    print(
        f"peak memory of the process tree: {peak_mb:.0f} MB (sampled Pss), "
        f"at most {sampler.peak_hwm_kb / 1024:.0f} MB (sum of VmHWM); "
        f"largest single process {sampler.largest_kb / 1024:.0f} MB; cap {args.cap_mb:g} MB"
    )
    print(f"peak Pss per process, MB: {per_process.line()}")
    if stderr.strip():
        print("stderr:", stderr.strip()[-2000:])
    if process.returncode != 0:
        problems.append(f"exit code {process.returncode}")
    if peak_mb > args.cap_mb:
        problems.append(f"peak memory {peak_mb:.0f} MB is over the {args.cap_mb:g} MB cap")
    if not args.keep:
        shutil.rmtree(root, ignore_errors=True)
    for problem in problems:
        print("PROBLEM:", problem)
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
