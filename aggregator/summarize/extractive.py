"""Extractive summaries per section, with sumy (imported here only).

    summarize_html(html) = summarize_sections(split_sections(html))

Each section is summarized on its own, so every heading keeps its key
sentences instead of the longest section taking the whole summary.  A section
no longer than the requested count is shown whole; chosen sentences keep the
order they had in the section.  Nothing here rewrites text: every sentence of
a summary is a sentence of the article, as the tokenizer split it.

sumy's default tokenizer needs NLTK data that is not installed; the document
is built here from :class:`PunktTokenizer` directly, which also keeps sumy's
``PlaintextParser`` from turning an all-capitals sentence into a heading.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections.abc import Callable, Sequence
from contextlib import suppress
from functools import lru_cache
from typing import Any

from sumy import __version__ as sumy_version
from sumy.models.dom import ObjectDocumentModel, Paragraph, Sentence
from sumy.nlp.stemmers import Stemmer, null_stemmer
from sumy.summarizers.kl import KLSummarizer
from sumy.summarizers.lex_rank import LexRankSummarizer
from sumy.summarizers.lsa import LsaSummarizer
from sumy.summarizers.luhn import LuhnSummarizer
from sumy.summarizers.sum_basic import SumBasicSummarizer
from sumy.summarizers.text_rank import TextRankSummarizer
from sumy.utils import get_stop_words

from ..models import Section, SectionSummary, Summary
from .sections import split_sections
from .tokenizer import ENGINE as TOKENIZER_ENGINE
from .tokenizer import PunktTokenizer, language_name, tokenizer_for

__all__ = [
    "ALGORITHMS",
    "summarize_html",
    "summarize_sections",
    "summary_cache_key",
]

# Bump when a change here or in the splitter changes what a summary says, so
# stored summaries are recomputed rather than served stale.
SUMMARY_VERSION = 1

_CLASSES: dict[str, Callable[..., Any]] = {
    "lexrank": LexRankSummarizer,
    "textrank": TextRankSummarizer,
    "lsa": LsaSummarizer,
    "luhn": LuhnSummarizer,
    "kl": KLSummarizer,
    "sumbasic": SumBasicSummarizer,
}
ALGORITHMS: tuple[str, ...] = tuple(_CLASSES)

# sumy's summarizer objects: called as summarizer(document, count).
_SumyFunction = Callable[[Any, int], Sequence[Any]]


def summarize_sections(
    sections: Sequence[Section],
    *,
    sentences: int = 2,
    algorithm: str = "lexrank",
    language: str | None = "english",
) -> Summary:
    """Up to ``sentences`` key sentences per section, sections and headings in order.

    ``language`` is a name or ISO code; None (a feed that does not say) means
    English.  A language sumy or Punkt does not know is still summarized, with
    the English sentence model, no stemmer and no stop words.
    """
    if sentences < 1:
        raise ValueError(f"sentences must be at least 1, not {sentences}")
    name = language_name(language)
    summarizer = _summarizer(_algorithm(algorithm), name)
    tokenizer = tokenizer_for(name)
    return Summary(
        tuple(
            SectionSummary(s.heading, _key_sentences(s, sentences, summarizer, tokenizer))
            for s in sections
        )
    )


def summarize_html(
    html: str,
    *,
    sentences: int = 2,
    algorithm: str = "lexrank",
    language: str | None = "english",
) -> Summary:
    """:func:`split_sections` then :func:`summarize_sections`."""
    return summarize_sections(
        split_sections(html), sentences=sentences, algorithm=algorithm, language=language
    )


def summary_cache_key(
    html: str,
    *,
    sentences: int = 2,
    algorithm: str = "lexrank",
    language: str | None = "english",
) -> str:
    """A sha256 hex digest of everything a summary depends on.

    Equal keys mean an equal summary: the inputs (language and algorithm as
    normalized, so "en" and "english" share a key), this module's version and
    the versions of sumy and of the sentence model.
    """
    parts = [
        SUMMARY_VERSION,
        sumy_version,
        TOKENIZER_ENGINE,
        _algorithm(algorithm),
        language_name(language),
        sentences,
        html,
    ]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False).encode()).hexdigest()


def _algorithm(name: str) -> str:
    key = name.strip().lower()
    if key not in _CLASSES:
        valid = ", ".join(ALGORITHMS)
        raise ValueError(f"unknown summary algorithm {name!r}; valid: {valid}")
    return key


@lru_cache(maxsize=32)
def _summarizer(algorithm: str, language: str) -> _SumyFunction:
    # A summarizer holds only its stemmer and stop words, never per-document
    # state, so one object per (algorithm, language) serves every call.
    try:
        stemmer: Callable[[str], str] = Stemmer(language)
    except LookupError:
        stemmer = null_stemmer
    summarizer = _CLASSES[algorithm](stemmer)
    # Russian, for one, has a stemmer in sumy but no stop-word list.
    with suppress(LookupError):
        summarizer.stop_words = get_stop_words(language)
    function: _SumyFunction = summarizer
    return function


def _key_sentences(
    section: Section, count: int, summarizer: _SumyFunction, tokenizer: PunktTokenizer
) -> tuple[str, ...]:
    # Sentences never span paragraphs: a paragraph break is a sentence break
    # even when the text before it has no final period.  A sentence repeated
    # in the section ("Same thing. Same thing.") is one candidate, so a
    # summary never shows it twice.
    seen: set[str] = set()
    paragraphs: list[list[str]] = []
    for text in section.paragraphs:
        fresh = []
        for sentence in tokenizer.to_sentences(text):
            if sentence not in seen:
                seen.add(sentence)
                fresh.append(sentence)
        if fresh:
            paragraphs.append(fresh)
    texts = [s for paragraph in paragraphs for s in paragraph]
    if len(texts) <= count:
        return tuple(texts)

    document = ObjectDocumentModel(
        Paragraph(Sentence(s, tokenizer) for s in paragraph) for paragraph in paragraphs
    )
    # sumy hands back the Sentence objects it was given; their identity, not
    # their text (which sumy's own equality uses), gives their position.
    position = {id(s): i for i, s in enumerate(document.sentences)}
    with warnings.catch_warnings():
        # LSA warns when a section has fewer distinct words than sentences,
        # and numpy warns on LexRank's 0/0 when every word is a stop word;
        # neither stops a usable answer.  The filter names sumy's modules
        # only, so even if threads interleave and leave it installed, it
        # hides nobody else's warnings.
        warnings.filterwarnings("ignore", module=r"sumy\.")
        chosen = summarizer(document, count)
    if not chosen:
        # LSA gives nothing when no word survives the stop list; the opening
        # of the section is as good a summary as any.
        return tuple(texts[:count])
    # Chosen sentences in section order, whatever order the algorithm used.
    return tuple(texts[i] for i in sorted(position[id(s)] for s in chosen))
