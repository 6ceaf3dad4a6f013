"""Score and time every summary algorithm on the shared news evaluation set.

    read ../shared/eval/summaries-dev.jsonl  |  summarize each article (3 sentences)
      |  ROUGE-1/2/Lsum F1 against the human reference  |  articles per second

Usage::

    python benchmarks/summaries.py [--sentences 3] [--algorithms positional,lead,...]
                                   [--language en] [--long] [--jsonl]

Prints one row per algorithm: Lead-3 (``lead``), each sumy algorithm, and the
default (``positional``), with ROUGE as the evaluation set's README measures
it (the ``rouge-score`` package, Porter stemming, mean F1 x 100; for Lsum the
reference and the summary one sentence per line), the share of the article's
words the summary keeps, the rate of dangling openers (summary sentences that
open on a sentence left out: "However, ...", "He also said ..."), and the
articles summarized per second in this one process, by the wall clock and by
its own CPU time (the same on an idle machine; on a busy one the CPU rate is
what a core does).  Each article is one blob of text without headings, so it
is one section and the summary is
``summarize_html(article, sentences=3, algorithm=NAME)``.

Then the cross-validation that chose the default algorithm's parameters
(:class:`aggregator.summarize.positional.Tuning`): the articles are cut into
``--folds`` folds, ``--repeats`` times over in another order; for each fold
the parameters that score best on the other folds are chosen and scored on
it.  The held-out scores are the ones to believe; the score of the chosen
parameters on all articles is printed beside them, and is higher.

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

sys.path.insert(0, str(Path(__file__).resolve().parent))  # summary_tuning, beside this file

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
    parser.add_argument("--folds", type=int, default=5, help="cross-validation folds (0: none)")
    parser.add_argument("--repeats", type=int, default=4, help="cross-validation shuffles")
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
    print(
        f"{'algorithm':<32} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}"
        f" {'kept':>6} {'dangle':>6} {'art/s':>8} {'cpu':>8}"
    )
    for algorithm in algorithms:
        summarize = _summarizer(algorithm, args.sentences, args.language)
        summaries = [summarize(article) for article in articles]  # also warms every cache
        rate, cpu_rate = _rate(summarize, articles)
        scores = _rouge(scorer, references, summaries)
        label = "lead (Lead-3)" if algorithm == "lead" else algorithm
        if algorithm == DEFAULT_ALGORITHM:
            label += " (default)"
        shape = _shape(articles, summaries)
        print(f"{label:<32} {_cells(scores)} {shape} {rate:>8.0f} {cpu_rate:>8.0f}", flush=True)
    if args.folds:
        _cross_validate(scorer, rows, args.sentences, args.folds, args.repeats)
        _feed_lengths(articles)
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


def _shape(articles: Sequence[str], summaries: Sequence[list[str]]) -> str:
    """The mean share of an article's words its summary keeps, and the dangling-opener rate."""
    from summary_tuning import dangling_rate, word_share

    return f"{word_share(articles, summaries):>6.1%} {dangling_rate(articles, summaries):>6.1%}"


def _cross_validate(
    scorer: object, rows: Sequence[dict[str, str]], sentences: int, folds: int, repeats: int
) -> None:
    from summary_tuning import CrossValidation

    print(f"\ncross-validation of positional's parameters: {folds} folds x {repeats} orders")
    run = CrossValidation(scorer, rows, sentences)
    run.check_default_path()
    result = run.held_out(folds, repeats)
    lead = result.lead
    print(f"{'held-out folds':<32} {'ROUGE-1':>8} {'ROUGE-2':>8} {'ROUGE-L':>8}")
    print(f"{'lead (Lead-3)':<32} {_cells(lead)}")
    print(f"{'positional, chosen on the rest':<32} {_cells(result.chosen)}")
    low, high = result.interval
    interval = f"95% interval {low:+.2f} to {high:+.2f}"
    print(f"difference in ROUGE-1: {result.difference:+.2f} ({interval})")
    print("parameters chosen (times):")
    for tuning, times in result.choices.most_common(5):
        print(f"  {times:>3}  {tuning}")
    for label, tuning, lead_first in run.rows_to_compare():
        summaries = run.summaries(tuning, lead_first)
        scores = _rouge(scorer, [r["reference"] for r in rows], summaries)
        shape = _shape([r["article"] for r in rows], summaries)
        print(f"{label:<32} {_cells(scores)} {shape}  (all articles, not held out)")


def _feed_lengths(articles: Sequence[str]) -> None:
    """What a feed's reader sees: the default settings of summary: in feeds.yaml."""
    from aggregator.config import SummaryConfig
    from aggregator.summarize import summarize_html

    settings = SummaryConfig()
    summaries = []
    for article in articles:
        summary = summarize_html(
            article,
            sentences=settings.sentences,
            max_sentences=settings.max_sentences,
            words_per_sentence=settings.words_per_sentence,
        )
        summaries.append([s for section in summary.sections for s in section.sentences])
    print(
        f"\nwith feeds.yaml's default summary settings (sentences {settings.sentences}, "
        f"max_sentences {settings.max_sentences}): {_shape(articles, summaries)} "
        "(words kept, dangling openers)"
    )


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
