"""Time sentence splitting: Punkt on every paragraph against the tokenizer's shortcut.

    python benchmarks/sentences.py [--language en] [--repeat 5]
                                   [--generated] [--feeds 40] [--items 30] [--seed 1]

``PunktTokenizer.to_sentences`` (the shortcut) and ``_punkt_sentences`` (Punkt
places every break, as before the shortcut) run over the same paragraphs;
the script prints paragraphs/s and MB/s for both, the speedup, and how many
paragraphs came out differently, which must be 0: the script exits 1
otherwise.

The paragraphs: the articles of ``../shared/eval/summaries-dev.jsonl`` (one
paragraph a line; see its README), and the prose of
``benchmarks/pipeline.py``'s feed generator (descriptions and article bodies
cut into paragraphs as the summarizer does).  The evaluation set is not in
the repository: without it, only the generated corpus runs.  ``--generated``
skips the evaluation set even when present.

The shortcut memoizes what it learns about words and contexts, so its first
pass over a corpus (a fresh tokenizer: "cold") is slower than later ones
("warm"), the steady state of a long-running aggregator.  The speedup is
given for both; Punkt keeps nothing between paragraphs, so it has one figure.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import pipeline as pipeline_benchmark  # benchmarks/pipeline.py, beside this script

from aggregator.summarize.sections import split_sections
from aggregator.summarize.tokenizer import PunktTokenizer

REPO = Path(__file__).resolve().parent.parent
EVAL = REPO.parent / "shared" / "eval" / "summaries-dev.jsonl"

Split = Callable[[str], tuple[str, ...]]


def eval_paragraphs(path: Path = EVAL) -> list[str]:
    """The evaluation articles' paragraphs (non-blank lines), or [] without the file."""
    if not path.is_file():
        return []
    paragraphs: list[str] = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            article = json.loads(line)["article"]
            paragraphs.extend(p for p in article.splitlines() if p.strip())
    return paragraphs


def generated_paragraphs(feeds: int, items: int, seed: int) -> list[str]:
    """Paragraphs of the pipeline benchmark's generated stories, as sections give them."""
    corpus = pipeline_benchmark.generate(feeds, items, seed)
    paragraphs: list[str] = []
    for feed in corpus.feeds:
        for story in feed.stories:
            for text in (story.description, story.content_html):
                for section in split_sections(text or ""):
                    paragraphs.extend(section.paragraphs)
    return paragraphs


def _seconds(split: Split, paragraphs: Sequence[str]) -> float:
    started = time.perf_counter()
    for paragraph in paragraphs:
        split(paragraph)
    return time.perf_counter() - started


def measure(name: str, paragraphs: Sequence[str], language: str, repeat: int) -> int:
    """Print one corpus's figures; return its number of differing paragraphs."""
    size = sum(len(p.encode("utf-8")) for p in paragraphs)
    reference = PunktTokenizer(language)
    punkt_best = min(_seconds(reference._punkt_sentences, paragraphs) for _ in range(repeat))

    # A fresh tokenizer for every cold pass: its memos start empty.
    cold = min(_seconds(PunktTokenizer(language).to_sentences, paragraphs) for _ in range(repeat))
    tokenizer = PunktTokenizer(language)
    warm = min(_seconds(tokenizer.to_sentences, paragraphs) for _ in range(repeat + 1))

    differences = sum(
        tokenizer.to_sentences(p) != reference._punkt_sentences(p) for p in paragraphs
    )

    print(f"{name}: {len(paragraphs):,} paragraphs, {size / 1e6:.2f} MB, language {language!r}")
    for label, seconds in (("punkt", punkt_best), ("cold", cold), ("warm", warm)):
        rate = len(paragraphs) / seconds
        print(
            f"  {label:>5}  {seconds * 1e3:8.1f} ms  {rate:10,.0f} paragraphs/s"
            f"  {size / seconds / 1e6:6.2f} MB/s"
        )
    print(f"  speedup: {punkt_best / cold:.2f}x cold, {punkt_best / warm:.2f}x warm")
    print(f"  differences: {differences}")
    return differences


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--language", default="en", help="a feed language code or name")
    parser.add_argument("--repeat", type=int, default=5, help="timed passes; the best counts")
    parser.add_argument("--generated", action="store_true", help="skip the evaluation set")
    parser.add_argument("--feeds", type=int, default=40, help="generated feeds")
    parser.add_argument("--items", type=int, default=30, help="items per generated feed")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    corpora: list[tuple[str, list[str]]] = []
    evaluation = [] if args.generated else eval_paragraphs()
    if evaluation:
        corpora.append((f"evaluation set ({EVAL.name})", evaluation))
    elif not args.generated:
        print(f"no evaluation set at {EVAL}: generated corpus only")
    corpora.append(
        (
            f"generated ({args.feeds} feeds x {args.items} items, seed {args.seed})",
            generated_paragraphs(args.feeds, args.items, args.seed),
        )
    )

    differences = sum(
        measure(name, paragraphs, args.language, max(1, args.repeat))
        for name, paragraphs in corpora
    )
    return 1 if differences else 0


if __name__ == "__main__":
    sys.exit(main())
