"""The public surface of aggregator.summarize, locked."""

from __future__ import annotations

import aggregator.summarize as summarize


def test_exported_members() -> None:
    assert sorted(summarize.__all__) == [
        "ALGORITHMS",
        "DEFAULT_ALGORITHM",
        "Summarizer",
        "split_sections",
        "summarize_html",
        "summarize_sections",
        "summary_cache_key",
    ]
    assert summarize.ALGORITHMS == (
        "positional",
        "lead",
        "lexrank",
        "textrank",
        "lsa",
        "luhn",
        "kl",
        "sumbasic",
        "edmundson",
    )
    assert summarize.DEFAULT_ALGORITHM == "positional"


def test_the_stage_implements_exactly_the_algorithms_the_configuration_names() -> None:
    from aggregator.config import DEFAULT_SUMMARY_ALGORITHM, SUMMARY_ALGORITHMS

    assert set(summarize.ALGORITHMS) == set(SUMMARY_ALGORITHMS)
    assert summarize.DEFAULT_ALGORITHM == DEFAULT_SUMMARY_ALGORITHM
