"""benchmarks/dedup.py at a tiny size, so the script and its generator do not
rot unnoticed.  Not a timing: the numbers are only checked to be numbers."""

from __future__ import annotations

import pytest

from tests.dedup.test_end_to_end import bench, corpus_module


def test_the_generator_is_deterministic_and_labelled() -> None:
    one = corpus_module.generate(60, outlets=8, days=3, seed=3)
    two = corpus_module.generate(60, outlets=8, days=3, seed=3)
    assert [(i.link, i.title, i.html) for i in one.items] == [
        (i.link, i.title, i.html) for i in two.items
    ]
    kinds = {i.kind.split("+")[0] for i in one.items}
    assert {"original", "same-subject", "update"} <= kinds
    assert any(i.kind.startswith("recurring") for i in one.items)
    assert one.groups() > 5
    assert len({i.link for i in one.items}) == len(one.items)


def test_pairwise_scores() -> None:
    scores = bench.pairwise(["a", "a", "a", "b"], [1, 1, 2, 2])
    assert (scores.true_pairs, scores.predicted_pairs, scores.correct_pairs) == (3, 2, 1)
    assert scores.precision == pytest.approx(0.5) and scores.recall == pytest.approx(1 / 3)


def test_the_benchmark_runs(capsys: pytest.CaptureFixture[str]) -> None:
    code = bench.main(["--items", "300", "--measure", "50", "--days", "3", "--outlets", "12"])
    out = capsys.readouterr().out
    assert "precision" in out and "time per item" in out
    assert code in (0, 1)


def test_the_generator_makes_the_edits_at_the_start() -> None:
    for profile in corpus_module.PROFILES:
        corpus = corpus_module.generate(120, outlets=10, days=3, seed=4, profile=profile)
        edits = {edit for item in corpus.items for edit in item.kind.split("+")}
        assert {"lead-words", "drop-first", "intro", "credit", "drop-paragraph"} <= edits


def test_scores_per_kind_count_a_pair_for_each_kind_either_item_has() -> None:
    def item(story: str, kind: str) -> object:
        return corpus_module.Item("f", "id", "link", "t", "", corpus_module.START, story, kind)

    items = [item("a", "original"), item("a", "intro+retitle"), item("b", "update")]
    counts = bench.by_kind(items, [1, 2, 1])  # the copy missed, the update merged
    assert (counts["intro"].true, counts["intro"].found) == (1, 0)
    assert (counts["original"].true, counts["original"].found) == (1, 0)
    assert (counts["update"].predicted, counts["update"].correct) == (1, 0)
    assert (counts["original"].predicted, counts["original"].correct) == (1, 0)
    assert "retitle" in "\n".join(bench.kind_table(counts))
