"""The summary cache's part of the storage contract, over every store (see conftest.py)."""

from __future__ import annotations

from aggregator.models import SectionSummary, Summary
from aggregator.store import Store

ONE = Summary((SectionSummary(None, ("The harbour reopened.", "Ships came back.")),))
TWO = Summary((SectionSummary("Why", ("Ice left early.",)), SectionSummary(None, ())))


def test_summaries_come_back_by_key_and_missing_keys_are_left_out(store: Store) -> None:
    store.save_summaries({"k1": ONE, "k2": TWO})
    assert store.summaries(["k2", "k1", "nope"]) == {"k1": ONE, "k2": TWO}
    assert store.summaries([]) == {}


def test_a_key_saved_again_keeps_its_first_summary(store: Store) -> None:
    store.save_summaries({"k": ONE})
    store.save_summaries({"k": TWO, "other": TWO})  # a key is its input: the same summary
    assert store.summaries(["k", "other"]) == {"k": ONE, "other": TWO}
