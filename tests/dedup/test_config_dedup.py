"""The ``dedup:`` section of feeds.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.config import DedupConfig, load_config
from aggregator.errors import ConfigError

SOURCES = """\
sources:
  - name: Remote
    url: http://127.0.0.1:9/feed.xml
    section: News
"""


def load(tmp_path: Path, text: str) -> DedupConfig:
    path = tmp_path / "feeds.yaml"
    path.write_text(text + SOURCES, encoding="utf-8")
    return load_config(path).dedup


def test_defaults(tmp_path: Path) -> None:
    assert load(tmp_path, "") == DedupConfig()
    assert DedupConfig().window == 3 * 86400 and DedupConfig().lead == "earliest"


def test_every_key(tmp_path: Path) -> None:
    settings = load(
        tmp_path,
        "dedup:\n  window: 2d\n  short_window: 12h\n  threshold: 0.7\n"
        "  title_threshold: 0.8\n  short_words: 30\n  lead: complete\n",
    )
    assert settings == DedupConfig(
        window=2 * 86400,
        short_window=12 * 3600,
        threshold=0.7,
        title_threshold=0.8,
        short_words=30,
        lead="complete",
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("dedup:\n  threshold: 1.5\n", "dedup.threshold"),
        ("dedup:\n  threshold: 0\n", "dedup.threshold"),
        ("dedup:\n  title_threshold: high\n", "dedup.title_threshold"),
        ("dedup:\n  window: soon\n", "dedup.window"),
        ("dedup:\n  lead: newest\n", "dedup.lead"),
        ("dedup:\n  treshold: 0.5\n", "did you mean 'threshold'"),
    ],
)
def test_errors_name_the_key(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        load(tmp_path, text)
