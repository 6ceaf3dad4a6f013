"""The sources' part of the storage contract, over every store (see conftest.py).

What a poll's intent stores, what a configured source's row keeps across
restarts and edits, and that datetimes come back as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.decide import GONE, PollIntent
from aggregator.errors import FetchError, ParseError
from aggregator.models import DIGEST_BYTES, EntryDigests, FetchState, ParsedFeed, SourceState
from aggregator.store import Store

WHEN = datetime(2026, 12, 3, 12, 0, 5, tzinfo=UTC)
LATER = WHEN + timedelta(minutes=30)
FEED = ParsedFeed("Harbour news", "https://harbour.example/", None, (), ttl_seconds=3600.0)
VALIDATORS = FetchState(
    etag='"v1"', last_modified="Wed, 02 Dec 2026 10:00:00 GMT", content_hash="h1"
)


def state(store: Store, name: str = "a") -> SourceState:
    return next(s for s in store.source_states() if s.name == name)


def success(name: str = "a", **changes: object) -> PollIntent:
    fields: dict[str, object] = {"fetch_state": VALIDATORS, "feed": FEED}
    fields.update(changes)
    return PollIntent(name, WHEN, LATER, **fields)  # type: ignore[arg-type]


def test_configured_sources_get_a_row_each_with_no_history(store: Store) -> None:
    store.sync_sources([("b", "https://b.example/feed", "S"), ("a", "seeds", "T")])
    states = store.source_states()
    assert [s.name for s in states] == ["a", "b"]
    fresh = states[0]
    assert fresh.fetch_state == FetchState() and fresh.last_fetch is None
    assert (fresh.consecutive_failures, fresh.items_stored, fresh.next_due) == (0, 0, None)
    assert store.source_states(counts=False)[0].items_stored is None


def test_a_success_stores_the_validators_the_feed_and_the_next_due_time(store: Store) -> None:
    store.sync_sources([("a", "https://a.example/feed", "S")])
    store.apply_poll(success())
    got = state(store)
    assert got.fetch_state == VALIDATORS
    assert (got.title, got.site_link, got.feed_ttl) == (
        "Harbour news",
        "https://harbour.example/",
        3600.0,
    )
    assert got.last_fetch == WHEN and got.last_success == WHEN and got.next_due == LATER
    assert got.last_error is None and got.consecutive_failures == 0
    assert got.last_fetch.tzinfo == UTC


def test_a_failure_counts_keeps_the_validators_and_remembers_retry_after(store: Store) -> None:
    store.sync_sources([("a", "https://a.example/feed", "S")])
    store.apply_poll(success())
    retry = WHEN + timedelta(hours=2)
    error = FetchError("a", "HTTP 503 Service Unavailable", status=503, retry_after=retry)
    failed = PollIntent("a", LATER, retry, error=error, failures=1)
    store.apply_poll(failed)
    store.apply_poll(failed)  # at least once: the same intent twice counts once
    got = state(store)
    assert got.consecutive_failures == 1
    assert got.last_error == "a: HTTP 503 Service Unavailable"
    assert got.retry_after == retry and got.next_due == retry
    assert got.fetch_state == VALIDATORS and got.last_success == WHEN and got.last_fetch == LATER
    assert got.title == "Harbour news"  # a failure says nothing about the feed


def test_bytes_that_did_not_parse_are_remembered_until_a_success(store: Store) -> None:
    store.sync_sources([("a", "https://a.example/feed", "S")])
    broken = FetchState(etag='"bad"', content_hash="bad-hash")
    error = ParseError("a", "not a well-formed feed")
    store.apply_poll(PollIntent("a", WHEN, LATER, error=error, failures=1, broken=broken))
    got = state(store)
    assert got.broken_hash == "bad-hash" and got.fetch_state == broken
    store.apply_poll(success())
    assert state(store).broken_hash is None


def test_not_modified_keeps_what_the_feed_said(store: Store) -> None:
    store.sync_sources([("a", "https://a.example/feed", "S")])
    store.apply_poll(success())
    newer = FetchState(etag='"v2"')
    store.apply_poll(PollIntent("a", LATER, LATER + timedelta(hours=1), fetch_state=newer))
    got = state(store)
    assert got.fetch_state == newer and got.last_success == LATER
    assert (got.title, got.feed_ttl) == ("Harbour news", 3600.0)


def test_not_modified_after_a_failure_clears_it_schedules_and_ends_the_claim(
    store: Store,
) -> None:
    store.sync_sources([("a", "https://a.example/feed", "S")])
    store.apply_poll(success())
    error = FetchError("a", "HTTP 503", status=503, retry_after=LATER + timedelta(hours=5))
    store.apply_poll(PollIntent("a", LATER, LATER + timedelta(hours=5), error=error, failures=2))
    lease = timedelta(hours=5)  # still running when the source is due again
    assert store.claim_due(LATER + timedelta(hours=6), lease=lease, limit=5) == ["a"]
    newer = FetchState(etag='"v3"', last_modified="Thu, 03 Dec 2026 10:00:00 GMT")
    after = LATER + timedelta(hours=6)
    store.apply_poll(
        PollIntent(
            "a",
            after,
            after + timedelta(hours=1),
            fetch_state=newer,
            not_modified=True,
            redirect_target="https://b.example/feed",
            redirect_count=1,
        )
    )
    got = state(store)
    assert got.fetch_state == newer and got.last_fetch == got.last_success == after
    assert (got.consecutive_failures, got.last_error, got.retry_after) == (0, None, None)
    assert got.next_due == after + timedelta(hours=1)
    assert (got.redirect_target, got.redirect_count) == ("https://b.example/feed", 1)
    assert got.title == "Harbour news" and got.url is None and got.disabled is None
    # The claim ended with the poll: due again once its time comes.
    later = after + timedelta(hours=2)
    assert store.claim_due(later, lease=timedelta(hours=1), limit=5) == ["a"]


def test_redirects_moves_and_gone(store: Store) -> None:
    store.sync_sources([("a", "https://a.example/feed", "S")])
    seen = success(redirect_target="https://new.example/feed", redirect_count=2)
    store.apply_poll(seen)
    got = state(store)
    assert (got.redirect_target, got.redirect_count, got.url) == (
        "https://new.example/feed",
        2,
        None,
    )
    store.apply_poll(success(move_to="https://new.example/feed"))
    got = state(store)
    assert (got.url, got.redirect_target, got.redirect_count) == (
        "https://new.example/feed",
        None,
        0,
    )
    gone = FetchError("a", "HTTP 410 Gone", status=410)
    store.apply_poll(PollIntent("a", LATER, None, error=gone, failures=1, disable=GONE))
    got = state(store)
    assert got.disabled == GONE and got.next_due is None


def test_a_source_edited_to_another_location_starts_afresh(store: Store) -> None:
    store.sync_sources([("a", "https://a.example/feed", "S")])
    store.apply_poll(success(redirect_target="https://new.example/feed", redirect_count=1))
    digests = EntryDigests(b"c" * DIGEST_BYTES, {})
    store.save_entry_digests("a", digests)
    store.sync_sources([("a", "https://a.example/feed", "Other section")])  # same location
    assert state(store).fetch_state == VALIDATORS and store.entry_digests("a") == digests
    store.sync_sources([("a", "https://elsewhere.example/feed", "S")])
    got = state(store)
    assert got.fetch_state == FetchState() and got.redirect_target is None
    assert store.entry_digests("a") is None


def test_meta_and_the_generation(store: Store) -> None:
    assert store.get_meta("published") is None
    store.set_meta("published", "x")
    store.set_meta("published", "y")
    assert store.get_meta("published") == "y"
    before = int(store.get_meta("generation") or 0)
    store.bump_generation()
    assert int(store.get_meta("generation") or 0) == before + 1


LEASE = timedelta(minutes=10)


def scheduled(store: Store, **next_due: datetime | None) -> None:
    """Sources named by the keywords, each polled once and due at its value."""
    store.sync_sources([(name, f"https://{name}.example/feed", "S") for name in next_due])
    for name, due in next_due.items():
        if due is not None:
            store.apply_poll(
                PollIntent(name, WHEN - timedelta(days=1), due, fetch_state=VALIDATORS)
            )


def test_claim_due_claims_the_due_sources_earliest_first(store: Store) -> None:
    scheduled(
        store,
        late=WHEN,  # due exactly now: due
        never=None,  # never polled: first of all
        early=WHEN - timedelta(hours=2),
        earlier=WHEN - timedelta(hours=3),
        future=WHEN + timedelta(seconds=1),
    )
    store.sync_sources([("also never", "https://n.example/feed", "S")])
    gone = FetchError("gone", "HTTP 410 Gone", status=410)
    store.sync_sources([("gone", "https://gone.example/feed", "S")])
    store.apply_poll(PollIntent("gone", WHEN, None, error=gone, failures=1, disable=GONE))
    assert store.claim_due(WHEN, lease=LEASE, limit=100) == [
        "also never",
        "never",
        "earlier",
        "early",
        "late",
    ]


def test_a_claimed_source_is_not_claimed_again_until_its_claim_expires(store: Store) -> None:
    scheduled(store, a=WHEN - timedelta(hours=1), b=WHEN - timedelta(minutes=1), c=None)
    assert store.claim_due(WHEN, lease=LEASE, limit=2) == ["c", "a"]
    assert store.claim_due(WHEN, lease=LEASE, limit=2) == ["b"]  # what the first left
    assert store.claim_due(WHEN + LEASE, lease=LEASE, limit=10) == []  # not expired *before* now
    after = WHEN + LEASE + timedelta(seconds=1)
    assert store.claim_due(after, lease=LEASE, limit=10) == ["c", "a", "b"]  # the pollers died


def test_a_poll_or_a_new_location_ends_the_claim(store: Store) -> None:
    scheduled(store, polled=WHEN - timedelta(hours=1), moved=WHEN - timedelta(hours=1))
    assert store.claim_due(WHEN, lease=LEASE, limit=10) == ["moved", "polled"]
    store.apply_poll(
        PollIntent("polled", WHEN, WHEN + timedelta(minutes=1), fetch_state=VALIDATORS)
    )
    store.sync_sources([("moved", "https://elsewhere.example/feed", "S")])
    # Before the lease ends: due again (one after its poll, one as a new subscription).
    assert store.claim_due(WHEN + timedelta(minutes=2), lease=LEASE, limit=10) == [
        "moved",
        "polled",
    ]
    # Claimed again (until +12 minutes); one polled, due in five hours.
    store.apply_poll(PollIntent("polled", WHEN, WHEN + timedelta(hours=5), fetch_state=VALIDATORS))
    assert store.claim_due(WHEN + timedelta(minutes=5), lease=LEASE, limit=10) == []


def test_claim_due_inside_a_failed_transaction_claims_nothing(store: Store) -> None:
    scheduled(store, a=None)
    try:
        with store.transaction():
            assert store.claim_due(WHEN, lease=LEASE, limit=10) == ["a"]
            raise RuntimeError("the tick failed before deferring its jobs")
    except RuntimeError:
        pass
    assert store.claim_due(WHEN, lease=LEASE, limit=10) == ["a"]
