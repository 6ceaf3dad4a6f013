"""CPU seconds of parsing the pipeline benchmark's feeds: by feedparser alone, and as parsing runs.

    generate the feeds of benchmarks/pipeline.py (same arguments, same bytes)
      |  parse_document over each, in this process: feedparser alone, then as it runs
         (the fast reader first, feedparser for what it declines)
      |  CPU seconds of each pass, documents per reader, and whether the feeds are equal

Usage::

    python benchmarks/parse.py [--feeds 1000] [--items 30] [--seed 1] [--profile 15]

Each document is what the benchmark's server sends (its content type, its
address), parsed cold: no entry digests from a previous poll, so every entry
is read.  The time is ``time.process_time()`` around the parses alone,
generating and rendering the feeds excluded.  ``--profile N`` prints the top
N lines (by own time) of a cProfile of the second pass.

The script exits 1 when any feed parses otherwise than with feedparser alone.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pipeline

from aggregator.models import Document, ParsedFeed
from aggregator.parse import feed as feed_module
from aggregator.parse import parse_document


def documents(feeds: int, items: int, seed: int) -> list[Document]:
    corpus = pipeline.generate(feeds, items, seed)
    found = []
    for feed in corpus.feeds:
        served = pipeline.ServedDocument.of(feed, compress=False)
        found.append(
            Document(f"http://127.0.0.1:8080{feed.path}", served.body, served.content_type)
        )
    return found


def parse_all(docs: list[Document]) -> tuple[list[ParsedFeed], float]:
    start = time.process_time()
    parsed = [parse_document(doc, doc.location, local=False) for doc in docs]
    return parsed, time.process_time() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1000)
    parser.add_argument("--items", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args(argv)
    docs = documents(args.feeds, args.items, args.seed)
    size = sum(len(doc.body) for doc in docs)
    with feed_module.feedparser_only():
        expected, feedparser_cpu = parse_all(docs)
    feed_module.READERS.clear()
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        profiler.enable()
    actual, fast_cpu = parse_all(docs)
    if profiler is not None:
        profiler.disable()
    readers = dict(feed_module.READERS)
    items = sum(len(feed.items) for feed in actual)
    differing = sum(a != e for a, e in zip(actual, expected, strict=True))
    print(f"{len(docs)} feeds, {items} items, {size / 1e6:.1f} MB")
    print(f"parse CPU, feedparser alone: {feedparser_cpu:.2f} s")
    print(f"parse CPU, as it runs:       {fast_cpu:.2f} s  (documents read by {readers})")
    print(f"feeds differing from feedparser's: {differing}")
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats("tottime").print_stats(args.profile)
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
