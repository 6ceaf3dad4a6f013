"""The cross-validation behind the default summarizer's parameters, for benchmarks/summaries.py.

    articles -> prepared once | every Tuning in GRID ranks every article
      | per fold: the Tuning best on the other folds, scored on this one

Every article of the evaluation set is one section without headings, so
its summary is the section's chosen sentences within the summary's share of
the words, in order, exactly what ``summarize_html(article, sentences=N)`` gives (checked by
:meth:`CrossValidation.check_default_path`); ranking the prepared section
directly lets one tokenization serve every parameter setting.  ROUGE is
computed once per distinct summary: most settings agree on most articles.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import product
from typing import Any

from aggregator.summarize import split_sections, summarize_html
from aggregator.summarize.document import SectionText, prepare
from aggregator.summarize.extractive import SHORT_ARTICLE_WORDS, SUMMARY_SHARE, allot
from aggregator.summarize.language import resolve_language
from aggregator.summarize.lexicon import lexicon_for
from aggregator.summarize.positional import DEFAULT_TUNING, Tuning, rank_positional
from aggregator.summarize.tokenizer import tokenizer_for

# Few parameters, each over a few values around the plain choice (no
# fragment rule: 0; no opener rule: 1.0).
GRID = tuple(
    Tuning(position_decay=decay, min_words=words, opener_weight=weight)
    for decay, words, weight in product((3.0, 4.0, 5.0, 6.0), (0, 4, 5, 6, 7, 8), (0.7,))
)
# The algorithm before the fragment and opener rules and the lead first.
BEFORE = Tuning(min_words=0, opener_weight=1.0)

Scores = tuple[float, float, float]


@dataclass(frozen=True)
class HeldOut:
    lead: Scores  # Lead-3 on the same held-out articles
    chosen: Scores  # positional with the parameters chosen on the other folds
    difference: float  # ROUGE-1, chosen minus Lead-3
    interval: tuple[float, float]  # its 95 % interval (articles resampled)
    choices: Counter[Tuning]


class CrossValidation:
    def __init__(self, scorer: Any, rows: Sequence[dict[str, str]], sentences: int) -> None:
        self._scorer = scorer
        self._rows = rows
        self._sentences = sentences
        self._sections = [_one_section(row["article"]) for row in rows]
        self._scores: dict[tuple[int, tuple[int, ...]], Scores] = {}

    def check_default_path(self) -> None:
        """Ranking the prepared sections here is what the product does."""
        for row, chosen in zip(self._rows, self._chosen(DEFAULT_TUNING, True), strict=True):
            summary = summarize_html(row["article"], sentences=self._sentences)
            expected = [s for section in summary.sections for s in section.sentences]
            if expected != chosen:
                raise SystemExit(f"cross-validation path differs from summarize_html: {row['id']}")

    def summaries(self, tuning: Tuning, lead: bool) -> list[list[str]]:
        return self._chosen(tuning, lead)

    def rows_to_compare(self) -> Iterator[tuple[str, Tuning, bool]]:
        yield "positional before", BEFORE, False
        yield "positional (default)", DEFAULT_TUNING, True

    def held_out(self, folds: int, repeats: int) -> HeldOut:
        table = {tuning: self._per_article(tuning) for tuning in GRID}
        lead = [self._score(k, tuple(range(min(3, len(s.sentences))))) for k, s in self._indexed()]
        chosen_rows: list[Scores] = []
        lead_rows: list[Scores] = []
        choices: Counter[Tuning] = Counter()
        for repeat in range(repeats):
            order = list(range(len(self._rows)))
            random.Random(repeat).shuffle(order)
            for fold in range(folds):
                test = order[fold::folds]
                train = [k for k in order if k not in set(test)]
                best = max(GRID, key=lambda t: sum(table[t][k][0] for k in train))
                choices[best] += 1
                chosen_rows += [table[best][k] for k in test]
                lead_rows += [lead[k] for k in test]
        differences = [c[0] - b[0] for c, b in zip(chosen_rows, lead_rows, strict=True)]
        # Each article is held out once per repeat: its repeats are not
        # independent, so the interval counts articles, not rows.
        spread = statistics.stdev(differences) / math.sqrt(len(differences) / repeats)
        mean = statistics.fmean(differences)
        return HeldOut(
            _mean(lead_rows),
            _mean(chosen_rows),
            mean,
            (mean - 1.96 * spread, mean + 1.96 * spread),
            choices,
        )

    def _indexed(self) -> Iterator[tuple[int, SectionText]]:
        return iter(enumerate(self._sections))

    def _picks(self, section: SectionText, tuning: Tuning, lead: bool) -> tuple[int, ...]:
        ranked = rank_positional(section, self._sentences, lead=lead, tuning=tuning)
        words = section.words
        allowance = words * SUMMARY_SHARE if words > SHORT_ARTICLE_WORDS else math.inf
        [kept] = allot([ranked], [section.word_counts], allowance)
        return tuple(sorted(kept))

    def _chosen(self, tuning: Tuning, lead: bool) -> list[list[str]]:
        return [
            [section.sentences[i] for i in self._picks(section, tuning, lead)]
            for section in self._sections
        ]

    def _per_article(self, tuning: Tuning) -> list[Scores]:
        return [self._score(k, self._picks(s, tuning, True)) for k, s in self._indexed()]

    def _score(self, k: int, picks: tuple[int, ...]) -> Scores:
        key = (k, picks)
        if key not in self._scores:
            summary = "\n".join(self._sections[k].sentences[i] for i in picks)
            result = self._scorer.score(self._rows[k]["reference"], summary)
            self._scores[key] = (
                100 * result["rouge1"].fmeasure,
                100 * result["rouge2"].fmeasure,
                100 * result["rougeLsum"].fmeasure,
            )
        return self._scores[key]


def word_share(articles: Sequence[str], summaries: Sequence[list[str]]) -> float:
    """The mean, over articles, of the summary's words over the article's."""
    shares = [
        len(" ".join(summary).split()) / max(len(article.split()), 1)
        for article, summary in zip(articles, summaries, strict=True)
    ]
    return statistics.fmean(shares) if shares else 0.0


def dangling_rate(articles: Sequence[str], summaries: Sequence[list[str]]) -> float:
    """Of all summary sentences, the share that open on a sentence the summary left out."""
    dangling = total = 0
    for article, summary in zip(articles, summaries, strict=True):
        section = _one_section(article)
        position = {sentence: i for i, sentence in enumerate(section.sentences)}
        kept = {position[s] for s in summary if s in position}
        opens = section.opens_on_context or (False,) * len(section.sentences)
        total += len(summary)
        dangling += sum(1 for i in kept if opens[i] and i - 1 not in kept)
    return dangling / total if total else 0.0


def _one_section(article: str) -> SectionText:
    language = resolve_language(None, article)
    sections = prepare(split_sections(article), tokenizer_for(language), lexicon_for(language))
    if len(sections) != 1:
        raise SystemExit("an evaluation article split into sections: expected one blob of text")
    return sections[0]


def _mean(rows: Sequence[Scores]) -> Scores:
    return (
        statistics.fmean(r[0] for r in rows),
        statistics.fmean(r[1] for r in rows),
        statistics.fmean(r[2] for r in rows),
    )
