"""Near-duplicate detection on a labelled corpus: pairwise precision, recall, time per item.

    generate a corpus (benchmarks/dedup_corpus.py)  |  items in date order
      |  merge_item into a fresh SQLite store (the real dedup path, no HTTP)
      |  clusters = items of the store  ->  pairwise precision and recall
      |  time per item: the last --measure items, with the store pre-filled

Usage::

    python benchmarks/dedup.py [--items 105000] [--measure 5000] [--days 30] [--seed 1]
                               [--outlets 300] [--lead earliest|complete] [--keep DIR]
                               [--profile default|hard]
    python benchmarks/dedup.py --items 6000 --days 7 --outlets 200 --seed 1,2,3,4
    python benchmarks/dedup.py --http [--items 7000] [--days 3] [--outlets 300]

Precision and recall are over pairs of items: a pair is predicted when both
items end up in one stored item (one published entry), true when the
generator made them copies of one story.  Every item counts, the pre-filled
ones too.  They are also given per edit kind (the generator's ``kind``, split
at "+"): a pair counts for every kind either of its items has, so "intro" is
every pair with a copy that got an added intro.  Several seeds (``--seed
1,2,3``) are run one after the other, each on a fresh store; their counts are
added up per kind, and each seed's overall scores are printed too.  The
``--profile`` picks the generator's weights of edits: ``hard`` is a held-out
mix with more edits at the start of the text.

The time per item is the wall time of ``merge_item`` (text features, index
look-up, decision and writes, one transaction per 100 items as the pipeline
does per source) over the last ``--measure`` items, when the
store already holds all the others.  HTML to plain text is done before, as
the pipeline does.

``--http`` measures the way a reader of the feed would: the corpus is
served as RSS feeds on 127.0.0.1, ``aggregate --once`` runs over them (fetch,
parse, dedup, summarize, publish), and each entry of the published
``feed.atom`` is one cluster: its own link and its ``rel="related"`` links.

The script exits 1 when precision < 0.995 or recall < 0.97 (over all seeds).
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import dedup_corpus

from aggregator.config import DedupConfig
from aggregator.dedup import merge
from aggregator.dedup.decide import MergeDecider
from aggregator.dedup.merge import Outcome, merge_item
from aggregator.models import ParsedItem
from aggregator.parse.normalize import plain_text
from aggregator.store.sqlite import SqliteStore

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


@dataclass
class KindCounts:
    """The pairs one kind of item takes part in: true ones and those found,
    predicted ones and those correct."""

    true: int = 0
    found: int = 0
    predicted: int = 0
    correct: int = 0

    def add(self, other: KindCounts) -> None:
        self.true += other.true
        self.found += other.found
        self.predicted += other.predicted
        self.correct += other.correct


def by_kind(items: Sequence[dedup_corpus.Item], ids: Sequence[int]) -> dict[str, KindCounts]:
    """Pairwise counts per kind of edit or negative: a pair counts for each
    kind either of its two items has."""
    counts: dict[str, KindCounts] = collections.defaultdict(KindCounts)
    by_story: dict[str, list[int]] = collections.defaultdict(list)
    by_item: dict[int, list[int]] = collections.defaultdict(list)
    for index, (item, item_id) in enumerate(zip(items, ids, strict=True)):
        by_story[item.story].append(index)
        by_item[item_id].append(index)

    def kinds(a: int, b: int) -> set[str]:
        return set(items[a].kind.split("+")) | set(items[b].kind.split("+"))

    for members in by_story.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                for kind in kinds(a, b):
                    counts[kind].true += 1
                    counts[kind].found += ids[a] == ids[b]
    for members in by_item.values():
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                for kind in kinds(a, b):
                    counts[kind].predicted += 1
                    counts[kind].correct += items[a].story == items[b].story
    return counts


def kind_table(counts: dict[str, KindCounts]) -> list[str]:
    """Recall and precision per kind, the kinds with the most true pairs first."""
    lines = [f"  {'kind':<26}{'true':>7}{'recall':>9}{'predicted':>11}{'precision':>11}"]
    for kind, c in sorted(counts.items(), key=lambda kc: (-kc[1].true, -kc[1].predicted, kc[0])):
        recall = f"{c.found / c.true:.4f}" if c.true else "-"
        precision = f"{c.correct / c.predicted:.4f}" if c.predicted else "-"
        lines.append(f"  {kind:<26}{c.true:>7}{recall:>9}{c.predicted:>11}{precision:>11}")
    return lines


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


class NearTimer:
    """CPU time spent in near-duplicate work proper: the text's features,
    the index look-ups (band hits, candidates) and decision, and the index write."""

    def __init__(self, store: SqliteStore):
        self.seconds = 0.0
        self.on = False
        self._features = merge.near.features
        self._near_match = MergeDecider._near_match
        merge.near.features = self._timed(self._features)  # type: ignore[method-assign]
        MergeDecider._near_match = self._timed(self._near_match)  # type: ignore[method-assign]
        for name in ("band_hits", "candidates", "_index_copy"):
            setattr(store, name, self._timed(getattr(store, name)))

    def _timed(self, function):  # type: ignore[no-untyped-def]
        def timed(*args, **kwargs):  # type: ignore[no-untyped-def]
            if not self.on:
                return function(*args, **kwargs)
            began = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds += time.process_time() - began

        return timed

    def close(self) -> None:
        merge.near.features = self._features  # type: ignore[method-assign]
        MergeDecider._near_match = self._near_match  # type: ignore[method-assign]


def run(
    items: Sequence[dedup_corpus.Item], store: SqliteStore, settings: DedupConfig, measure: int
) -> tuple[list[int], tuple[float, float, float], collections.Counter[str]]:
    """Merge every item in order: the item id of each, (wall, CPU, CPU of the
    near-duplicate work) seconds per measured item, and the outcomes."""
    prepared = [(item, parsed(item), plain_text(item.html)) for item in items]
    timer = NearTimer(store)
    ids: list[int] = []
    outcomes: collections.Counter[str] = collections.Counter()
    split = len(prepared) - measure
    wall = cpu = 0.0
    for start in range(0, len(prepared), BATCH):
        batch = prepared[start : start + BATCH]
        timer.on = start >= split
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
    timer.close()
    count = max(1, min(measure, len(prepared)))
    return ids, (wall / count, cpu / count, timer.seconds / count), outcomes


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


def serve_and_aggregate(
    corpus: dedup_corpus.Corpus, directory: Path, lead: str
) -> tuple[list[str], list[int], float]:
    """Labels and clusters of every item, as feed.atom shows them after one
    ``aggregate --once`` over the corpus served on 127.0.0.1; and its seconds."""
    import threading
    from email.utils import format_datetime
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from xml.sax.saxutils import escape

    import feedparser

    from aggregator.cli import main as aggregate

    bodies: dict[str, bytes] = {}
    for outlet in corpus.outlets:
        items = [i for i in corpus.items if i.source == outlet.name]
        entries = "".join(
            f"<item><title>{escape(i.title)}</title><link>{escape(i.link)}</link>"
            f'<guid isPermaLink="false">{escape(i.entry_id)}</guid>'
            f"<pubDate>{format_datetime(i.published, usegmt=True)}</pubDate>"
            f"<description>{escape(i.html)}</description></item>"
            for i in items
        )
        bodies["/" + outlet.name] = (
            f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(outlet.title)}</title><link>{outlet.site}/</link>"
            f"<description>news</description>{entries}</channel></rss>"
        ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = bodies.get(self.path)
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body or b"")))
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        port = server.server_address[1]
        lines = [
            "allow_private: true",
            f"store: {directory / 'http.db'}",
            "output:",
            f"  dir: {directory / 'out'}",
            f"  max_entries: {len(corpus.items) + 1000}",
            "dedup:",
            f"  lead: {lead}",
            "sources:",
        ]
        for name in sorted(bodies):
            lines += [
                f"  - name: {name[1:]}",
                f"    url: http://127.0.0.1:{port}{name}",
                "    section: News",
            ]
        config = directory / "feeds.yaml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        began = time.perf_counter()
        with open(directory / "aggregate.out", "w") as out, contextlib.redirect_stdout(out):
            code = aggregate(["--once", "-c", str(config)])
        seconds = time.perf_counter() - began
        if code != 0:
            raise SystemExit(f"aggregate --once exited {code}")
    finally:
        server.shutdown()
        server.server_close()
    feed = feedparser.parse((directory / "out" / "feed.atom").read_bytes())
    cluster_of: dict[str, int] = {}
    for number, entry in enumerate(feed.entries):
        for link in entry.links:
            if link.rel in ("alternate", "related"):
                cluster_of.setdefault(link.href, number)
    missing = sum(1 for i in corpus.items if i.link not in cluster_of)
    if missing:
        print(f"warning: {missing} items are not in feed.atom", file=sys.stderr)
    predicted = [cluster_of.get(i.link, -1 - n) for n, i in enumerate(corpus.items)]
    return [i.story for i in corpus.items], predicted, seconds


def corpus_for(
    items: int, days: float, outlets: int, seed: int, profile: str = "default"
) -> dedup_corpus.Corpus:
    """A corpus of about ``items`` items: stories are drawn until there are enough."""
    stories = max(10, round(items / 2.1))
    return dedup_corpus.generate(stories, outlets=outlets, days=days, seed=seed, profile=profile)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--items", type=int, default=105_000, help="corpus size (about)")
    parser.add_argument("--measure", type=int, default=5_000, help="items timed at the end")
    parser.add_argument("--days", type=float, default=30.0, help="days the corpus spans")
    parser.add_argument("--outlets", type=int, default=300, help="feeds")
    parser.add_argument(
        "--seed",
        type=lambda text: [int(part) for part in text.split(",")],
        default=[1],
        help="one seed, or several separated by commas",
    )
    parser.add_argument("--profile", choices=sorted(dedup_corpus.PROFILES), default="default")
    parser.add_argument("--lead", choices=["earliest", "complete"], default="earliest")
    parser.add_argument("--keep", type=Path, help="keep the database in this directory")
    parser.add_argument(
        "--http", action="store_true", help="through aggregate --once and feed.atom instead"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    settings = DedupConfig(lead=args.lead)
    if args.http:
        return http_main(args)
    totals: dict[str, KindCounts] = collections.defaultdict(KindCounts)
    overall = KindCounts()
    for seed in args.seed:
        counts = one_seed(args, seed, settings)
        for kind, c in counts.items():
            totals[kind].add(c)
        overall.add(counts["all"])
    if len(args.seed) > 1:
        print(f"\n== all {len(args.seed)} seeds ({args.profile} profile): per kind ==")
        print("\n".join(kind_table(totals)))
    precision = overall.correct / overall.predicted if overall.predicted else 1.0
    recall = overall.found / overall.true if overall.true else 1.0
    if len(args.seed) > 1:
        print(f"precision {precision:.4f}  recall {recall:.4f}  (all seeds)")
    return 0 if precision >= 0.995 and recall >= 0.97 else 1


def one_seed(args: argparse.Namespace, seed: int, settings: DedupConfig) -> dict[str, KindCounts]:
    """Merge one seed's corpus into a fresh store and print its scores; its
    counts per kind, and over all pairs under "all"."""
    began = time.perf_counter()
    corpus = corpus_for(args.items, args.days, args.outlets, seed, args.profile)
    items = corpus.by_time()
    print(
        f"== seed {seed}, {args.profile} profile ==\n"
        f"corpus: {len(items)} items, {corpus.groups()} duplicate groups, {args.outlets} feeds, "
        f"{args.days:g} days (generated in {time.perf_counter() - began:.1f} s)"
    )
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
    print(
        f"  of which near-duplicate work (features, index look-up, decision, index write): "
        f"{per_item[2] * 1000:.3f} ms CPU"
    )
    counts = by_kind(items, ids)
    print("per kind (a pair counts for each kind either item has):")
    print("\n".join(kind_table(counts)))
    print("\n".join(report_errors(items, ids)))
    counts["all"] = KindCounts(
        scores.true_pairs, scores.correct_pairs, scores.predicted_pairs, scores.correct_pairs
    )
    return counts


def http_main(args: argparse.Namespace) -> int:
    """``--http``: the first seed's corpus through ``aggregate --once`` and feed.atom."""
    corpus = corpus_for(args.items, args.days, args.outlets, args.seed[0], args.profile)
    print(f"corpus: {len(corpus.items)} items, {corpus.groups()} duplicate groups")
    with tempfile.TemporaryDirectory() as scratch:
        directory = args.keep or Path(scratch)
        directory.mkdir(parents=True, exist_ok=True)
        truth, predicted, seconds = serve_and_aggregate(corpus, directory, args.lead)
    scores = pairwise(truth, predicted)
    print(f"aggregate --once over {args.outlets} feeds: {seconds:.1f} s")
    print(
        f"pairs: {scores.true_pairs} true, {scores.predicted_pairs} predicted, "
        f"{scores.correct_pairs} correct"
    )
    print(f"precision {scores.precision:.4f}  recall {scores.recall:.4f}  (from feed.atom)")
    return 0 if scores.precision >= 0.995 and scores.recall >= 0.97 else 1


if __name__ == "__main__":
    raise SystemExit(main())
