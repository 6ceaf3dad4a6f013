"""Extractive summaries per section: the public functions and the algorithm registry.

    summarize_html(html) = summarize_sections(split_sections(html))
    summarize_sections   = resolve the language | prepare (tokenize, stem: once)
                           | per section: budget, rank | allot the words | keep the order

Each section is summarized on its own, so every heading keeps its key
sentences instead of the longest section taking the whole summary.  Chosen
sentences keep the order they had in the section, and sections keep theirs.
Nothing here rewrites text: every sentence of a summary is a sentence of the
article, as the tokenizer split it.

The budget of a section is ``sentences``, or for long sections one sentence
per ``words_per_sentence`` words, up to ``max_sentences`` (off unless
``max_sentences`` is given, so that ``sentences=3`` means three).

A summary must be shorter than its article.  Every section keeps its best
sentence, and the default algorithm keeps the lead (the article's first
sentence) first; past that, an article longer than :data:`SHORT_ARTICLE_WORDS`
keeps sentences only while the summary stays within :data:`SUMMARY_SHARE` of
its words, taken round by round (every section's second-best, then every
section's third-best...) so that no section takes the whole allowance.
Lead-N is the exception: the yardstick is exactly N sentences a section.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Sequence
from functools import lru_cache

from ..config import DEFAULT_SUMMARY_ALGORITHM, SummaryConfig
from ..models import Section, SectionSummary, Summary
from .document import SectionText, prepare
from .language import resolve_language
from .lexicon import LEXICON_VERSION, lexicon_for
from .positional import rank_lead, rank_positional
from .sections import split_sections
from .sumy_adapter import SUMY_ALGORITHMS, SUMY_VERSION, sumy_ranker
from .tokenizer import ENGINE as TOKENIZER_ENGINE
from .tokenizer import tokenizer_for

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "DEFAULT_WORDS_PER_SENTENCE",
    "SHORT_ARTICLE_WORDS",
    "SUMMARY_SHARE",
    "allot",
    "sentence_budget",
    "summarize_html",
    "summarize_sections",
    "summary_cache_key",
]

# Bump when a change here or in the splitter changes what a summary says, so
# stored summaries are recomputed rather than served stale.
SUMMARY_VERSION = 3

DEFAULT_ALGORITHM = DEFAULT_SUMMARY_ALGORITHM  # named by the configuration
# The default algorithm first, then Lead-N (the news baseline), then sumy's.
ALGORITHMS: tuple[str, ...] = (DEFAULT_ALGORITHM, "lead", *SUMY_ALGORITHMS)
# One more sentence per this many words of a long section, when max_sentences
# allows more than `sentences`: a 150-word section is a paragraph or two.
DEFAULT_WORDS_PER_SENTENCE = SummaryConfig().words_per_sentence  # the configuration's default

# A wire brief or a short news item: two or three paragraphs, whose key
# sentences are most of it; only longer articles are cut to a share.
SHORT_ARTICLE_WORDS = 150
# The most of a longer article's words a summary keeps, past one sentence per
# section.  A third: the summary is read in a feed reader's list in the time
# it takes to decide whether to open the article, and news highlights
# (CNN/DailyMail's) run to a tenth to a fifth of the article; a third leaves
# room for every section of a long article to say one or two things.
SUMMARY_SHARE = 1 / 3

# rank(section, count, lead) -> indices of up to `count` sentences, best first;
# `lead` asks for the section's first sentence first (the article's lead).
Ranker = Callable[[SectionText, int, bool], Sequence[int]]


def summarize_sections(
    sections: Sequence[Section],
    *,
    sentences: int = 2,
    algorithm: str = DEFAULT_ALGORITHM,
    language: str | None = None,
    max_sentences: int | None = None,
    words_per_sentence: int = DEFAULT_WORDS_PER_SENTENCE,
) -> Summary:
    """Up to ``sentences`` key sentences per section, sections and headings in order.

    ``language`` is a name or ISO code; None (or ``"auto"``, or a code naming
    no language known here) means detect it from the text.  A language
    without a sentence model, stemmer or stop words is still summarized, with
    the English sentence rules and every word a term.
    """
    text = "\n".join(p for s in sections for p in s.paragraphs)
    return _summarize(
        sections,
        resolve_language(language, text),
        _algorithm(algorithm),
        sentences,
        _max_sentences(sentences, max_sentences),
        _words_per_sentence(words_per_sentence),
    )


def summarize_html(
    html: str,
    *,
    sentences: int = 2,
    algorithm: str = DEFAULT_ALGORITHM,
    language: str | None = None,
    max_sentences: int | None = None,
    words_per_sentence: int = DEFAULT_WORDS_PER_SENTENCE,
) -> Summary:
    """:func:`split_sections` then :func:`summarize_sections`.

    The language is resolved from the HTML exactly as :func:`summary_cache_key`
    resolves it, so a stored summary and its key always agree.
    """
    return _summarize(
        split_sections(html),
        resolve_language(language, html),
        _algorithm(algorithm),
        sentences,
        _max_sentences(sentences, max_sentences),
        _words_per_sentence(words_per_sentence),
    )


def summary_cache_key(
    html: str,
    *,
    sentences: int = 2,
    algorithm: str = DEFAULT_ALGORITHM,
    language: str | None = None,
    max_sentences: int | None = None,
    words_per_sentence: int = DEFAULT_WORDS_PER_SENTENCE,
) -> str:
    """A sha256 hex digest of everything a summary of ``html`` depends on.

    Equal keys mean an equal summary: the inputs as normalized (the resolved
    language, so "en", "english" and an undeclared English text share a key;
    the algorithm in lower case; the length settings only as far as they
    matter), this package's summary version and the versions of sumy, of the
    sentence model and of the stop lists.
    """
    maximum = _max_sentences(sentences, max_sentences)
    parts = [
        SUMMARY_VERSION,
        SUMY_VERSION,
        TOKENIZER_ENGINE,
        LEXICON_VERSION,
        _algorithm(algorithm),
        resolve_language(language, html),
        sentences,
        maximum,
        _words_per_sentence(words_per_sentence) if maximum > sentences else None,
        html,
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def sentence_budget(words: int, sentences: int, max_sentences: int, words_per_sentence: int) -> int:
    """Sentences a section of ``words`` words gets: ``sentences``, or one per
    ``words_per_sentence`` words, whichever is more, but never over ``max_sentences``."""
    return max(sentences, min(max_sentences, words // words_per_sentence))


def _summarize(
    sections: Sequence[Section],
    language: str,
    algorithm: str,
    sentences: int,
    max_sentences: int,
    words_per_sentence: int,
) -> Summary:
    prepared = prepare(sections, tokenizer_for(language), lexicon_for(language))
    rank = _ranker(algorithm, language)
    lead = next((k for k, section in enumerate(prepared) if section.sentences), None)
    choices = [
        _choices(
            section,
            sentence_budget(section.words, sentences, max_sentences, words_per_sentence),
            rank,
            lead=k == lead,
        )
        for k, section in enumerate(prepared)
    ]
    words = sum(section.words for section in prepared)
    # Lead-N is the yardstick, exactly N sentences a section, never cut.
    short = words <= SHORT_ARTICLE_WORDS or algorithm == "lead"
    allowance = math.inf if short else words * SUMMARY_SHARE
    kept = allot(choices, [section.word_counts for section in prepared], allowance)
    return Summary(
        tuple(
            SectionSummary(section.heading, tuple(section.sentences[i] for i in sorted(indices)))
            for section, indices in zip(prepared, kept, strict=True)
        )
    )


def allot(
    choices: Sequence[Sequence[int]], word_counts: Sequence[Sequence[int]], allowance: float
) -> list[list[int]]:
    """The sentences each section keeps, from its ``choices`` (best first).

    Every section keeps its first choice, whatever the ``allowance`` (in
    words).  Then round by round, each section in order adds its next choice
    while the summary stays within the allowance; a section whose next choice
    would go over it stops there (a shorter, lesser sentence does not jump
    the queue).
    """
    kept = [list(c[:1]) for c in choices]
    used = sum(counts[c[0]] for c, counts in zip(choices, word_counts, strict=True) if c)
    stopped = [False] * len(choices)
    for turn in range(1, max(map(len, choices), default=0)):
        for k, (candidates, counts) in enumerate(zip(choices, word_counts, strict=True)):
            if stopped[k] or turn >= len(candidates):
                continue
            size = counts[candidates[turn]]
            if used + size > allowance:
                stopped[k] = True
                continue
            kept[k].append(candidates[turn])
            used += size
    return kept


def _choices(section: SectionText, count: int, rank: Ranker, *, lead: bool) -> list[int]:
    """Up to ``count`` of the section's sentences, best first."""
    count = min(count, len(section.sentences))
    if count <= 0:
        return []
    chosen = list(dict.fromkeys(rank(section, count, lead)))
    if not chosen:
        # LSA gives nothing when no word survives the stop list; the opening
        # of the section is as good a summary as any.
        return list(range(count))
    return chosen


@lru_cache(maxsize=64)
def _ranker(algorithm: str, language: str) -> Ranker:
    if algorithm == DEFAULT_ALGORITHM:
        return lambda section, count, lead: rank_positional(section, count, lead=lead)
    # The other algorithms are what they say they are: Lead-N, or sumy's
    # choice, whatever the lead.
    if algorithm == "lead":
        return lambda section, count, lead: rank_lead(section, count)
    lexicon = lexicon_for(language)
    chosen = sumy_ranker(algorithm, lexicon.stem, lexicon.stop_words, tokenizer_for(language))
    return lambda section, count, lead: chosen(section.paragraphs(), section.heading, count)


def _algorithm(name: str) -> str:
    key = name.strip().lower()
    if key not in ALGORITHMS:
        valid = ", ".join(ALGORITHMS)
        raise ValueError(f"unknown summary algorithm {name!r}; valid: {valid}")
    return key


def _max_sentences(sentences: int, max_sentences: int | None) -> int:
    if sentences < 1:
        raise ValueError(f"sentences must be at least 1, not {sentences}")
    if max_sentences is None:
        return sentences
    if max_sentences < sentences:
        raise ValueError(
            f"max_sentences ({max_sentences}) must be at least sentences ({sentences})"
        )
    return max_sentences


def _words_per_sentence(words: int) -> int:
    if words < 1:
        raise ValueError(f"words_per_sentence must be at least 1, not {words}")
    return words
