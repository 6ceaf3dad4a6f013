"""How a batch of polls is cut into transactions over a store that other
processes write at the same time (see PollStorer.store_batch)."""

from __future__ import annotations

from typing import Any

import pytest

from aggregator.config import SourceConfig
from aggregator.errors import SourceError
from aggregator.ingest import Ingested
from aggregator.models import ParsedFeed
from aggregator.storing import _lock_safe_runs


def sources(count: int) -> list[SourceConfig]:
    return [
        SourceConfig(name=f"s{n}", url=f"https://s{n}.example/", section="S", interval=60.0)
        for n in range(count)
    ]


def parsed() -> Ingested:
    return Ingested(ParsedFeed(title=None, link=None, language=None, items=()), copies=())


def test_each_run_stores_one_parsed_feed_at_most_with_the_polls_around_it() -> None:
    batch = sources(7)
    # s0 304, s1 parsed, s2 304, s3 parsed, s4 failed to parse, s5 parsed, s6 304
    ingested: dict[str, Ingested | SourceError] = {
        "s1": parsed(),
        "s3": parsed(),
        "s4": SourceError("s4", "not well-formed"),
        "s5": parsed(),
    }
    runs = _lock_safe_runs(batch, ingested)
    assert [[s.name for s in batch[run]] for run in runs] == [
        ["s0", "s1", "s2"],
        ["s3", "s4"],
        ["s5", "s6"],
    ]


def test_a_batch_of_polls_that_parsed_nothing_is_one_run() -> None:
    batch = sources(16)
    assert _lock_safe_runs(batch, {}) == [slice(0, 16)]
    assert _lock_safe_runs(batch, {"s9": parsed()}) == [slice(0, 16)]


def test_a_batch_of_304s_and_a_configuration_synced_at_once_do_not_deadlock(
    postgres_url: str,
) -> None:
    """A batch stored in one transaction updates its sources' rows in batch
    order; sync_sources (a process starting, a SIGHUP) locks the rows it
    changes in name order: the two must not lock two rows in opposite orders."""
    import threading
    import time
    from datetime import UTC, datetime
    from pathlib import Path

    from aggregator.config import parse_config
    from aggregator.models import Fetched, FetchState
    from aggregator.store.postgres import PostgresStore
    from aggregator.storing import PollStorer

    listed = "".join(
        f"  - {{name: {name}, url: 'https://h.example/{name}', section: S}}\n"
        for name in ("z-src", "a-src")  # polled in this order: not the names' order
    )
    config = parse_config(f"sources:\n{listed}", Path("/nowhere/feeds.yaml"))
    poller, syncer = PostgresStore(postgres_url), PostgresStore(postgres_url)
    try:
        poller.sync_sources((s.name, s.location, s.section) for s in config.sources)
        states = {state.name: state for state in poller.source_states(counts=False)}
        now = datetime(2026, 1, 1, tzinfo=UTC)
        fetched = [
            Fetched(s.name, (), FetchState(etag='"e"'), not_modified=True, status=304)
            for s in config.sources
        ]
        failures: list[BaseException] = []

        def sync() -> None:  # another process: every source's section edited
            try:
                syncer.sync_sources((s.name, s.location, "T") for s in config.sources)
            except BaseException as error:
                failures.append(error)

        syncing = threading.Thread(target=sync)
        applied = poller.apply_poll

        def apply_poll(intent: Any) -> None:
            applied(intent)
            if not syncing.is_alive() and syncing.ident is None:
                syncing.start()
                time.sleep(0.5)  # it locks what it can, then waits

        poller.apply_poll = apply_poll  # type: ignore[method-assign]
        storer = PollStorer(config, poller, lambda: 0.0)
        try:
            storer.store_batch(config.sources, states, fetched, {}, now)
        except BaseException as error:
            failures.append(error)
        syncing.join(timeout=30)
        assert failures == []
        rows = syncer._db.execute("SELECT name, section, etag FROM sources").fetchall()
        assert sorted(rows) == [("a-src", "T", '"e"'), ("z-src", "T", '"e"')]
    finally:
        poller.close()
        syncer.close()


def test_what_on_stored_writes_is_committed_with_its_sources_poll_or_not_at_all(
    postgres_url: str,
) -> None:
    """A --once records each poll's result in the transaction that stores
    it: a failure after the first run of the batch leaves that run stored and
    recorded, the failing run neither."""
    from datetime import UTC, datetime
    from pathlib import Path

    from aggregator.config import parse_config
    from aggregator.errors import StoreError
    from aggregator.models import Fetched, FetchState
    from aggregator.results import SourceResult
    from aggregator.store.postgres import PostgresStore
    from aggregator.storing import PollStorer

    names = ("s0", "s1", "s2", "s3")
    listed = "".join(
        f"  - {{name: {n}, url: 'https://h.example/{n}', section: S}}\n" for n in names
    )
    config = parse_config(f"sources:\n{listed}", Path("/nowhere/feeds.yaml"))
    store = PostgresStore(postgres_url)
    try:
        store.sync_sources((s.name, s.location, s.section) for s in config.sources)
        states = {state.name: state for state in store.source_states(counts=False)}
        fetched = [
            Fetched(n, (), FetchState(etag=f'"{n}"'), not_modified=True, status=304)
            if n in ("s0", "s2")
            else Fetched(n, (), FetchState(etag=f'"{n}"'), status=200)
            for n in names
        ]
        # Two runs, each with one parsed feed: [s0, s1, s2], [s3].
        ingested: dict[str, Ingested | SourceError] = {"s1": parsed(), "s3": parsed()}

        def record(result: SourceResult, was_parsed: bool) -> None:
            if result.source == "s3":
                raise StoreError("the connection was lost")
            store.set_meta(f"run:1:{result.source}", str(int(was_parsed)))

        storer = PollStorer(config, store, lambda: 0.0)
        with pytest.raises(StoreError):
            storer.store_batch(
                config.sources, states, fetched, ingested, datetime.now(UTC), on_stored=record
            )
        assert store.read_meta("run:1:") == {"run:1:s0": "0", "run:1:s1": "1", "run:1:s2": "0"}
        etags = dict(store._db.execute("SELECT name, etag FROM sources").fetchall())
        assert etags == {"s0": '"s0"', "s1": '"s1"', "s2": '"s2"', "s3": None}
    finally:
        store.close()
