"""How a batch of polls is cut into transactions over a store that other
processes write at the same time (see PollStorer.store_batch)."""

from __future__ import annotations

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
