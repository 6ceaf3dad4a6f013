"""What a node decides without a database: the lock each poll runs under."""

from __future__ import annotations

from aggregator.cluster.node import poll_lock
from aggregator.config import SourceConfig


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
