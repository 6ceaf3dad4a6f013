"""An item's sections cut into sentences and terms, once for all its sections.

    prepare(sections, tokenizer, lexicon) -> (SectionText, ...)   one per section, in order

Every algorithm chooses among the :attr:`SectionText.sentences`; the default
one also reads the :attr:`~SectionText.terms` (stemmed content words as
integer ids, one vocabulary per item) and the word counts.  Tokenizing and
stemming are the costly part of a summary, so they happen here, once per
item, and never per algorithm or per pair of sentences.

A sentence never spans paragraphs: a paragraph break is a sentence break even
when the text before it has no final period.  A sentence repeated in a section
("Same thing. Same thing.") is one candidate, so a summary never shows it twice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ..models import Section
from .lexicon import Lexicon
from .tokenizer import PunktTokenizer

__all__ = ["SectionText", "prepare"]

# Letters and digits, as PunktTokenizer.to_words; "_" is never part of a word.
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class SectionText:
    """One section, ready to be scored.

    ``terms[i]`` holds the term ids of sentence ``i`` (stop words left out,
    repeats kept); ``word_counts[i]`` counts all of its words, stop words
    included.  ``paragraph_sizes`` says how many sentences each paragraph
    gave, in order, so the paragraphs can be rebuilt for sumy.
    ``opens_on_context[i]`` says that sentence ``i`` (never the first) opens
    with one of the language's :attr:`~.lexicon.Lexicon.openers`, leaning on
    the sentence before it; empty means none does.
    """

    heading: str | None
    sentences: tuple[str, ...]
    paragraph_sizes: tuple[int, ...]
    terms: tuple[tuple[int, ...], ...]
    word_counts: tuple[int, ...]
    opens_on_context: tuple[bool, ...] = ()

    @property
    def words(self) -> int:
        return sum(self.word_counts)

    def paragraphs(self) -> list[tuple[str, ...]]:
        """The sentences grouped by paragraph."""
        groups, start = [], 0
        for size in self.paragraph_sizes:
            groups.append(self.sentences[start : start + size])
            start += size
        return groups


def prepare(
    sections: Sequence[Section], tokenizer: PunktTokenizer, lexicon: Lexicon
) -> tuple[SectionText, ...]:
    """Sentences, terms and word counts of every section, with one vocabulary."""
    vocabulary: dict[str, int] = {}
    stem = lexicon.stem
    stop_words = lexicon.stop_words
    prepared = []
    for section in sections:
        seen: set[str] = set()
        sentences: list[str] = []
        sizes: list[int] = []
        for paragraph in section.paragraphs:
            size = len(sentences)
            for sentence in tokenizer.to_sentences(paragraph):
                if sentence not in seen:
                    seen.add(sentence)
                    sentences.append(sentence)
            if len(sentences) > size:
                sizes.append(len(sentences) - size)
        terms: list[tuple[int, ...]] = []
        counts: list[int] = []
        opens: list[bool] = []
        for sentence in sentences:
            # Lower-casing the sentence once is cheaper than word by word.
            words = _WORD.findall(sentence.lower())
            counts.append(len(words))
            opens.append(bool(opens) and lexicon.opens_on_context(words))
            # A list first: tuple() of a generator costs a third more.
            terms.append(
                tuple(
                    [
                        vocabulary.setdefault(stem(word), len(vocabulary))
                        for word in words
                        if word not in stop_words
                    ]
                )
            )
        prepared.append(
            SectionText(
                section.heading,
                tuple(sentences),
                tuple(sizes),
                tuple(terms),
                tuple(counts),
                tuple(opens) if any(opens) else (),
            )
        )
    return tuple(prepared)
