"""Time the schedule's tick in PostgreSQL: ``Store.claim_due`` with 100,000 sources.

    fill an empty database: N sources, due over the next day (a few never polled)
      |  ticks a minute apart, each claiming what is due (the usual tick)
      |  one tick with a backlog (every source due at once, --limit of them claimed)
      |  EXPLAIN ANALYZE of the claim statement: the index it reads

Usage::

    python benchmarks/claim_due.py [--sources 100000] [--ticks 30] [--limit 500]
                                   [--server postgresql://postgres@127.0.0.1:5432/test]

It creates a database of its own on the server and drops it at the end.
Each tick is one ``claim_due`` call in its own transaction; the figures are
wall milliseconds per call (median and worst over the ticks) as the caller
sees them, round trip included.  The sources' due times are written with
one UPDATE (a poll of each would take minutes and time nothing of interest).
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit, urlunsplit

import psycopg

from aggregator.decide import PollIntent
from aggregator.models import FetchState
from aggregator.store.postgres import CLAIM_DUE, PostgresStore

T0 = datetime(2026, 12, 3, tzinfo=UTC)
LEASE = timedelta(minutes=10)


def fill(store: PostgresStore, url: str, count: int) -> None:
    store.sync_sources(
        [(f"source {n:06}", f"https://s{n}.example/feed", "S") for n in range(count)]
    )
    with psycopg.connect(url, autocommit=True) as db:
        # Due times spread over a day, a second apart; every 1000th never polled.
        db.execute(
            "UPDATE sources SET next_due = CASE WHEN right(name, 3) = '000' THEN NULL "
            "ELSE %s + (substr(name, 8)::integer * interval '86400 seconds' / %s) END",
            (T0, count),
        )
        db.execute("ANALYZE sources")


def tick(store: PostgresStore, now: datetime, limit: int) -> tuple[float, list[str]]:
    start = time.perf_counter()
    with store.transaction():
        claimed = store.claim_due(now, lease=LEASE, limit=limit)
    return (time.perf_counter() - start) * 1000, claimed


def poll(store: PostgresStore, names: list[str], now: datetime) -> None:
    """What a poller stores: the next due time a day on, the claim ended."""
    for name in names:
        store.apply_poll(PollIntent(name, now, now + timedelta(days=1), fetch_state=FetchState()))


def explain(url: str, now: datetime, limit: int) -> str:
    with psycopg.connect(url) as db:  # rolled back: EXPLAIN ANALYZE really claims
        db.execute("SET TIME ZONE 'UTC'")
        rows = db.execute(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + CLAIM_DUE,
            {"now": now, "until": now + LEASE, "limit": limit},
        ).fetchall()
        db.rollback()
    return "\n".join(row[0] for row in rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=int, default=100_000)
    parser.add_argument("--ticks", type=int, default=30)
    parser.add_argument("--limit", type=int, default=500)
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432/test")
    args = parser.parse_args(argv)
    name = f"aggregator_bench_claim_{int(time.time())}"
    admin = psycopg.connect(args.server, autocommit=True)
    admin.execute(f'CREATE DATABASE "{name}"')
    url = urlunsplit(urlsplit(args.server)._replace(path="/" + name))
    try:
        store = PostgresStore(url)
        started = time.perf_counter()
        fill(store, url, args.sources)
        print(f"{args.sources} sources stored in {time.perf_counter() - started:.1f} s")
        # Everything due by the first tick: the never polled, the first hours.
        now = T0 + timedelta(hours=6)
        first, claimed = tick(store, now, args.sources)
        print(f"first tick ({len(claimed)} due at once, all claimed): {first:.0f} ms")
        with psycopg.connect(url, autocommit=True) as db:  # as if each had been polled
            db.execute(
                "UPDATE sources SET claimed_until = NULL, next_due = next_due + interval '1 day' "
                "WHERE claimed_until IS NOT NULL"
            )
            # What autovacuum would do soon: the index entries those rows left
            # behind are no longer read by every tick.
            db.execute("VACUUM ANALYZE sources")
        usual = []
        for _ in range(args.ticks):
            now += timedelta(minutes=1)
            ms, claimed = tick(store, now, args.limit)
            usual.append((ms, len(claimed)))
            poll(store, claimed, now)
        times = [ms for ms, _ in usual]
        print(
            f"usual tick ({statistics.median(c for _, c in usual):.0f} due a minute, each "
            f"then polled): median {statistics.median(times):.2f} ms, worst {max(times):.2f} ms "
            f"over {args.ticks} ticks"
        )
        late = T0 + timedelta(days=3)  # a backlog: every source due at once
        plan = explain(url, late, args.limit)
        backlog, claimed = tick(store, late, args.limit)
        print(f"backlog tick (all {args.sources} due, {len(claimed)} claimed): {backlog:.2f} ms")
        print("EXPLAIN ANALYZE of the backlog tick:")
        print(plan)
        store.close()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
