"""The default algorithm, ``positional``: dense, early, and never the same thing twice.

    rank(section, count) -> indices of the chosen sentences (in choice order)

Each round picks the sentence with the highest

    score(i) = density(i) * exp(-i / POSITION_DECAY)

- ``density(i)`` is SumBasic's measure: the mean, over all the words of
  sentence ``i`` (stop words count in the length, not in the sum), of the
  probability of each content word in the section.  Sentences made of the
  section's frequent terms score high; long sentences are not favoured for
  their length, and a summary of concise sentences says more per word.
- ``exp(-i / POSITION_DECAY)`` is the position prior: news puts its most
  important sentences first (the "inverted pyramid"), so a later sentence
  has to say more to win; unlike Lead-N, the first sentences are not taken
  whatever they say.
- Redundancy: once a sentence is chosen, its terms are worth nothing in later
  rounds (SumBasic squares their probability; zero is the same idea taken all
  the way), so the next pick has to bring new content.  On top of that, a
  sentence whose terms overlap a chosen one's by :data:`NEAR_DUPLICATE` or
  more (cosine over term sets) is never chosen while any other is left, which
  rules out picking a sentence and its rewording, as news often repeats its
  lead in a later paragraph or caption.

There are two parameters, and neither was tuned finely: measured on 100
CNN/DailyMail news articles (``benchmarks/summaries.py``), scores move by a
few tenths of a point over ``POSITION_DECAY`` from 3 to 6, and the same choice
wins on each half of the set and at 1 to 5 sentences.

Everything is numpy over one section's flat term arrays: the cost is linear
in the section's words times the sentences chosen, with no per-pair loops.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .document import SectionText

__all__ = ["NEAR_DUPLICATE", "POSITION_DECAY", "rank_lead", "rank_positional"]

# In sentences: the weight of the sentence at position i is exp(-i / 4), so it
# halves about every 2.8 sentences.  Smaller makes this Lead-N; larger lets
# density alone decide, which on news loses to Lead-N.
POSITION_DECAY = 4.0
# Cosine similarity of two sentences' term sets at which they say the same
# thing.  Rewordings of a lead share most terms (0.8 and up); two sentences on
# one subject share a few (0.3 to 0.5).
NEAR_DUPLICATE = 0.8


def rank_positional(section: SectionText, count: int) -> list[int]:
    """Up to ``count`` sentence indices, best first."""
    total = len(section.sentences)
    count = min(count, total)
    lengths = np.fromiter((len(t) for t in section.terms), dtype=np.intp, count=total)
    terms = np.fromiter((term for t in section.terms for term in t), dtype=np.intp)
    owner = np.repeat(np.arange(total), lengths)  # the sentence of each term occurrence
    words = np.maximum(np.asarray(section.word_counts, dtype=float), 1.0)
    prior = _prior(total)
    # Term ids are small integers (one vocabulary per item), so counting by
    # id needs no np.unique; most sections are a few sentences, where numpy's
    # cost per call, not per element, is what counts.
    probability = np.bincount(terms) / terms.size if terms.size else np.zeros(0)
    # Distinct terms per sentence, for the near-duplicate test.
    term_sets = [frozenset(t) for t in section.terms]
    distinct = np.fromiter((len(t) for t in term_sets), dtype=float, count=total)

    chosen: list[int] = []
    blocked = np.zeros(total, dtype=bool)
    available = np.ones(total, dtype=bool)
    while len(chosen) < count:
        density = np.bincount(owner, weights=probability[terms], minlength=total) / words
        score = density * prior
        candidates = available & ~blocked
        if not candidates.any():
            candidates = available  # only near-duplicates are left: take the best of them
        score[~candidates] = -np.inf
        best = int(np.argmax(score))
        chosen.append(best)
        available[best] = False
        mine = term_sets[best]
        if mine:
            probability[list(mine)] = 0.0
        shared = np.fromiter((len(mine & t) for t in term_sets), dtype=float, count=total)
        norm = np.sqrt(distinct * len(mine))
        with np.errstate(divide="ignore", invalid="ignore"):
            similar = np.where(norm > 0, shared / norm, 0.0) >= NEAR_DUPLICATE
        blocked |= similar
    return chosen


_PRIORS = np.exp(-np.arange(64) / POSITION_DECAY)


def _prior(total: int) -> npt.NDArray[np.float64]:
    """exp(-i / POSITION_DECAY) for i < total: the same values whatever ``total``."""
    if total <= _PRIORS.size:
        return _PRIORS[:total]
    return np.exp(-np.arange(total) / POSITION_DECAY)


def rank_lead(section: SectionText, count: int) -> list[int]:
    """The first ``count`` sentences: Lead-N, the baseline every news summarizer is held to."""
    return list(range(min(count, len(section.sentences))))
