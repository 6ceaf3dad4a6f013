"""A source's result as a record (what a worker keeps for ``--once``) and back."""

from __future__ import annotations

import json

import pytest

from aggregator.decide import Skipped
from aggregator.errors import FetchError
from aggregator.results import SourceResult

RESULTS = [
    SourceResult("a", new=3, merged=1, updated=2, unchanged=7, filtered=4),
    SourceResult("b", not_modified=True),
    SourceResult("c", error=FetchError("c", "HTTP 503 Service Unavailable", status=503)),
    SourceResult("d", new=1, warning="3 entries past fetch.max_items left out"),
    SourceResult("e", skipped=Skipped("deferred", "the server asked for no request before X")),
]


@pytest.mark.parametrize("result", RESULTS, ids=lambda r: r.source)
def test_a_result_through_its_record_prints_the_same_line(result: SourceResult) -> None:
    record = json.loads(json.dumps(result.to_record()))  # as the store keeps it
    again = SourceResult.from_record(record)
    assert again.line() == result.line()
    assert again.status == result.status
    assert (again.error is None) == (result.error is None)
    assert (again.new, again.merged, again.updated, again.filtered) == (
        result.new,
        result.merged,
        result.updated,
        result.filtered,
    )
