"""A crash loses nothing: ``aggregate --once`` killed with SIGKILL at random moments.

A local corpus of generated articles grows by a few files before each run, so
every run has real work to do (parse, store, summarize, publish) when it is
killed.  After each kill the database opens and passes SQLite's integrity
check, and every published file that exists parses (never half-written).
After the last kill one run completes; its database and published feed then
hold exactly what an uninterrupted run over the same corpus holds: no item
lost, none duplicated.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from aggregator.store import open_store
from tests.conftest import REPO
from tests.store.sqlite_file import integrity

SOURCES = 20
START = 80  # articles before the first run
ADDED = 4  # articles added before each killed run
KILLS = 20

VOCABULARY = [
    "harbour",
    "railway",
    "budget",
    "tariff",
    "vaccine",
    "orchard",
    "glacier",
    "festival",
    "library",
    "museum",
    "bridge",
    "tunnel",
    "airport",
    "election",
    "referendum",
    "drought",
    "harvest",
    "satellite",
    "telescope",
    "reactor",
    "pipeline",
    "vineyard",
    "lighthouse",
    "council",
    "minister",
    "mayor",
    "farmer",
    "engineer",
    "teacher",
    "nurse",
    "pilot",
    "sailor",
    "miner",
    "baker",
    "river",
    "forest",
    "valley",
    "mountain",
    "city",
    "village",
    "province",
    "island",
    "coast",
    "desert",
    "storm",
    "flood",
    "market",
    "factory",
    "school",
    "hospital",
    "court",
]


def write_article(root: Path, index: int) -> None:
    """Article ``index``: front matter with a fixed date, three headed sections."""
    rng = random.Random(index)

    def sentence() -> str:
        return (
            " ".join(rng.choice(VOCABULARY) for _ in range(rng.randint(8, 16))).capitalize() + "."
        )

    parts = [
        f"---\ntitle: Story {index} about the {rng.choice(VOCABULARY)}\n"
        f"date: 2024-06-{1 + index % 28:02d}T{index % 24:02d}:{index % 60:02d}:00Z\n---\n"
    ]
    for heading in range(3):
        paragraphs = [" ".join(sentence() for _ in range(4)) for _ in range(2)]
        parts.append(
            f"## Part {heading} on the {rng.choice(VOCABULARY)}\n\n" + "\n\n".join(paragraphs)
        )
    directory = root / "articles" / f"s{index % SOURCES:02d}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"story-{index:04d}.md").write_text("\n\n".join(parts) + "\n", encoding="utf-8")


def make_corpus(root: Path, count: int) -> Path:
    for index in range(count):
        write_article(root, index)
    lines = ["title: Crash test", "base_url: https://digest.example/", "output:"]
    lines += ["  max_entries: 1000", "sources:"]
    for source in range(SOURCES):
        lines += [
            f"  - name: s{source:02d}",
            f"    path: articles/s{source:02d}",
            f"    section: Section {source % 3}",
        ]
    config = root / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def command(config: Path) -> list[str]:
    return [sys.executable, "-m", "aggregator.cli", "--once", "-c", str(config)]


def run_to_completion(config: Path) -> float:
    started = time.monotonic()
    result = subprocess.run(command(config), capture_output=True, text=True, cwd=config.parent)
    assert result.returncode == 0, result.stdout + result.stderr
    return time.monotonic() - started


def check_consistent(root: Path) -> None:
    """The database opens and is intact; every published file parses."""
    out = root / "out"
    database = root / ".aggregator" / "aggregator.db"
    if database.exists():
        assert integrity(database) == "ok"
        store = open_store(database)  # and it opens as a store
        store.close()
    for path in out.rglob("*"):
        if not path.is_file() or path.name.startswith(("aggregator.db", ".")):
            continue
        data = path.read_bytes()
        if path.suffix in (".atom", ".rss"):
            ET.fromstring(data)
        elif path.suffix == ".json":
            json.loads(data)
        elif path.suffix == ".html":
            assert data.rstrip().endswith(b"</html>"), path


def stored(root: Path) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    store = open_store(root / ".aggregator" / "aggregator.db")
    try:
        items = sorted(
            (i.uid, i.title, i.link or "", i.published.isoformat(), i.content_html)
            for i in store.iter_items()
        )
        copies = sorted(
            (state.name, key)
            for state in store.source_states(counts=False)
            for key in store.copy_hashes(state.name)
        )
    finally:
        store.close()
    return items, copies


def published(root: Path) -> list[tuple[str, str, str]]:
    feed = json.loads((root / "out" / "feed.json").read_bytes())
    return sorted((i["id"], i["title"], i["content_html"]) for i in feed["items"])


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_nothing(tmp_path: Path) -> None:
    final = START + ADDED * KILLS
    reference = tmp_path / "reference"
    duration = run_to_completion(make_corpus(reference, final))

    crashed = tmp_path / "crashed"
    config = make_corpus(crashed, START)
    rng = random.Random(20240603)
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    count = START
    for _kill in range(KILLS):
        for index in range(count, count + ADDED):
            write_article(crashed, index)
        count += ADDED
        process = subprocess.Popen(
            command(config),
            cwd=crashed,
            env=environment,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # the kill takes its worker processes too
        )
        # A killed run has only the new articles and what the last one left
        # undone to do, so it is shorter than the reference run over them all.
        time.sleep(rng.uniform(0.2, max(1.0, duration / 2)))
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        check_consistent(crashed)
    assert count == final
    run_to_completion(config)
    check_consistent(crashed)

    items, copies = stored(crashed)
    expected_items, expected_copies = stored(reference)
    assert len(items) == final and len({uid for uid, *_ in items}) == final
    assert copies == expected_copies
    assert items == expected_items
    assert published(crashed) == published(reference)
