"""The error hierarchy: one line each, naming the source, and picklable (failing
sources come back from worker processes as values)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

from aggregator.errors import (
    FetchError,
    NotAFeed,
    ParseError,
    ResponseTooLarge,
    SourceError,
)


def test_errors_survive_pickling_with_their_parts() -> None:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    errors: list[SourceError] = [
        ParseError("feed", "not a well-formed feed:\n line 2"),
        FetchError("feed", "HTTP 429", status=429, retry_after=when, transient=True),
        ResponseTooLarge("feed", "over the cap", status=200),
        NotAFeed("feed", "got an HTML page, not a feed"),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error) and "\n" not in str(copy)
        assert copy.source == "feed"
        assert vars(copy) == vars(error)
    assert pickle.loads(pickle.dumps(errors[1])).retry_after == when
    assert pickle.loads(pickle.dumps(errors[1])).transient
