"""How the SQLite store writes dates: they read back equal and sort as text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from aggregator.store.sqlite import from_text, to_text

moments = st.datetimes(
    min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)
).map(lambda d: d.replace(microsecond=0))


@given(moments)
def test_a_date_reads_back_equal(moment: datetime) -> None:
    assert from_text(to_text(moment)) == moment


@given(moments, moments)
def test_dates_sort_as_their_text(a: datetime, b: datetime) -> None:
    text_a, text_b = to_text(a), to_text(b)
    assert text_a is not None and text_b is not None
    assert (text_a < text_b) == (a < b)


def test_other_zones_are_written_in_utc() -> None:
    plus_two = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert to_text(plus_two) == "2026-01-02T01:04:05Z"
    assert to_text(datetime(999, 1, 1, tzinfo=UTC)) == "0999-01-01T00:00:00Z"
    assert to_text(None) is None and from_text(None) is None
