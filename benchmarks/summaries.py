"""Score and time every summary algorithm on the shared news evaluation set.

    read ../shared/eval/summaries-dev.jsonl  |  summarize each article (3 sentences)
      |  ROUGE-1/2/Lsum F1 against the human reference  |  articles per second

Usage::

    python benchmarks/summaries.py [--sentences 3] [--algorithms positional,lead,...]
                                   [--language en] [--long] [--jsonl]

Prints one row per algorithm: Lead-3 (``lead``), each sumy algorithm, and the
default (``positional``), with ROUGE as the evaluation set's README measures
it (the ``rouge-score`` package, Porter stemming, mean F1 x 100; for Lsum the
reference and the summary one sentence per line) and the articles summarized
per second in this one process, by the wall clock and by its own CPU time
(the same on an idle machine; on a busy one the CPU rate is what a core
does).  Each article is one blob of text without
headings, so it is one section and the summary is
``summarize_html(article, sentences=3, algorithm=NAME)``.

``--long`` times long articles instead (no ROUGE): eval articles joined in
memory, as paragraphs, and cut to 1,900 words each.  ``--jsonl`` adds a
row for ``aggregate summarize --jsonl`` run as a subprocess on the whole set,
which is what a user of the command gets (all cores).

The data set lives beside the repository (``../shared/eval``) and is never
copied into it.  Without it the script says so and exits 0.  ROUGE needs the
``test`` extra: ``pip install '.[test]'``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

EVAL_DIR = Path(__file__).resolve().parents[2] / "shared" / "eval"
EVAL_FILE = "summaries-dev.jsonl"
LONG_WORDS = 1900
# Each algorithm is timed over repeated passes until this many seconds have
# gone by (at least one pass), so fast ones are not measured on 0.1 s.
MIN_SECONDS = 1.0


def main(argv: Sequence[str] | None = None) -> int:
    from aggregator.summarize import ALGORITHMS, DEFAULT_ALGORITHM

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sentences", type=int, default=3)
    parser.add_argument(
        "--algorithms",
        default="lead,"
        + ",".join(a for a in ALGORITHMS if a not in ("lead", DEFAULT_ALGORITHM))
        + f",{DEFAULT_ALGORITHM}",
        help="comma-separated algorithm names (default: all, Lead-3 first, the default last)",
    )
    parser.add_argument(
        "--language", default=None, help="language to pass (default: none, detect per article)"
    )
    parser.add_argument("--long", action="store_true", help="time ~1,900-word articles, no ROUGE")
    parser.add_argument(
        "--jsonl", action="store_true", help="also score `aggregate summarize --jsonl`"
    )
    parser.add_argument("--eval-dir", type=Path, default=EVAL_DIR, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    path = args.eval_dir / EVAL_FILE
    if not path.is_file():
        print(f"no evaluation set at {path}: nothing to measure (skipped)")
        return 0
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    algorithms = [a.strip() for a in args.algorithms.split(",") if a.strip()]
    if args.long:
        return _long(rows, algorithms, args.sentences, args.language)
    try:
        from rouge_score import rouge_scorer
    except ImportError:
        print("ROUGE needs the rouge-score package: pip install '.[test]'", file=sys.stderr)
        return 2
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    references = [row["reference"] for row in rows]
    articles = [row["article"] for row in rows]

    print(f"{len(rows)} articles, {args.sentences} sentences each, language={args.language}")
    print(f"{'algorithm':<32} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8} {'art/s':>8} {'cpu':>8}")
    for algorithm in algorithms:
        summarize = _summarizer(algorithm, args.sentences, args.language)
        summaries = [summarize(article) for article in articles]  # also warms every cache
        rate, cpu_rate = _rate(summarize, articles)
        scores = _rouge(scorer, references, summaries)
        label = "lead (Lead-3)" if algorithm == "lead" else algorithm
        if algorithm == DEFAULT_ALGORITHM:
            label += " (default)"
        print(f"{label:<32} {_cells(scores)} {rate:>8.0f} {cpu_rate:>8.0f}", flush=True)
    if args.jsonl:
        start = time.perf_counter()
        summaries = _run_jsonl(articles, args.sentences, args.language)
        rate = len(articles) / (time.perf_counter() - start)
        scores = _rouge(scorer, references, summaries)
        print(f"{'aggregate summarize --jsonl':<32} {_cells(scores)} {rate:>8.0f}")
    return 0


def _summarizer(algorithm: str, sentences: int, language: str | None) -> Callable[[str], list[str]]:
    from aggregator.summarize import summarize_html

    def summarize(text: str) -> list[str]:
        summary = summarize_html(text, sentences=sentences, algorithm=algorithm, language=language)
        return [s for section in summary.sections for s in section.sentences]

    return summarize


def _rate(summarize: Callable[[str], list[str]], texts: Sequence[str]) -> tuple[float, float]:
    """Texts per second of wall-clock time and of this process's CPU time,
    over whole passes, for at least MIN_SECONDS.  On a busy machine the CPU
    rate is the one that says what one core does."""
    done = 0
    start, start_cpu = time.perf_counter(), time.process_time()
    while True:
        for text in texts:
            summarize(text)
        done += len(texts)
        elapsed = time.perf_counter() - start
        if elapsed >= MIN_SECONDS:
            cpu = time.process_time() - start_cpu
            return done / elapsed, done / max(cpu, 1e-9)


def _rouge(
    scorer: object, references: Sequence[str], summaries: Sequence[list[str]]
) -> tuple[float, float, float]:
    totals = [0.0, 0.0, 0.0]
    for reference, summary in zip(references, summaries, strict=True):
        scores = scorer.score(reference, "\n".join(summary))  # type: ignore[attr-defined]
        for i, key in enumerate(("rouge1", "rouge2", "rougeLsum")):
            totals[i] += scores[key].fmeasure
    n = len(references)
    return (100 * totals[0] / n, 100 * totals[1] / n, 100 * totals[2] / n)


def _cells(scores: tuple[float, float, float]) -> str:
    return " ".join(f"{value:>8.2f}" for value in scores)


def _long_articles(rows: Sequence[dict[str, str]], count: int) -> list[str]:
    """``count`` articles of LONG_WORDS words: eval articles joined as paragraphs,
    the last one cut short at a word boundary."""
    articles: list[str] = []
    parts: list[str] = []
    words = 0
    index = 0
    while len(articles) < count:
        article = rows[index % len(rows)]["article"].split()
        index += 1
        take = article[: LONG_WORDS - words]
        parts.append(" ".join(take))
        words += len(take)
        if words >= LONG_WORDS:
            articles.append("\n\n".join(parts))
            parts, words = [], 0
    return articles


def _long(
    rows: Sequence[dict[str, str]], algorithms: Sequence[str], sentences: int, language: str | None
) -> int:
    articles = _long_articles(rows, 50)
    mean_words = sum(len(a.split()) for a in articles) / len(articles)
    print(
        f"{len(articles)} long articles of {mean_words:.0f} words on average, "
        f"{sentences} sentences each, language={language}, one process"
    )
    print(f"{'algorithm':<32} {'art/s':>8} {'cpu':>8}")
    for algorithm in algorithms:
        summarize = _summarizer(algorithm, sentences, language)
        for article in articles[:3]:
            summarize(article)  # warm-up: models, stop lists, the stem cache
        rate, cpu_rate = _rate(summarize, articles)
        print(f"{algorithm:<32} {rate:>8.0f} {cpu_rate:>8.0f}", flush=True)
    return 0


def _run_jsonl(articles: Sequence[str], sentences: int, language: str | None) -> list[list[str]]:
    command = [str(Path(sys.executable).with_name("aggregate")), "summarize", "--jsonl"]
    command += ["--sentences", str(sentences)]
    if language:
        command += ["--language", language]
    lines = "".join(
        json.dumps({"id": i, "text": text}, ensure_ascii=False) + "\n"
        for i, text in enumerate(articles)
    )
    done = subprocess.run(
        command, input=lines, capture_output=True, text=True, check=True, env=os.environ
    )
    out = {}
    for line in done.stdout.splitlines():
        record = json.loads(line)
        out[record["id"]] = record["summary"]
    return [out[i] for i in range(len(articles))]


if __name__ == "__main__":
    raise SystemExit(main())
