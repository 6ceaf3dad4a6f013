"""Near-duplicate detection on a labelled corpus: pairwise precision, recall, time per item.

    generate a corpus (benchmarks/dedup_corpus.py)  |  items in date order
      |  merge_item into a fresh SQLite store (the real dedup path, no HTTP)
      |  clusters = items of the store  ->  pairwise precision and recall
      |  time per item: the last --measure items, with the store pre-filled

Usage::

    python benchmarks/dedup.py [--items 105000] [--measure 5000] [--days 30] [--seed 1]
                               [--outlets 300] [--lead earliest|complete] [--keep DIR]

Precision and recall are over pairs of items: a pair is predicted when both
items end up in one stored item (one published entry), true when the
generator made them copies of one story.  Every item counts, the pre-filled
ones too.  The time per item is the wall time of ``merge_item`` (text
features, index look-up, decision and writes, one transaction per 100 items
as the pipeline does per source) over the last ``--measure`` items, when the
store already holds all the others.  HTML to plain text is done before, as
the pipeline does.

The script exits 1 when precision < 0.99 or recall < 0.95.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dedup_corpus  # noqa: E402

from aggregator.config import DedupConfig  # noqa: E402
from aggregator.dedup.exact import Outcome  # noqa: E402
from aggregator.dedup.merge import merge_item  # noqa: E402
from aggregator.models import ParsedItem  # noqa: E402
from aggregator.parse.normalize import plain_text  # noqa: E402
from aggregator.store.sqlite import SqliteStore  # noqa: E402

BATCH = 100  # items per transaction


@dataclass
class Scores:
    precision: float
    recall: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int


def pairwise(truth: Sequence[str], predicted: Sequence[int]) -> Scores:
    """Pairwise precision and recall of a clustering against labels."""

    def pairs(counts: Iterable[int]) -> int:
        return sum(n * (n - 1) // 2 for n in counts)

    true_pairs = pairs(collections.Counter(truth).values())
    predicted_pairs = pairs(collections.Counter(predicted).values())
    correct = pairs(collections.Counter(zip(truth, predicted, strict=True)).values())
    return Scores(
        precision=correct / predicted_pairs if predicted_pairs else 1.0,
        recall=correct / true_pairs if true_pairs else 1.0,
        true_pairs=true_pairs,
        predicted_pairs=predicted_pairs,
        correct_pairs=correct,
    )


def parsed(item: dedup_corpus.Item) -> ParsedItem:
    return ParsedItem(
        entry_id=item.entry_id,
        title=item.title,
        link=item.link,
        published=item.published,
        updated=None,
        content_html=item.html,
        author=item.author or None,
    )


def run(
    items: Sequence[dedup_corpus.Item], store: SqliteStore, settings: DedupConfig, measure: int
) -> tuple[list[int], tuple[float, float], collections.Counter[str]]:
    """Merge every item in order: the item id of each, (wall, CPU) seconds per
    measured item, and the outcomes."""
    prepared = [(item, parsed(item), plain_text(item.html)) for item in items]
    ids: list[int] = []
    outcomes: collections.Counter[str] = collections.Counter()
    split = len(prepared) - measure
    wall = cpu = 0.0
    for start in range(0, len(prepared), BATCH):
        batch = prepared[start : start + BATCH]
        began, began_cpu = time.perf_counter(), time.process_time()
        with store.transaction():
            for item, entry, text in batch:
                when = item.published + timedelta(minutes=5)
                outcome, item_id = merge_item(
                    store, item.source, "News", entry, text, when, settings
                )
                ids.append(item_id)
                outcomes[outcome] += 1
        if start >= split:
            wall += time.perf_counter() - began
            cpu += time.process_time() - began_cpu
        if start // BATCH % 100 == 0:
            print(f"  {start + len(batch):>7} items merged", file=sys.stderr, flush=True)
    count = max(1, min(measure, len(prepared)))
    return ids, (wall / count, cpu / count), outcomes


def report_errors(
    items: Sequence[dedup_corpus.Item], ids: Sequence[int], limit: int = 8
) -> list[str]:
    """Which kinds of copies are missed and which negatives are merged, most common first."""
    by_story: dict[str, list[int]] = collections.defaultdict(list)
    by_item: dict[int, list[int]] = collections.defaultdict(list)
    for index, (item, item_id) in enumerate(zip(items, ids, strict=True)):
        by_story[item.story].append(index)
        by_item[item_id].append(index)
    missed: collections.Counter[str] = collections.Counter()
    merged: collections.Counter[str] = collections.Counter()
    for members in by_story.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if ids[a] != ids[b]:
                    missed[" / ".join(sorted((items[a].kind, items[b].kind)))] += 1
    for members in by_item.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if items[a].story != items[b].story:
                    merged[" / ".join(sorted((items[a].kind, items[b].kind)))] += 1
    lines = ["pairs missed (kinds):"]
    lines += [f"  {n:>5}  {kinds}" for kinds, n in missed.most_common(limit)] or ["  none"]
    lines += ["pairs wrongly merged (kinds):"]
    lines += [f"  {n:>5}  {kinds}" for kinds, n in merged.most_common(limit)] or ["  none"]
    return lines


def corpus_for(items: int, days: float, outlets: int, seed: int) -> dedup_corpus.Corpus:
    """A corpus of about ``items`` items: stories are drawn until there are enough."""
    stories = max(10, round(items / 2.1))
    corpus = dedup_corpus.generate(stories, outlets=outlets, days=days, seed=seed)
    return corpus


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--items", type=int, default=105_000, help="corpus size (about)")
    parser.add_argument("--measure", type=int, default=5_000, help="items timed at the end")
    parser.add_argument("--days", type=float, default=30.0, help="days the corpus spans")
    parser.add_argument("--outlets", type=int, default=300, help="feeds")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--lead", choices=["earliest", "complete"], default="earliest")
    parser.add_argument("--keep", type=Path, help="keep the database in this directory")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    began = time.perf_counter()
    corpus = corpus_for(args.items, args.days, args.outlets, args.seed)
    items = corpus.by_time()
    print(
        f"corpus: {len(items)} items, {corpus.groups()} duplicate groups, {args.outlets} feeds, "
        f"{args.days:g} days (generated in {time.perf_counter() - began:.1f} s)"
    )
    settings = DedupConfig(lead=args.lead)
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / "dedup-benchmark.db"
        path.unlink(missing_ok=True)
        store = SqliteStore(path)
        try:
            began = time.perf_counter()
            ids, per_item, outcomes = run(items, store, settings, args.measure)
            total = time.perf_counter() - began
        finally:
            store.close()
        size = path.stat().st_size
    scores = pairwise([item.story for item in items], ids)
    measured = min(args.measure, len(items))
    print(
        f"merged: {outcomes[Outcome.NEW]} new, {outcomes[Outcome.MERGED]} merged, "
        f"{outcomes[Outcome.UPDATED]} updated in {total:.1f} s; database {size / 1e6:.0f} MB"
    )
    print(
        f"pairs: {scores.true_pairs} true, {scores.predicted_pairs} predicted, "
        f"{scores.correct_pairs} correct"
    )
    print(f"precision {scores.precision:.4f}  recall {scores.recall:.4f}")
    print(
        f"time per item: {per_item[0] * 1000:.3f} ms wall, {per_item[1] * 1000:.3f} ms CPU "
        f"(last {measured} items, store pre-filled with {len(items) - measured} items)"
    )
    print("\n".join(report_errors(items, ids)))
    return 0 if scores.precision >= 0.99 and scores.recall >= 0.95 else 1


if __name__ == "__main__":
    raise SystemExit(main())
