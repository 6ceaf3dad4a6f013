"""A source's entry digests: kept with its state, forgotten with its old location
(the store's part over every store, see conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from aggregator.decide import PollIntent
from aggregator.errors import SourceError
from aggregator.models import DIGEST_BYTES, EntryDigests, FetchState, ParsedFeed
from aggregator.store import Store

WHEN = datetime(2026, 1, 2, tzinfo=UTC)
digest = st.binary(min_size=DIGEST_BYTES, max_size=DIGEST_BYTES)


@given(digest, st.dictionaries(digest, digest, max_size=40))
def test_digests_read_back_equal(context: bytes, entries: dict[bytes, bytes]) -> None:
    digests = EntryDigests(context, entries)
    assert EntryDigests.from_bytes(digests.to_bytes()) == digests


def test_torn_digests_read_as_none() -> None:
    assert EntryDigests.from_bytes(b"x" * (DIGEST_BYTES + 3)) is None
    assert EntryDigests.from_bytes(b"x" * (2 * DIGEST_BYTES)) is None  # half a pair
    assert EntryDigests.from_bytes(b"") is None


def test_the_store_keeps_them_until_replaced_or_a_new_location(store: Store) -> None:
    store.sync_sources([("s", "https://a.example/feed", "S")])
    assert store.entry_digests("s") is None
    digests = EntryDigests(b"c" * DIGEST_BYTES, {b"e" * DIGEST_BYTES: b"i" * DIGEST_BYTES})
    with store.transaction():
        store.apply_poll(
            PollIntent(
                "s",
                WHEN,
                None,
                fetch_state=FetchState(etag="1"),
                feed=ParsedFeed("T", None, None, ()),
            )
        )
        store.save_entry_digests("s", digests)
    assert store.entry_digests("s") == digests
    with store.transaction():
        store.apply_poll(PollIntent("s", WHEN, None, error=SourceError("s", "boom")))
        store.apply_poll(PollIntent("s", WHEN, None, fetch_state=FetchState(etag="1")))
    assert store.entry_digests("s") == digests
    store.sync_sources([("s", "https://a.example/feed", "Other section")])
    assert store.entry_digests("s") == digests
    store.sync_sources([("s", "https://b.example/feed", "S")])
    assert store.entry_digests("s") is None
    with store.transaction():
        store.save_entry_digests("s", digests)
        store.save_entry_digests("s", None)
    assert store.entry_digests("s") is None
