"""The sumy algorithms, behind the same ranker signature as the default one.

    sumy_ranker("lexrank", "english")(section, count) -> indices of the chosen sentences

sumy's summarizers are imported here only, and only when one is asked for:
they import NLTK, ``requests`` and ``pycountry`` (50 MB, 0.3 s), which the
default algorithm needs none of.  Each gets the sentences as this
package split them (sumy's own tokenizer needs NLTK data that is not
installed, and its ``PlaintextParser`` would turn an all-capitals sentence
into a heading), the shared cached stemmer and the language's stop words.
A section's heading goes in as a sumy heading, which only Edmundson reads.

Algorithms: LexRank, TextRank, LSA, Luhn, KL-Sum, SumBasic and Edmundson.
Edmundson here weighs its key (frequent content words), title (the section
heading's words) and location methods; its cue method needs curated lists of
bonus and stigma words, which no language here has, so it is off.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from functools import lru_cache
from importlib import import_module
from importlib.metadata import version
from typing import Any

from .document import SectionText
from .lexicon import lexicon_for
from .tokenizer import tokenizer_for

__all__ = ["SUMY_ALGORITHMS", "SUMY_VERSION", "sumy_ranker"]

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

Ranker = Callable[[SectionText, int], Sequence[int]]


@lru_cache(maxsize=64)
def sumy_ranker(algorithm: str, language: str) -> Ranker:
    """A ranker for a sumy algorithm name (lower case) and a language name."""
    from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence

    module, name = _CLASSES[algorithm]
    summarizer_class: Callable[..., Any] = getattr(
        import_module(f"sumy.summarizers.{module}"), name
    )
    lexicon = lexicon_for(language)
    tokenizer = tokenizer_for(language)
    stop_words = lexicon.stop_words

    def make() -> Any:
        if algorithm == "edmundson":
            summarizer = summarizer_class(
                lexicon.stem, cue_weight=0.0, key_weight=1.0, title_weight=1.0, location_weight=1.0
            )
            # sumy refuses an empty null-word list; a language without stop
            # words gets one word that never occurs.
            summarizer.null_words = stop_words or ("\x00",)
            return summarizer
        summarizer = summarizer_class(lexicon.stem)
        summarizer.stop_words = stop_words
        return summarizer

    # A summarizer holds only its stemmer and word lists, so one object per
    # (algorithm, language) serves every call -- except Edmundson, whose
    # bonus words are the section's own and are set per call.
    shared = None if algorithm == "edmundson" else make()

    def rank(section: SectionText, count: int) -> list[int]:
        paragraphs = [[Sentence(s, tokenizer) for s in p] for p in section.paragraphs()]
        if section.heading and paragraphs:
            paragraphs[0].insert(0, Sentence(section.heading, tokenizer, is_heading=True))
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
