"""The scheduling rules, with an injected clock: no sleeps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.schedule import (
    MAX_RETRY_AFTER,
    REDIRECT_CONFIRMATIONS,
    Timing,
    cache_lifetime,
    first_due,
    is_failing,
    judge_redirect,
    next_due,
    stable_fraction,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
TIMING = Timing(interval=1800, min_interval=60, max_interval=86400)


def minutes(due: datetime | None) -> float:
    assert due is not None
    return (due - NOW).total_seconds() / 60


def test_healthy_source_polls_at_its_interval() -> None:
    assert minutes(next_due(NOW, TIMING)) == 30


def test_cache_hints_stretch_but_are_clamped() -> None:
    assert minutes(next_due(NOW, TIMING, cache_seconds=7200)) == 120
    assert minutes(next_due(NOW, TIMING, cache_seconds=60)) == 30  # never sooner than asked
    assert minutes(next_due(NOW, TIMING, cache_seconds=10**7)) == 24 * 60
    fast = Timing(interval=10, min_interval=60, max_interval=3600)
    assert minutes(next_due(NOW, fast)) == 1  # the minimum wins over a tiny interval


def test_failures_back_off_exponentially_up_to_the_cap() -> None:
    delays = [minutes(next_due(NOW, TIMING, failures=n)) for n in range(1, 8)]
    assert delays[:4] == [30, 60, 120, 240]
    assert delays[-1] == 24 * 60
    assert delays == sorted(delays)


def test_jitter_spreads_retries_by_at_most_a_quarter() -> None:
    low = minutes(next_due(NOW, TIMING, failures=2, jitter=0.0))
    high = minutes(next_due(NOW, TIMING, failures=2, jitter=0.999))
    assert low == 60
    assert 60 < high < 75


def test_retry_after_is_honoured_even_past_the_interval() -> None:
    later = NOW + timedelta(hours=1)
    assert next_due(NOW, TIMING, failures=1, retry_after=later) == later
    absurd = NOW + timedelta(days=400)
    assert next_due(NOW, TIMING, failures=1, retry_after=absurd) == NOW + MAX_RETRY_AFTER


def test_gone_is_never_due() -> None:
    assert next_due(NOW, TIMING, failures=1, gone=True) is None


def test_first_due_spreads_sources_and_keeps_a_future_stored_time() -> None:
    dues = {first_due(NOW, TIMING, f"source {i}", None) for i in range(20)}
    assert len(dues) == 20
    assert all(NOW <= due <= NOW + timedelta(seconds=60) for due in dues)
    assert first_due(NOW, TIMING, "a", None) == first_due(NOW, TIMING, "a", None)
    stored = NOW + timedelta(hours=3)
    assert first_due(NOW, TIMING, "a", stored) == stored
    assert first_due(NOW, TIMING, "a", NOW - timedelta(hours=3)) < stored
    assert 0 <= stable_fraction("x") < 1


def test_cache_lifetime_takes_the_longest_hint() -> None:
    date = NOW
    assert cache_lifetime(600, None, None, None) == 600
    assert cache_lifetime(600, NOW + timedelta(hours=1), date, None) == 3600
    assert cache_lifetime(None, None, None, 5400) == 5400
    assert cache_lifetime(None, NOW - timedelta(hours=1), date, None) is None
    assert cache_lifetime(0, None, None, None) is None


def test_redirect_moves_only_after_confirmations() -> None:
    pending, count = None, 0
    for poll in range(1, REDIRECT_CONFIRMATIONS + 1):
        verdict = judge_redirect("https://new.example/feed", pending, count)
        pending, count = verdict.pending_target, verdict.seen_count
        assert (verdict.move_to is not None) == (poll == REDIRECT_CONFIRMATIONS)
    flapping = judge_redirect("https://a.example/", "https://b.example/", 2)
    assert flapping.move_to is None and flapping.seen_count == 1
    assert judge_redirect(None, "https://b.example/", 2).seen_count == 0


def test_failing_after_several_failures() -> None:
    assert not is_failing(4)
    assert is_failing(5)
