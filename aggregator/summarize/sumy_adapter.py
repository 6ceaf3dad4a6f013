"""sumy, imported here only: its algorithms behind a ranker, its stemmers, its stop lists.

    sumy_ranker("lexrank", stem, stop_words, tokenizer)(paragraphs, heading, count)
        -> indices of the chosen sentences
    sumy_stemmer("czech") -> sumy's own stemmer, or None    (for .lexicon)
    sumy_stop_words("french") -> sumy's stop list, one word a line    (for .lexicon)

sumy's summarizers are imported only when one is asked for: they import
NLTK, ``requests`` and ``pycountry`` (50 MB, 0.3 s), which the default
algorithm needs none of.  Each gets the sentences as this package split
them, grouped by paragraph (sumy's own tokenizer needs NLTK data that is not
installed, and its ``PlaintextParser`` would turn an all-capitals sentence
into a heading), the shared cached stemmer and the language's stop words.
A section's heading goes in as a sumy heading, which only Edmundson reads.

Algorithms: LexRank, TextRank, LSA, Luhn, KL-Sum, SumBasic and Edmundson.
Edmundson here weighs its key (frequent content words), title (the section
heading's words) and location methods; its cue method needs curated lists of
bonus and stigma words, which no language here has, so it is off.

Nothing of this package is imported here: :mod:`.lexicon`, which every
algorithm's stemmer and stop words come from, reads sumy's through this
module, and :mod:`.extractive` hands the ranker the language's.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Sequence
from contextlib import suppress
from importlib import import_module, resources
from importlib.metadata import version
from typing import Any, Protocol

log = logging.getLogger(__name__)

__all__ = [
    "SUMY_ALGORITHMS",
    "SUMY_VERSION",
    "WordTokenizer",
    "sumy_ranker",
    "sumy_stemmer",
    "sumy_stop_words",
]

SUMY_VERSION = version("sumy")

# Algorithm -> (module, class) in sumy.summarizers.
_CLASSES: dict[str, tuple[str, str]] = {
    "lexrank": ("lex_rank", "LexRankSummarizer"),
    "textrank": ("text_rank", "TextRankSummarizer"),
    "lsa": ("lsa", "LsaSummarizer"),
    "luhn": ("luhn", "LuhnSummarizer"),
    "kl": ("kl", "KLSummarizer"),
    "sumbasic": ("sum_basic", "SumBasicSummarizer"),
    "edmundson": ("edmundson", "EdmundsonSummarizer"),
}
SUMY_ALGORITHMS: tuple[str, ...] = tuple(_CLASSES)

# sumy's Stemmer.SPECIAL_STEMMERS: its own stemmers (or none: lower-casing).
_SUMY_OWN = frozenset(
    {"czech", "slovak", "hebrew", "chinese", "japanese", "korean", "ukrainian", "greek", "polish"}
)


def sumy_stemmer(language: str) -> Callable[[str], str] | None:
    """sumy's own stemmer for the languages sumy stems itself (Ukrainian, Czech,
    Greek, Polish...), else None.  sumy's ``Stemmer`` imports NLTK (30 MB,
    0.2 s): only these languages pay for it."""
    if language not in _SUMY_OWN:
        return None
    from sumy.nlp.stemmers import Stemmer

    stemmer: Callable[[str], str] = Stemmer(language)
    try:
        # Some of sumy's stemmers need a package of their own, and say so
        # only when a word is stemmed (Greek's raises ValueError): lower-casing
        # then, as for a language without a stemmer, not a failed summary.
        stemmer("a")
    except Exception as exc:  # whatever the missing package makes it raise
        log.debug("sumy's %s stemmer cannot run (%s): words are only lower-cased", language, exc)
        return None
    return stemmer


def sumy_stop_words(language: str) -> list[str]:
    """sumy's stop list for a language name as written (empty where it has none).

    Read as the data file it is, what ``sumy.utils.get_stop_words`` reads:
    that module imports ``requests`` and ``pycountry`` (20 MB) to look it up."""
    with suppress(OSError):
        data = resources.files("sumy").joinpath(f"data/stopwords/{language}.txt").read_bytes()
        return data.decode("utf-8").splitlines()
    return []


class WordTokenizer(Protocol):
    """What sumy's ``Sentence`` asks of a tokenizer: a sentence's words."""

    def to_words(self, sentence: str) -> Sequence[str]: ...


# The sentences of a section grouped by paragraph, its heading (or None) and
# how many to choose -> the indices of the chosen ones, counted across the
# paragraphs, in sumy's order of preference.
Ranker = Callable[[Sequence[Sequence[str]], str | None, int], list[int]]


def _terms_in_order(summarizer: Any, document: Any) -> dict[str, int]:
    """LSA's term -> matrix row, the terms in sorted order.  sumy numbers them
    in a frozenset's order, which changes with each process's hash seed; the
    decomposition's rounding changes with it, and where two sentences nearly
    tie, which is chosen (1 article in 40 of a news set): a summary cached
    by its text would not be the one computed again."""
    words = (summarizer.normalize_word(word) for word in document.words)
    stop_words = summarizer.stop_words
    terms = sorted({summarizer.stem_word(word) for word in words if word not in stop_words})
    return {term: row for row, term in enumerate(terms)}


def sumy_ranker(
    algorithm: str,
    stem: Callable[[str], str],
    stop_words: frozenset[str],
    tokenizer: WordTokenizer,
) -> Ranker:
    """A ranker for a sumy algorithm name (lower case), with a language's
    stemmer, stop words and tokenizer."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

    module, name = _CLASSES[algorithm]
    summarizer_class: Callable[..., Any] = getattr(
        import_module(f"sumy.summarizers.{module}"), name
    )

    def make() -> Any:
        if algorithm == "edmundson":
            summarizer = summarizer_class(
                stem, cue_weight=0.0, key_weight=1.0, title_weight=1.0, location_weight=1.0
            )
            # sumy refuses an empty null-word list; a language without stop
            # words gets one word that never occurs.
            summarizer.null_words = stop_words or ("\x00",)
            return summarizer
        summarizer = summarizer_class(stem)
        summarizer.stop_words = stop_words
        if algorithm == "lsa":
            summarizer._create_dictionary = functools.partial(_terms_in_order, summarizer)
        return summarizer

    # A summarizer holds only its stemmer and word lists, so one object per
    # (algorithm, language) serves every call -- except Edmundson, whose
    # bonus words are the section's own and are set per call.
    shared = None if algorithm == "edmundson" else make()

    def rank(texts: Sequence[Sequence[str]], heading: str | None, count: int) -> list[int]:
        paragraphs = [[Sentence(s, tokenizer) for s in p] for p in texts]
        if heading and paragraphs:
            paragraphs[0].insert(0, Sentence(heading, tokenizer, is_heading=True))
        document = ObjectDocumentModel([Paragraph(p) for p in paragraphs])
        summarizer = shared
        if summarizer is None:
            summarizer = make()
            content = {w.lower() for s in document.sentences for w in s.words} - stop_words
            if not content:
                return []  # Edmundson's key method needs words to weigh
            summarizer.bonus_words = content
        # sumy hands back the Sentence objects it was given; their identity,
        # not their text (which sumy's own equality uses), gives the position.
        position = {id(s): i for i, s in enumerate(document.sentences)}
        with warnings.catch_warnings():
            # LSA warns when a section has fewer distinct words than sentences,
            # and numpy warns on LexRank's 0/0 when every word is a stop word;
            # neither stops a usable answer.  The filter names sumy's modules
            # only, so even if threads interleave and leave it installed, it
            # hides nobody else's warnings.
            warnings.filterwarnings("ignore", module=r"sumy\.")
            chosen = summarizer(document, count)
        return [position[id(s)] for s in chosen]

    return rank
