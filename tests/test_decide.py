"""The poll decider: every branch, with ``now`` passed in, no I/O and no sleeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from aggregator.decide import GONE, PollIntent, decide_poll, superseded
from aggregator.errors import FetchError, ParseError, ProcessingError, SourceError
from aggregator.models import Document, Fetched, FetchState, ParsedFeed, SourceState
from aggregator.schedule import MAX_RETRY_AFTER, REDIRECT_CONFIRMATIONS, Timing

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
TIMING = Timing(interval=1800, min_interval=60, max_interval=86400)
URL = "https://feeds.example/feed"
STORED = SourceState("src", FetchState(etag='"1"'), title="Old title", site_link="https://a/")
NEW_STATE = FetchState(etag='"2"', content_hash="h2")
FEED = ParsedFeed("Old title", "https://a/", None, (), ttl_seconds=None)


def fetched(**changes: object) -> Fetched:
    body = (Document(URL, b"<rss/>", "application/rss+xml"),)
    return replace(Fetched("src", body, NEW_STATE, status=200), **changes)  # type: ignore[arg-type]


def decide(
    result: Fetched | SourceError,
    parsed: ParsedFeed | SourceError | None = None,
    stored: SourceState = STORED,
    jitter: float = 0.0,
) -> PollIntent:
    return decide_poll(stored, URL, TIMING, result, parsed, NOW, jitter=jitter)


def test_a_success_stores_the_validators_and_the_feed_and_is_due_after_the_interval() -> None:
    intent = decide(fetched(), FEED)
    assert intent.error is None and not intent.not_modified
    assert intent.fetch_state == NEW_STATE and intent.feed is FEED
    assert not intent.feed_changed
    assert intent.next_due == NOW + timedelta(seconds=1800)
    assert intent.move_to is None and intent.disable is None


def test_a_new_title_or_link_is_a_change_of_the_feed() -> None:
    assert decide(fetched(), replace(FEED, title="New title")).feed_changed
    assert decide(fetched(), replace(FEED, link="https://b/")).feed_changed


def test_not_modified_keeps_the_stored_ttl_and_reads_nothing() -> None:
    stored = replace(STORED, feed_ttl=7200.0)
    intent = decide(fetched(documents=(), not_modified=True, status=304), None, stored)
    assert intent.not_modified and intent.feed is None and intent.error is None
    assert intent.fetch_state == NEW_STATE
    assert intent.next_due == NOW + timedelta(hours=2)


def test_an_unchanged_body_without_validators_is_not_modified_too() -> None:
    intent = decide(fetched(documents=(), not_modified=True, status=200))
    assert intent.not_modified and intent.error is None


@pytest.mark.parametrize(("ttl", "cache", "due"), [(7200.0, None, 7200), (None, 600.0, 1800)])
def test_the_longest_hint_wins_within_the_bounds(
    ttl: float | None, cache: float | None, due: int
) -> None:
    intent = decide(fetched(cache_seconds=cache), replace(FEED, ttl_seconds=ttl))
    assert intent.next_due == NOW + timedelta(seconds=due)


def test_a_failure_backs_off_from_the_failures_so_far() -> None:
    stored = replace(STORED, consecutive_failures=2)  # this is the third in a row
    error = FetchError("src", "HTTP 500", status=500)
    intent = decide(error, None, stored)
    assert intent.error is error and intent.fetch_state is None and intent.broken is None
    assert intent.failures == 3
    assert intent.next_due == NOW + timedelta(seconds=1800 * 4)
    jittered = decide(error, None, stored, jitter=0.5)
    assert jittered.next_due == NOW + timedelta(seconds=1800 * 4 * 1.125)


def test_retry_after_means_no_request_before_then() -> None:
    later = NOW + timedelta(hours=5)
    intent = decide(FetchError("src", "HTTP 503", status=503, retry_after=later))
    assert intent.retry_after == later and intent.next_due == later
    far = NOW + timedelta(days=300)
    capped = decide(FetchError("src", "HTTP 429", status=429, retry_after=far))
    assert capped.next_due == NOW + MAX_RETRY_AFTER


def test_410_gone_disables_the_source_for_good() -> None:
    intent = decide(FetchError("src", "HTTP 410 Gone", status=410))
    assert intent.disable == GONE and intent.next_due is None


def test_a_parse_error_remembers_the_bytes_that_did_not_parse() -> None:
    error = ParseError("src", "not a well-formed feed: mismatched tag")
    intent = decide(fetched(), error)
    assert intent.error is error and intent.broken == NEW_STATE and intent.feed is None


def test_the_same_bytes_that_did_not_parse_give_the_same_error_without_parsing() -> None:
    stored = replace(
        STORED,
        broken_hash="h2",
        last_error="src: not a well-formed feed: mismatched tag",
        consecutive_failures=1,
    )
    intent = decide(fetched(documents=(), not_modified=True), None, stored)
    assert isinstance(intent.error, ParseError)
    assert str(intent.error) == "src: not a well-formed feed: mismatched tag"
    assert intent.broken == NEW_STATE
    other = decide(fetched(documents=(), not_modified=True), None, replace(stored, broken_hash="x"))
    assert other.error is None and other.not_modified


def test_a_bug_met_on_the_source_is_its_failure_but_not_a_broken_body() -> None:
    bug = ProcessingError("src", "preparing entries failed: ValueError: x")
    intent = decide(fetched(), bug)
    assert intent.error is bug and intent.broken is None


def test_a_permanent_redirect_moves_the_source_only_once_confirmed() -> None:
    moved = "https://new.example/feed"
    stored = STORED
    for seen in range(1, REDIRECT_CONFIRMATIONS):
        intent = decide(fetched(permanent_redirect=moved), FEED, stored)
        assert intent.move_to is None
        assert (intent.redirect_target, intent.redirect_count) == (moved, seen)
        stored = replace(stored, redirect_target=moved, redirect_count=seen)
    confirmed = decide(fetched(permanent_redirect=moved), FEED, stored)
    assert confirmed.move_to == moved
    assert (confirmed.redirect_target, confirmed.redirect_count) == (None, 0)


def test_a_redirect_to_where_the_source_already_lives_is_no_move() -> None:
    stored = replace(STORED, url=URL, redirect_target=URL, redirect_count=2)
    assert decide(fetched(permanent_redirect=URL), FEED, stored).move_to is None


def test_a_flapping_redirect_starts_counting_again() -> None:
    stored = replace(STORED, redirect_target="https://a.example/", redirect_count=2)
    intent = decide(fetched(permanent_redirect="https://b.example/"), FEED, stored)
    assert (intent.redirect_target, intent.redirect_count, intent.move_to) == (
        "https://b.example/",
        1,
        None,
    )
    gone = decide(fetched(), FEED, stored)
    assert (gone.redirect_target, gone.redirect_count) == (None, 0)


def test_a_scheduled_poll_is_superseded_once_the_source_was_polled_since() -> None:
    now = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assert not superseded(SourceState("a"), now)  # never polled: due
    assert not superseded(SourceState("a", next_due=now), now)  # due now
    assert not superseded(SourceState("a", next_due=now - timedelta(minutes=5)), now)
    assert superseded(SourceState("a", next_due=now + timedelta(seconds=1)), now)
    assert superseded(SourceState("a", disabled="HTTP 410 Gone"), now)
