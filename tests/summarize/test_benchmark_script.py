"""benchmarks/summaries.py at a tiny size, so the script does not rot unnoticed.

Not a timing and not the evaluation: a three-article set written here, and
the clean skip when there is no evaluation set at all.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.conftest import REPO, SHARED


def _load_benchmark() -> ModuleType:
    # benchmarks/ is not a package; load the script by path under its own name.
    spec = importlib.util.spec_from_file_location(
        "benchmark_summaries", REPO / "benchmarks" / "summaries.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()

ARTICLE = (
    "The council voted on Monday to build a flood barrier on the east bank. "
    "The barrier will cost 14 million euros. Work starts in the spring. "
    "Residents welcomed the vote. Shops on the east bank were flooded twice. "
    "The opposition said the loan was too large."
)


def test_it_reads_the_evaluation_set_beside_the_repository() -> None:
    assert bench.EVAL_DIR == SHARED / "eval"


def test_without_the_evaluation_set_it_says_so_and_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--eval-dir", str(tmp_path / "absent")]) == 0
    assert "skipped" in capsys.readouterr().out


@pytest.fixture
def tiny_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(bench, "MIN_SECONDS", 0.0)
    rows = [
        {"id": str(i), "article": ARTICLE, "reference": "The council backs a flood barrier."}
        for i in range(3)
    ]
    (tmp_path / bench.EVAL_FILE).write_text(
        "".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8"
    )
    return tmp_path


def test_it_prints_a_row_per_algorithm(tiny_set: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("rouge_score")
    arguments = ["--eval-dir", str(tiny_set), "--algorithms", "lead,lexrank,positional"]
    assert bench.main([*arguments, "--folds", "0"]) == 0
    lines = capsys.readouterr().out.splitlines()
    header = ["algorithm", "ROUGE-1", "ROUGE-2", "ROUGE-L", "kept", "dangle", "art/s", "cpu"]
    assert lines[1].split() == header
    assert [line.split()[0] for line in lines[2:]] == ["lead", "lexrank", "positional"]
    assert "(default)" in lines[-1]
    # Lead-3 of six sentences keeps three: about half of the words, none dangling.
    kept, dangling = lines[2].split()[5:7]  # after "lead (Lead-3)" and three scores
    assert 0.3 < float(kept.rstrip("%")) / 100 < 0.7
    assert dangling == "0.0%"


def test_it_cross_validates_the_default_parameters(
    tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("rouge_score")
    arguments = ["--eval-dir", str(tiny_set), "--algorithms", "lead"]
    assert bench.main([*arguments, "--folds", "3", "--repeats", "2"]) == 0
    out = capsys.readouterr().out
    assert "3 folds x 2 orders" in out
    # Six choices in all (3 folds, twice), each a parameter setting of the grid.
    chosen = out.split("parameters chosen (times):\n")[1].splitlines()
    times = [int(line.split()[0]) for line in chosen if "Tuning(" in line]
    assert sum(times) == 6
    assert "difference in ROUGE-1:" in out
    assert "with feeds.yaml's default summary settings" in out


def test_long_mode_times_articles_of_about_1900_words(
    tiny_set: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--eval-dir", str(tiny_set), "--long", "--algorithms", "positional"]) == 0
    out = capsys.readouterr().out
    assert "of 1900 words" in out
    assert out.splitlines()[-1].split()[0] == "positional"
