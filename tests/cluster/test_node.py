"""What a node decides without a database: the lock each poll runs under, the
sources each poll job polls, what a job does with sources polled since or
gone, and how often it asks whether a --once run is alive."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from aggregator.cluster.node import (
    POLLS_PER_JOB,
    PUBLISH_DELAY_SECONDS,
    Node,
    poll_batches,
    poll_lock,
)
from aggregator.config import SourceConfig, parse_config
from aggregator.errors import StoreError
from aggregator.models import SourceState
from aggregator.results import PassReport, SourceResult


def source(name: str, url: str | None = None, path: str | None = None) -> SourceConfig:
    return SourceConfig(name=name, url=url, path=path, section="S", interval=1800.0)


def test_a_source_always_polls_under_the_same_lock() -> None:
    one = source("a", "https://example.com/a.xml")
    assert poll_lock(one, 4) == poll_lock(one, 4)


def test_the_sources_of_one_host_share_per_host_locks() -> None:
    sources = [source(f"s{n}", f"https://example.com/{n}.xml") for n in range(100)]
    locks = {poll_lock(s, 4) for s in sources}
    assert len(locks) == 4  # at most four polls of example.com at once, anywhere
    assert all(lock.startswith("host:example.com:") for lock in locks)


def test_hosts_do_not_share_locks() -> None:
    first = {poll_lock(source(f"s{n}", f"https://one.example/{n}"), 2) for n in range(20)}
    second = {poll_lock(source(f"s{n}", f"https://two.example/{n}"), 2) for n in range(20)}
    local = {poll_lock(source(f"s{n}", path=f"articles/{n}"), 2) for n in range(20)}
    assert first.isdisjoint(second) and first.isdisjoint(local) and second.isdisjoint(local)


def test_a_poll_job_polls_sources_of_one_lock_only_and_every_source_once() -> None:
    sources = [source(f"a{n}", f"https://a.example/{n}") for n in range(40)]
    sources += [source(f"b{n}", f"https://b.example/{n}") for n in range(3)]
    sources += [source(f"p{n}", path=f"articles/{n}") for n in range(5)]
    batches = poll_batches(sources, per_host=2)
    by_name = {s.name: s for s in sources}
    polled = [name for batch in batches for name in batch.sources]
    assert sorted(polled) == sorted(by_name)  # each once
    for batch in batches:
        assert 0 < len(batch.sources) <= POLLS_PER_JOB
        assert {poll_lock(by_name[name], 2) for name in batch.sources} == {batch.lock}
    # a.example's 40 sources in its two slots: no job holds fewer than it may
    # while its slot has more to poll.
    slots = [b for b in batches if b.lock.startswith("host:a.example:")]
    for lock in {b.lock for b in slots}:
        sizes = [len(b.sources) for b in slots if b.lock == lock]
        assert all(size == POLLS_PER_JOB for size in sizes[:-1])
    # In the order given: the first batch starts with the first source.
    assert batches[0].sources[0] == "a0"


def test_one_source_a_job_with_size_one() -> None:
    sources = [source(f"s{n}", f"https://example.com/{n}") for n in range(5)]
    assert [b.sources for b in poll_batches(sources, per_host=1, size=1)] == [
        (f"s{n}",) for n in range(5)
    ]


class _Store:
    """Source states as the store would give them, and the run results kept."""

    def __init__(self, states: list[SourceState]):
        self.states = states
        self.meta: dict[str, str] = {}

    def source_states(self, *, counts: bool, names: list[str]) -> list[SourceState]:
        return [state for state in self.states if state.name in names]

    def transaction(self) -> Any:
        import contextlib

        return contextlib.nullcontext()

    def set_meta(self, key: str, value: str) -> None:
        self.meta[key] = value

    def read_meta(self, prefix: str) -> dict[str, str]:
        return {key: value for key, value in self.meta.items() if key.startswith(prefix)}


class _Pipeline:
    """Records what it is asked to poll; each source's result as given, the
    first ``parsed`` of each call parsed.  ``fail_after``: the store fails
    once that many sources of a call are stored (their transactions committed)."""

    def __init__(
        self, parsed: int, fail_after: int | None = None, pages: dict[str, int] | None = None
    ):
        self.calls: list[tuple[list[str], int | None]] = []
        self.parsed = parsed
        self.fail_after = fail_after
        self.pages = pages or {}  # counted after storing, as the full text stage does
        self.full_text_calls: list[list[str]] = []

    async def update(
        self,
        sources: list[SourceConfig],
        now: datetime,
        *,
        fetch_concurrency: int | None = None,
        on_stored: Callable[[SourceResult, bool], None] | None = None,
    ) -> PassReport:
        self.calls.append(([s.name for s in sources], fetch_concurrency))
        report = PassReport(parsed=min(self.parsed, len(sources)))
        for n, s in enumerate(sources):
            if n == self.fail_after:
                raise StoreError("the connection was lost")
            result = SourceResult(s.name, new=1)
            if on_stored is not None:
                on_stored(result, n < self.parsed)
            report.add(result)
        await self.full_text(sources, report, now)
        return report

    async def full_text(
        self, sources: list[SourceConfig], report: PassReport, now: datetime
    ) -> None:
        self.full_text_calls.append([s.name for s in sources])
        for result in report.results:
            result.pages = self.pages.get(result.source, 0)


def _node(store: _Store, pipeline: _Pipeline, names: list[str]) -> Node:
    listed = "".join(
        f"  - {{name: {n}, url: 'https://x.example/{n}', section: S}}\n" for n in names
    )
    config = parse_config(f"sources:\n{listed}", Path("/nowhere/feeds.yaml"))
    return Node(config, cast(Any, store), cast(Any, _Runs(set())), cast(Any, pipeline))


def test_a_scheduled_job_polls_what_is_still_due_one_fetch_at_a_time() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    store = _Store(
        [
            SourceState("due", next_due=now - timedelta(seconds=1)),
            SourceState("polled-since", next_due=now + timedelta(minutes=5)),
            SourceState("gone", disabled="410 Gone"),
            SourceState("new"),  # never polled: no due time yet
        ]
    )
    pipeline = _Pipeline(parsed=2)
    node = _node(store, pipeline, ["due", "polled-since", "gone", "new"])
    node.clock = lambda: now
    names = ["due", "polled-since", "removed-from-config", "gone", "new"]
    asyncio.run(node.poll(names, True, None))
    # One update for the job, fetching one source at a time (its lock is one
    # of its host's per_host slots); one publish queued for the job.
    assert pipeline.calls == [(["due", "new"], 1)]
    assert cast(_Runs, node.queue).publishes == [PUBLISH_DELAY_SECONDS]


def test_a_runs_job_keeps_each_sources_result_and_the_jobs_parsed_count_once() -> None:
    store = _Store([])
    pipeline = _Pipeline(parsed=2)
    node = _node(store, pipeline, ["a", "b", "c"])
    node.own_run = "7"
    asyncio.run(node.poll(["a", "b", "c"], False, "7"))
    records = {key: json.loads(value) for key, value in store.meta.items()}
    assert set(records) == {"run:7:a", "run:7:b", "run:7:c"}
    assert all(record["new"] == 1 for record in records.values())
    assert sum(record["parsed"] for record in records.values()) == 2


def test_a_retried_runs_job_keeps_what_its_failed_attempt_stored_and_polls_the_rest() -> None:
    """A --once's job that failed after storing some of its sources (its
    worker's connection lost between two transactions): each of those was
    recorded with its writes, and the retry polls only the others; polled
    again, a source whose items were new would say it had none."""
    store = _Store([])
    node = _node(store, _Pipeline(parsed=3, fail_after=2), ["a", "b", "c", "d"])
    node.own_run = "7"
    with pytest.raises(StoreError):
        asyncio.run(node.poll(["a", "b", "c", "d"], False, "7"))
    assert set(store.meta) == {"run:7:a", "run:7:b"}

    retry = _Pipeline(parsed=0, pages={"a": 2})
    node.pipeline = cast(Any, retry)
    asyncio.run(node.poll(["a", "b", "c", "d"], False, "7", True))
    assert retry.calls == [(["c", "d"], 1)]
    # The pages the stored sources want are fetched all the same: the
    # failed attempt may have stopped before.
    assert retry.full_text_calls == [["a", "b"], ["c", "d"]]
    records = {key: json.loads(value) for key, value in store.meta.items()}
    assert set(records) == {"run:7:a", "run:7:b", "run:7:c", "run:7:d"}
    assert all(record["new"] == 1 for record in records.values())
    assert [records[f"run:7:{n}"]["parsed"] for n in "abcd"] == [1, 1, 0, 0]
    assert [records[f"run:7:{n}"]["pages"] for n in "abcd"] == [2, 0, 0, 0]

    # A retry whose sources were all stored polls nothing.
    done = _Pipeline(parsed=0)
    node.pipeline = cast(Any, done)
    asyncio.run(node.poll(["a", "b"], False, "7", True))
    assert done.calls == [] and done.full_text_calls == [["a", "b"]]


def test_a_runs_job_records_the_pages_full_text_fetched_after_storing() -> None:
    store = _Store([])
    node = _node(store, _Pipeline(parsed=1, pages={"a": 3}), ["a", "b"])
    node.own_run = "7"
    asyncio.run(node.poll(["a", "b"], False, "7"))
    records = {key: json.loads(value) for key, value in store.meta.items()}
    assert (records["run:7:a"]["pages"], records["run:7:a"]["parsed"]) == (3, 1)
    assert (records["run:7:b"]["pages"], records["run:7:b"]["parsed"]) == (0, 0)


class _Runs:
    """A queue that knows which --once runs are alive, and counts the asking."""

    def __init__(self, alive: set[str]):
        self.alive = alive
        self.asked = 0
        self.publishes: list[float] = []

    async def publish_waiting(self) -> bool:
        return bool(self.publishes)

    async def defer_publish(self, *, delay: float) -> None:
        self.publishes.append(delay)

    async def live_runs(self, runs: Iterable[str], stall_timeout: float) -> set[str]:
        self.asked += 1
        return self.alive.intersection(runs)


def test_a_runs_liveness_is_asked_once_per_quarter_stall_timeout() -> None:
    config = parse_config(
        "cluster: {stall_timeout: 20s}\n"
        "sources:\n  - {name: a, url: 'https://a.example/', section: S}\n",
        Path("/nowhere/feeds.yaml"),
    )
    queue = _Runs({"7"})
    node = Node(config, cast(Any, None), cast(Any, queue), cast(Any, None))
    start = datetime(2026, 1, 1, tzinfo=UTC)

    async def ask(run: str, after: float) -> bool:
        return await node._run_alive(run, start + timedelta(seconds=after))

    async def scenario() -> list[bool]:
        return [
            await ask("7", 0),
            await ask("7", 1),  # remembered
            await ask("7", 4.9),  # remembered
            await ask("7", 5),  # a quarter of 20 s: asked again
            await ask("8", 5),  # another run, dead: asked
            await ask("8", 5.1),  # dead is asked again (it cannot come back, but is rare)
        ]

    assert asyncio.run(scenario()) == [True, True, True, True, False, False]
    assert queue.asked == 4
    queue.alive.clear()  # run 7 killed: known at the next question past the quarter
    assert asyncio.run(ask("7", 9)) is True
    assert asyncio.run(ask("7", 10.1)) is False
    node.own_run = "7"  # this process's own run: alive, whatever the queue says
    assert asyncio.run(ask("7", 20)) is True
    assert queue.asked == 5


class _SlowPipeline:
    """An update that runs until cancelled, and says whether it was."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False
        self.finished = False

    async def update(
        self,
        sources: list[SourceConfig],
        now: datetime,
        *,
        fetch_concurrency: int | None = None,
        on_stored: object = None,
    ) -> PassReport:
        self.started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            self.cancelled = True
            raise
        self.finished = True
        return PassReport()


def test_a_job_cancelled_by_its_worker_cancels_its_polls() -> None:
    # procrastinate cancels a job's task when its worker stops after the
    # grace period (or the job is aborted): the polls under way must stop
    # with it, not go on storing behind a worker that closes its store.
    pipeline = _SlowPipeline()
    node = _node(_Store([]), cast(Any, pipeline), ["a", "b"])

    async def scenario() -> None:
        job = asyncio.ensure_future(node.poll(["a", "b"], False, None))
        await pipeline.started.wait()
        job.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await job
        for _ in range(3):
            await asyncio.sleep(0)
        assert pipeline.cancelled
        leftovers = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        assert leftovers == []

    asyncio.run(scenario())


def test_an_interrupted_once_cancels_its_polls_under_way() -> None:
    pipeline = _SlowPipeline()
    node = _node(_Store([]), cast(Any, pipeline), ["a"])

    async def scenario() -> None:
        job = asyncio.ensure_future(node.poll(["a"], False, None))
        await pipeline.started.wait()
        node.interrupted.set()
        try:
            await job
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the job should end cancelled")
        assert pipeline.cancelled

    asyncio.run(scenario())
