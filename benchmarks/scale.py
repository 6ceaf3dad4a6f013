"""Scale-out: ``aggregate --once`` over PostgreSQL with 1, 2 and 4 processes
running jobs, against the single-process pass over SQLite; and the tick with
100,000 sources in the store.

    generate N feeds (benchmarks/pipeline.py's generator) | serve them
      | SQLite: aggregate --once: cold, warm (all 304), changed (10 % of feeds)
      | for W in --workers: a fresh PostgreSQL database, W - 1 ``aggregate
        worker`` processes, then the same three rounds of ``aggregate --once``
        (which runs jobs too: W processes in all)
      | the tick: claim_due over 100,000 sources, EXPLAIN'd and timed

Usage::

    python benchmarks/scale.py [--feeds 1000] [--items 30] [--workers 1,2,4]
                               [--server postgresql://postgres@127.0.0.1:5432/test]
                               [--tick-sources 100000] [--concurrency 8]

CPU is user + sys of ``aggregate --once``'s process tree plus what the worker
processes (and their trees) used during the round, so the figures compare
the whole cluster's work with the single process's.  This machine has two
cores: more processes cannot run faster here, so the scaling figure is CPU
seconds per 1,000 feeds, which is what N machines would divide between them.

The PostgreSQL server's time is not in "CPU s" (it is another program's
processes); "other s" is what the rest of the machine used meanwhile, the
server included (and the feed server, and anything else running: a round
that shared the machine is not comparable).  Needs ``pip install '.[postgres]'`` and a server.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

import pipeline as bench  # this directory's, once the path is set

ROUNDS = ("cold", "warm", "changed")


def _database_url(server: str, name: str) -> str:
    return urlunsplit(urlsplit(server)._replace(path="/" + name))


def create_database(server: str) -> tuple[str, str]:
    import psycopg

    name = f"aggregator_scale_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    return name, _database_url(server, name)


def drop_database(server: str, name: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def cluster_config(
    directory: Path, corpus: bench.Corpus, server: bench.FeedServer, store: str, concurrency: int
) -> Path:
    """pipeline.py's feeds.yaml with the store at ``store`` and a cluster section."""
    directory.mkdir(parents=True, exist_ok=True)
    path = bench.write_config(directory, corpus, server, store=store)
    text = path.read_text().replace(
        "sources:\n", f"cluster:\n  tick: 1s\n  concurrency: {concurrency}\nsources:\n", 1
    )
    path.write_text(text)
    return path


def not_due_yet(url: str, corpus: bench.Corpus, server: bench.FeedServer) -> None:
    """Store every source as due tomorrow, so that the workers started before a
    round wait for ``aggregate --once`` to queue the polls it times, rather
    than polling every new source on their own before the round starts."""
    import psycopg

    from aggregator.config import PostgresURL
    from aggregator.store import open_store

    store = open_store(PostgresURL(url))
    try:
        store.sync_sources((f.name, server.url(f.path), f.section) for f in corpus.feeds)
    finally:
        store.close()
    with psycopg.connect(url, autocommit=True) as db:
        db.execute("UPDATE sources SET next_due = now() + interval '1 day'")


def tree_cpu(roots: Sequence[int]) -> float:
    """CPU seconds used so far by the processes under ``roots`` that are alive."""
    ticks = 0
    for root in roots:
        for pid in bench._process_tree(root):
            ticks += bench._cpu_ticks(pid) or 0
    return ticks / os.sysconf("SC_CLK_TCK")


def start_workers(
    config: Path, count: int, concurrency: int, logs: Path
) -> list[subprocess.Popen[bytes]]:
    aggregate = Path(sys.executable).parent / "aggregate"
    return [
        subprocess.Popen(
            [str(aggregate), "worker", "-c", str(config), "--concurrency", str(concurrency)],
            stdout=subprocess.DEVNULL,
            stderr=(logs / f"worker-{n}-{config.stem}.log").open("wb"),
            start_new_session=True,
        )
        for n in range(count)
    ]


def stop(workers: Sequence[subprocess.Popen[bytes]]) -> None:
    for worker in workers:
        os.killpg(worker.pid, signal.SIGTERM)
    for worker in workers:
        worker.wait(60)


def measure_tick(server: str, sources: int) -> str:
    """The tick over ``sources`` sources: benchmarks/claim_due.py's report."""
    script = Path(__file__).resolve().parent / "claim_due.py"
    command = [sys.executable, str(script), "--sources", str(sources), "--server", server]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    logs = workdir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    aggregate = Path(sys.executable).parent / "aggregate"
    corpus = bench.generate(args.feeds, args.items, args.seed)
    results: list[tuple[str, bench.Round, float]] = []
    with bench.FeedServer() as server:
        for feed in corpus.feeds:
            server.put(feed)
        original = dict(server.documents)
        for feed in add_changes(corpus, args.seed):
            server.put(feed)
        changed = dict(server.documents)
        base = bench.write_config(workdir, corpus, server)
        print(f"{len(corpus.feeds)} feeds, {corpus.items} items, serving on {server.url('/')}")

        setups: list[tuple[str, int]] = [("sqlite", 1), *[("postgres", w) for w in args.workers]]
        for kind, processes in setups:
            server.documents = dict(original)
            database = None
            workers: list[subprocess.Popen[bytes]] = []
            if kind == "sqlite":
                config = base
                label = "SQLite, 1 process"
            else:
                database, url = create_database(args.server)
                config = cluster_config(
                    workdir / f"pg{processes}", corpus, server, url, args.concurrency
                )
                subprocess.run([str(aggregate), "db", "migrate", "-c", str(config)], check=True)
                not_due_yet(url, corpus, server)
                workers = start_workers(config, processes - 1, args.concurrency, logs)
                label = f"PostgreSQL, {processes} process{'es' if processes > 1 else ''}"
            try:
                for name in ROUNDS:
                    if name == "changed":
                        server.documents = dict(changed)
                    before = tree_cpu([w.pid for w in workers])
                    command = [str(aggregate), "--once", "-c", str(config)]
                    round_ = bench.run_round(f"{name}-{kind}-{processes}", command, server, logs)
                    extra = tree_cpu([w.pid for w in workers]) - before
                    results.append((label, round_, extra))
                    print(
                        f"  {label} {name}: {round_.wall:.1f} s wall, "
                        f"{round_.cpu + extra:.1f} s CPU (exit {round_.exit_code})",
                        flush=True,
                    )
            finally:
                stop(workers)
                if database is not None:
                    drop_database(args.server, database)
        (workdir / "feeds.yaml").unlink(missing_ok=True)

    print()
    header = f"{'setup':<24} {'round':<8} {'wall s':>7} {'CPU s':>7} {'other s':>7}"
    print(header + f" {'CPU s/1000 feeds':>17}  total line")
    failed = 0
    for label, r, extra in results:
        cpu = r.cpu + extra
        per_thousand = cpu * 1000 / len(corpus.feeds)
        print(
            f"{label:<24} {r.name.split('-')[0]:<8} {r.wall:>7.1f} {cpu:>7.1f} "
            f"{max(0.0, r.other_cpu - extra):>7.1f} {per_thousand:>17.1f}  {r.total_line}"
        )
        failed += r.exit_code != 0
    if args.tick_sources:
        print()
        print(measure_tick(args.server, args.tick_sources), end="")
    return 1 if failed else 0


def add_changes(corpus: bench.Corpus, seed: int) -> list[bench.GeneratedFeed]:
    return bench.add_new_stories(corpus, seed)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--workers",
        type=lambda text: [int(n) for n in text.split(",")],
        default=[1, 2, 4],
        help="processes running jobs, comma-separated (default 1,2,4)",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="jobs per process")
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--tick-sources", type=int, default=100_000)
    parser.add_argument("--keep", type=Path, help="work in this directory and keep it")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return benchmark(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="aggregator-scale-") as workdir:
        return benchmark(args, Path(workdir))


if __name__ == "__main__":
    raise SystemExit(main())
