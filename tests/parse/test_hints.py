"""Hints and strings that once rejected a whole feed: ignored or repaired, with a warning."""

from __future__ import annotations

import pytest

from aggregator.models import Document, ParsedFeed
from aggregator.parse import parse_document
from tests.hostile import corpus


def parse(body: bytes, content_type: str = "application/xml") -> ParsedFeed:
    return parse_document(
        Document("https://hints.example/feed", body, content_type), "src", local=False
    )


@pytest.mark.parametrize(
    ("ttl", "frequency", "seconds", "ignored"),
    [
        (b"30", b"2", 1800.0, None),  # ttl 30 min beats hourly / 2
        (b"9" * 4400, b"9" * 4400, None, "<ttl> and sy:updateFrequency"),
        ("\u00b2".encode(), "\u00b3".encode(), 3600.0, "<ttl> and sy:updateFrequency"),
        (b"9" * 400, b"0", 3600.0, "<ttl> and sy:updateFrequency"),
        (b"-5", b"4", 900.0, "<ttl>"),
    ],
)
def test_out_of_range_hints_are_ignored_with_a_warning(
    ttl: bytes, frequency: bytes, seconds: float | None, ignored: str | None
) -> None:
    feed = parse(corpus.odd_hints(ttl, frequency))
    assert [item.title for item in feed.items] == [f"Odd hints {ttl[:8].decode()}"]
    if ignored is None:
        assert feed.warning is None
        assert feed.ttl_seconds == seconds
    else:
        assert feed.warning == f"ignored an out-of-range {ignored}"
        # A frequency out of range is read as once per period.
        assert feed.ttl_seconds == (seconds if seconds is not None else 3600.0)


def test_lone_surrogates_in_a_json_feed_are_replaced_with_a_warning() -> None:
    feed = parse(corpus.lone_surrogate(), "application/feed+json")
    (item,) = feed.items
    assert item.title == "Lone \ufffd surrogate"
    assert item.entry_id == "s\ufffd"
    assert feed.title == "Surrogates \ufffd"
    assert feed.warning == "unpaired UTF-16 surrogates replaced by U+FFFD"
    # Every string is text again: it encodes.
    for text in (item.title, item.entry_id, item.content_html, feed.title):
        assert text is not None
        text.encode("utf-8")


def test_a_json_feed_with_a_surrogate_pair_is_left_alone() -> None:
    body = corpus.json_feed([{"id": "p", "title": "Pair \U0001f600", "content_text": "x"}])
    feed = parse(body, "application/feed+json")
    assert feed.items[0].title == "Pair \U0001f600"
    assert feed.warning is None
