"""benchmarks/full_text.py on two pages written here, so the script does not rot unnoticed.

Not a timing: it checks that each library gets a row with its scores, that a
good extraction scores high, and that without pages the script skips cleanly.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.fulltext.test_full_text import article_page

SCRIPT = REPO / "benchmarks" / "full_text.py"


def run(*args: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout.splitlines()


def test_the_benchmark_scores_each_library_against_the_ground_truth(tmp_path: Path) -> None:
    (tmp_path / "html").mkdir()
    truth = {}
    for n in (1, 2):
        page = article_page(n, f"Story {n}")
        (tmp_path / "html" / f"page{n}.html.gz").write_bytes(gzip.compress(page))
        body = page.decode().split("<h1>", 1)[1].split("</h1>", 1)[1].split("</article>")[0]
        text = body.replace("</p>", "\n").replace("</h2>", "\n")
        truth[f"page{n}"] = {
            "articleBody": "".join(part.split(">")[-1] for part in text.split("<")),
            "url": f"https://news.example/{n}",
        }
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth))
    lines = run(str(tmp_path), "--libraries", "aggregator,trafilatura")
    assert lines[0] == f"2 pages from {tmp_path}"
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert set(rows) == {"aggregator", "trafilatura"}
    precision, recall, f1, headings, in_truth = rows["aggregator"][1:6]
    assert float(f1) > 0.9 and float(recall) > 0.9 and float(precision) > 0.8, lines
    assert headings == in_truth == "4", lines  # two per page, both the article's own


def test_without_pages_the_benchmark_says_so() -> None:
    assert run()[-1].startswith("no pages to measure")
