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
- Fragments (fewer than :data:`MIN_WORDS` words) are taken only when nothing
  else is left, and a sentence that opens on the one before ("However",
  "He", "This") weighs :data:`OPENER_WEIGHT` until that one is chosen: a
  key sentence has to make sense on its own.
- With ``lead``, the first sentence is chosen first, whatever it scores.
- Redundancy: once a sentence is chosen, its terms are worth nothing in later
  rounds (SumBasic squares their probability; zero is the same idea taken all
  the way), so the next pick has to bring new content.  On top of that, a
  sentence whose terms overlap a chosen one's by :data:`NEAR_DUPLICATE` or
  more (cosine over term sets) is never chosen while any other is left, which
  rules out picking a sentence and its rewording, as news often repeats its
  lead in a later paragraph or caption.

There are three parameters (:class:`Tuning`).  ``POSITION_DECAY`` and
``MIN_WORDS`` were chosen by cross-validation on 100 CNN/DailyMail news
articles (``benchmarks/summaries.py``: 5 folds, 4 orders; the pair chosen
here was the one chosen on 12 of the 20 folds' complements, and scores move
by a few tenths of a point over a decay from 3 to 6).  ``OPENER_WEIGHT`` is
set by what it is for, fewer dangling openers (1.7 % of summary sentences
on that set before, 0.7 % with it), at no cost in held-out ROUGE.

The cost is linear in the section's words times the sentences chosen, with
no per-pair loops.  Two implementations make the same choices, bit for bit:
numpy over the section's flat term arrays for long sections, and plain Python
for the short ones most sections are, where numpy's cost per call (a dozen
calls a round) outweighs its speed per element.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from itertools import chain

import numpy as np
import numpy.typing as npt

from .document import SectionText

__all__ = [
    "DEFAULT_TUNING",
    "MIN_WORDS",
    "NEAR_DUPLICATE",
    "OPENER_WEIGHT",
    "POSITION_DECAY",
    "Tuning",
    "rank_lead",
    "rank_positional",
]

# In sentences: the weight of the sentence at position i is exp(-i / 4), so it
# halves about every 2.8 sentences.  Smaller makes this Lead-N; larger lets
# density alone decide, which on news loses to Lead-N.
POSITION_DECAY = 4.0
# Cosine similarity of two sentences' term sets at which they say the same
# thing.  Rewordings of a lead share most terms (0.8 and up); two sentences on
# one subject share a few (0.3 to 0.5).
NEAR_DUPLICATE = 0.8
# A sentence of fewer words is a fragment ("He was 88.", "Sounds simple,
# right?", "B.B." cut off by the sentence splitter): made of the article's
# frequent terms, its density is high, but it says little out of context.
# It is taken only when nothing else is left, as a near-duplicate is.
# Chosen by cross-validation (benchmarks/summaries.py): on 15 of 20 folds 6
# was best on the other folds, against 0, 4, 5, 7 and 8.
MIN_WORDS = 6
# The weight of a sentence that opens on the one before ("However, ...", "He
# also said ...") while that one is not in the summary: it has to say more
# to be chosen without its context.  Once the sentence before is chosen the
# weight is 1 again.  Not 0: a summary of an article made of such sentences
# must still say something.
OPENER_WEIGHT = 0.7


@dataclass(frozen=True, slots=True)
class Tuning:
    """The algorithm's three parameters; the defaults are the chosen ones.

    Passed in by ``benchmarks/summaries.py --cv`` only, to choose them.
    """

    position_decay: float = POSITION_DECAY
    min_words: int = MIN_WORDS
    opener_weight: float = OPENER_WEIGHT


DEFAULT_TUNING = Tuning()


# Sections with fewer term occurrences than this are ranked in plain Python.
# Both implementations grow with the terms (the numpy one builds its arrays
# from tuples), but numpy also pays about a dozen calls a round.  Measured on
# benchmark sections, merged into longer ones for the long end: Python is
# 2-2.4x faster at 100-200 terms and 1.3-1.5x at 450; at about 1000 numpy
# catches up from 4 picks on, and beyond it leads.  No section of the
# 1000-feed benchmark corpus (307 terms at most) or of the CNN/DailyMail dev
# articles (509) reaches the threshold.
PYTHON_MAX_TERMS = 1000
# A sentence sharing fewer than this fraction of a chosen sentence's distinct
# terms cannot be its near-duplicate: the cosine is at most
# sqrt(shared / len(mine)) (shared <= its own distinct terms), here under
# 0.76, far enough below NEAR_DUPLICATE that no rounding reaches it.  The
# exact test, and the set it needs, are skipped for these.
_NEAR_DUPLICATE_SHARE = 0.9 * NEAR_DUPLICATE**2


def rank_positional(
    section: SectionText, count: int, *, lead: bool = False, tuning: Tuning = DEFAULT_TUNING
) -> list[int]:
    """Up to ``count`` sentence indices, best first; with ``lead``, the first sentence first."""
    if sum(map(len, section.terms)) < PYTHON_MAX_TERMS:
        return _rank_python(section, count, lead=lead, tuning=tuning)
    return _rank_numpy(section, count, lead=lead, tuning=tuning)


def _rank_numpy(
    section: SectionText, count: int, *, lead: bool = False, tuning: Tuning = DEFAULT_TUNING
) -> list[int]:
    """:func:`rank_positional` over numpy arrays: for long sections."""
    total = len(section.sentences)
    count = min(count, total)
    lengths = np.fromiter((len(t) for t in section.terms), dtype=np.intp, count=total)
    terms = np.fromiter((term for t in section.terms for term in t), dtype=np.intp)
    owner = np.repeat(np.arange(total), lengths)  # the sentence of each term occurrence
    word_counts = np.asarray(section.word_counts, dtype=float)
    words = np.maximum(word_counts, 1.0)
    prior = _prior(total, tuning.position_decay)
    opens = np.asarray(_opens(section), dtype=bool)
    weight = prior * np.where(opens, tuning.opener_weight, 1.0)
    # Term ids are small integers (one vocabulary per item), so counting by
    # id needs no np.unique; most sections are a few sentences, where numpy's
    # cost per call, not per element, is what counts.
    probability = np.bincount(terms) / terms.size if terms.size else np.zeros(0)
    # Distinct terms per sentence, for the near-duplicate test.
    term_sets = [frozenset(t) for t in section.terms]
    distinct = np.fromiter((len(t) for t in term_sets), dtype=float, count=total)

    chosen: list[int] = []
    blocked = word_counts < tuning.min_words  # fragments, and later near-duplicates
    available = np.ones(total, dtype=bool)
    while len(chosen) < count:
        if lead and not chosen:
            best = 0
        else:
            density = np.bincount(owner, weights=probability[terms], minlength=total) / words
            score = density * weight
            candidates = available & ~blocked
            if not candidates.any():
                candidates = available  # only the blocked are left: take the best of them
            score[~candidates] = -np.inf
            best = int(np.argmax(score))
        chosen.append(best)
        available[best] = False
        if best + 1 < total:
            weight[best + 1] = prior[best + 1]  # what it leans on is in the summary
        mine = term_sets[best]
        if mine:
            probability[list(mine)] = 0.0
        shared = np.fromiter((len(mine & t) for t in term_sets), dtype=float, count=total)
        norm = np.sqrt(distinct * len(mine))
        with np.errstate(divide="ignore", invalid="ignore"):
            similar = np.where(norm > 0, shared / norm, 0.0) >= NEAR_DUPLICATE
        blocked |= similar
    return chosen


def _rank_python(
    section: SectionText, count: int, *, lead: bool = False, tuning: Tuning = DEFAULT_TUNING
) -> list[int]:
    """:func:`rank_positional` in plain Python, for short sections.

    Every float that decides a choice is computed by the same operations, in
    the same order, as in :func:`_rank_numpy`, so both return the same
    indices, ties included: probability = count / terms (int / int is
    correctly rounded, as numpy's float64 division); a sentence's weight adds
    its terms' probabilities left to right from 0.0 (as ``np.bincount`` with
    weights does); score = weight / max(words, 1.0) * (prior * opener
    weight), the priors being :func:`_prior`'s values; cosine = shared /
    sqrt(distinct * len(mine)) (math.sqrt and np.sqrt are both correctly
    rounded, the product of two small integers exact either way); the first
    best wins, as in argmax.

    What it leaves out cannot change a choice: a sentence sharing no term
    with the one just chosen keeps its score (none of its probabilities
    changed, unless it is the next one and opens on it) and cannot be
    blocked (its cosine is 0); chosen sentences are never scored again; and
    the near-duplicate test is skipped where it cannot pass
    (:data:`_NEAR_DUPLICATE_SHARE`) or changes nothing (already blocked).
    """
    terms = section.terms
    total = len(section.sentences)
    count = min(count, total)
    if count <= 0:
        return []
    occurrences = Counter(chain.from_iterable(terms))
    size = sum(occurrences.values())
    probability = {term: n / size for term, n in occurrences.items()}
    words = [float(n) if n > 1 else 1.0 for n in section.word_counts]
    decay = tuning.position_decay
    if total <= len(_PRIOR_VALUES) and decay == POSITION_DECAY:
        prior = _PRIOR_VALUES
    else:
        prior = _prior(total, decay).tolist()
    opener_weight = tuning.opener_weight
    opens = _opens(section)
    weight = [p * opener_weight if o else p * 1.0 for p, o in zip(prior, opens, strict=False)]
    scores = [
        _weight(sentence, probability) / n * w
        # strict=False: the 64 priors kept ready outnumber most sections' sentences.
        for sentence, n, w in zip(terms, words, weight, strict=False)
    ]
    # Scores are never negative (nor NaN): -inf marks a chosen sentence, as
    # numpy's ranking marks every non-candidate.
    blocked = [n < tuning.min_words for n in section.word_counts]
    chosen: list[int] = []
    while len(chosen) < count:
        if lead and not chosen:
            best = 0
        else:
            best, top = -1, -math.inf
            for i, score in enumerate(scores):
                if score > top and not blocked[i]:
                    best, top = i, score
            if best < 0:
                # Only the blocked are left: take the best of them.
                best = scores.index(max(scores))
        chosen.append(best)
        if len(chosen) == count:
            break
        scores[best] = -math.inf
        mine = frozenset(terms[best])
        for term in mine:
            probability[term] = 0.0
        following = best + 1
        if following < total and scores[following] != -math.inf:
            weight[following] = prior[following]  # what it leans on is in the summary
            scores[following] = (
                _weight(terms[following], probability) / words[following] * (weight[following])
            )
        least = _NEAR_DUPLICATE_SHARE * len(mine)
        for i, sentence in enumerate(terms):
            shared = mine.intersection(sentence)
            if not shared or scores[i] == -math.inf:
                continue
            scores[i] = _weight(sentence, probability) / words[i] * weight[i]
            if (
                not blocked[i]
                and len(shared) >= least
                and len(shared) / math.sqrt(len(set(sentence)) * len(mine)) >= NEAR_DUPLICATE
            ):
                blocked[i] = True
    return chosen


def _opens(section: SectionText) -> list[bool]:
    """Per sentence, whether it opens on the one before (all False when none does)."""
    return list(section.opens_on_context) or [False] * len(section.sentences)


def _weight(sentence: tuple[int, ...], probability: dict[int, float]) -> float:
    """The sum of the sentence's term probabilities, added in order.

    Not ``sum()``: from Python 3.12 it compensates its rounding, and the sum
    must round as ``np.bincount``'s does.
    """
    weight = 0.0
    for term in sentence:
        weight += probability[term]
    return weight


_PRIORS = np.exp(-np.arange(64) / POSITION_DECAY)
# The same values as Python floats, for _rank_python (never recomputed with
# math.exp, whose last bit may differ from numpy's).
_PRIOR_VALUES: list[float] = _PRIORS.tolist()


def _prior(total: int, decay: float = POSITION_DECAY) -> npt.NDArray[np.float64]:
    """exp(-i / decay) for i < total: the same values whatever ``total``."""
    if total <= _PRIORS.size and decay == POSITION_DECAY:
        return _PRIORS[:total]
    return np.exp(-np.arange(total) / decay)


def rank_lead(section: SectionText, count: int) -> list[int]:
    """The first ``count`` sentences: Lead-N, the baseline every news summarizer is held to."""
    return list(range(min(count, len(section.sentences))))
