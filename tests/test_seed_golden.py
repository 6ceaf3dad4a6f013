"""Golden pair for the seed article, end to end: the file in seeds/ in, the
published Atom feed out (parse, store, sections, summaries, publish).

UPDATE_GOLDEN=1 rewrites the expectation; read the diff before committing it.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator import publishing
from aggregator.config import load_config
from aggregator.pipeline import run_once
from tests.conftest import DATA, REPO

EXPECTED = DATA / "pipeline" / "seed.atom"
PUBLISHED = datetime(2024, 11, 20, 6, 0, tzinfo=UTC)


def test_seed_article_publishes_as_expected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The feed's own date is when its entries changed: this first publish.
    monkeypatch.setattr(publishing, "_utc_now", lambda: PUBLISHED)
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    for path in (REPO / "seeds").iterdir():
        shutil.copy(path, seeds / path.name)
        os.utime(seeds / path.name, (1732000000, 1732000000))  # the published date
    config_path = tmp_path / "feeds.yaml"
    config_path.write_text(
        "title: Seed digest\nbase_url: https://digest.example/\n"
        "sources:\n  - name: Seed\n    path: seeds\n    section: Ukraine\n",
        encoding="utf-8",
    )
    report = run_once(load_config(config_path))
    assert [r.status for r in report.results] == ["new"]
    actual = (tmp_path / "out" / "feed.atom").read_text(encoding="utf-8")
    if os.environ.get("UPDATE_GOLDEN"):
        EXPECTED.write_text(actual, encoding="utf-8")
    assert actual == EXPECTED.read_text(encoding="utf-8")
