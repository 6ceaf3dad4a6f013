"""Feeds for the cluster's tests: stories that several feeds carry, on a loopback server.

Two dozen feeds of six entries each, drawn from forty stories: a story keeps
its title and text from feed to feed (sometimes with a credit line added),
each feed has its own guids and links, and every copy its own date.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from xml.sax.saxutils import escape

from tests.feedserver import FeedServer

FEEDS = 24
STORIES = 40
PER_FEED = 6
VOCABULARY = (
    "council budget river school market energy storm harbor court museum railway "
    "hospital election festival bridge factory farmers teachers police minister "
    "vote plan report water prices housing transport airport union workers strike "
    "season team coach players stadium record fans weather flood rescue village "
    "city mayor police fire station research university students library"
)
WORDS = VOCABULARY.split()


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(9, 16))]
    return " ".join(words).capitalize() + "."


def corpus(seed: int = 7) -> list[list[tuple[str, str, str]]]:
    """For each feed, its entries as (guid, title, text): stories shared between
    feeds keep their text (or gain a line), each feed its own titles and guids."""
    rng = random.Random(seed)
    stories = [
        (" ".join(rng.choice(WORDS) for _ in range(6)).title(), [_sentence(rng) for _ in range(9)])
        for _ in range(STORIES)
    ]
    feeds: list[list[tuple[str, str, str]]] = []
    for feed in range(FEEDS):
        chosen = rng.sample(range(STORIES), PER_FEED)
        entries = []
        for story in chosen:
            title, sentences = stories[story]
            text = list(sentences)
            if rng.random() < 0.5:
                text.append(f"Reporting by the desk of outlet {feed}.")
            entries.append((f"feed{feed}-story{story}", title, " ".join(text)))
        feeds.append(entries)
    return feeds


def rss(name: str, base: str, entries: list[tuple[str, str, str]], when: datetime) -> bytes:
    items = []
    for n, (guid, title, text) in enumerate(entries):
        date = format_datetime(when - timedelta(minutes=10 * n, seconds=len(guid)))
        items.append(
            f"<item><title>{escape(title)}</title><link>{base}/{name}/{guid}</link>"
            f"<guid isPermaLink='false'>{guid}</guid><pubDate>{date}</pubDate>"
            f"<description>{escape(text)}</description></item>"
        )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{name}</title>"
        f"<link>{base}/{name}</link><description>d</description>{''.join(items)}"
        "</channel></rss>"
    ).encode()


def write_config(
    path: Path, server: FeedServer, store: str, out: Path, *, concurrency: int = 8
) -> Path:
    """The stories' configuration; ``concurrency``: jobs each process runs at once."""
    sources = "".join(
        f"  - name: feed{n}\n    url: {server.url(f'/feed{n}.xml')}\n    section: S{n % 3}\n"
        for n in range(FEEDS)
    )
    path.write_text(
        f"title: Kill test\nallow_private: true\nstore: '{store}'\ninterval: 1h\n"
        f"output:\n  dir: {out}\ncluster:\n  tick: 0.3s\n  stall_timeout: 3s\n"
        f"  concurrency: {concurrency}\n"
        f"digest:\n  sentences: 0\nsources:\n{sources}"
    )
    return path
