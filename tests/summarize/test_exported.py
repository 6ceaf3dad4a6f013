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
