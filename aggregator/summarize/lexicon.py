"""Stemmer and stop words per language, shared by every algorithm.

    lexicon_for("ukrainian") -> Lexicon(stem=sumy's Ukrainian stemmer, stop_words=...)

The stemmer is Snowball's, from PyStemmer (the Snowball project's own C
build), for the languages sumy would give NLTK's Snowball stemmer, and
sumy's own for those it has one for (Ukrainian, Czech, Greek, Polish).  Not
sumy's ``Stemmer`` for all of them: it imports NLTK, which costs 30 MB and
0.2 s in every process that summarizes, and stems in Python what PyStemmer
stems in C.  Stop words are sumy's list together with the
``stop-words`` package's: sumy has none for Russian, Dutch or Finnish, and
its French and Ukrainian lists lack the commonest words ("de", "à"; "і",
"в", "на").  English is the exception: sumy's list is complete, and the
package's adds content words ("million", "fire", "research").  A language
that neither knows gets the language-neutral fallback: words are only
lower-cased, and no word is a stop word.  Nothing here raises for an unknown
language.

sumy's own stemmers and its stop lists come from :mod:`.sumy_adapter`,
which alone imports sumy; PyStemmer and the ``stop-words`` package are
imported here only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

import Stemmer as snowball  # type: ignore[import-not-found]  # PyStemmer
import stop_words  # type: ignore[import-untyped]

from .sumy_adapter import sumy_stemmer, sumy_stop_words

__all__ = ["LEXICON_VERSION", "OPENER_WORDS", "CachedStemmer", "Lexicon", "lexicon_for"]

# Part of the summary cache key: another release can list other stop words,
# or stem a word otherwise.
LEXICON_VERSION = f"stop-words-{version('stop-words')} pystemmer-{version('pystemmer')}"

# The languages sumy stems with NLTK's Snowball stemmers; Snowball here.
_SNOWBALL = frozenset(
    {
        "arabic",
        "danish",
        "dutch",
        "english",
        "finnish",
        "french",
        "german",
        # sumy stems Greek itself, with a package that is not installed
        # (greek-stemmer-pos): every word raised, and every Greek summary.
        "greek",
        "hungarian",
        "italian",
        "norwegian",
        "porter",
        "portuguese",
        "romanian",
        "russian",
        "spanish",
        "swedish",
    }
)

# Words and phrases that, opening a sentence, lean on the sentence before:
# connectives ("However, ..."), pronouns and demonstratives ("He also said",
# "This ...").  Out of context such a sentence reads badly, and may say what
# the article did not (whose "he"?); the default algorithm prefers not to
# take one without the sentence before it.  Lower-cased, of one to three
# words.  English only: nothing was measured in other languages, and a
# wrong list would cost good sentences, so they have none.
OPENER_WORDS: dict[str, frozenset[str]] = {
    "english": frozenset(
        {
            *("however", "but", "and", "also", "meanwhile", "still", "yet", "so"),
            *("instead", "moreover", "furthermore", "besides", "nevertheless"),
            *("nonetheless", "therefore", "thus", "then", "later", "otherwise"),
            *("in addition", "as a result", "in fact", "indeed", "by contrast"),
            *("this", "that", "these", "those", "such", "another", "the other"),
            *("it", "he", "she", "they", "his", "her", "its", "their", "him", "them"),
        }
    )
}

# Stemming is the costliest step per word, and a news vocabulary repeats: a
# word seen once is looked up, not stemmed again.  The cache is dropped whole
# when it grows past this, which bounds memory in a long-running daemon.
_STEM_CACHE_SIZE = 200_000


class CachedStemmer:
    """A stemmer with a per-process memo of ``word -> stem`` (words lower-cased by the caller)."""

    def __init__(self, stem: Callable[[str], str]) -> None:
        self._stem = stem
        self._cache: dict[str, str] = {}

    def __call__(self, word: str) -> str:
        try:
            return self._cache[word]
        except KeyError:
            pass
        if len(self._cache) >= _STEM_CACHE_SIZE:
            self._cache.clear()
        stem = self._cache[word] = self._stem(word)
        return stem


@dataclass(frozen=True, slots=True)
class Lexicon:
    """What a language contributes to scoring words: ``stem(word)``, the stop words, the openers.

    ``stem`` expects a lower-cased word; ``stop_words`` and ``openers`` (see
    :data:`OPENER_WORDS`) are lower-cased.  ``neutral`` says that the
    language had neither stemmer nor stop words, so every word is a term.
    """

    language: str
    stem: Callable[[str], str]
    stop_words: frozenset[str]
    has_stemmer: bool
    openers: frozenset[str] = frozenset()

    def opens_on_context(self, words: Sequence[str]) -> bool:
        """Whether a sentence of these lower-cased ``words`` opens with one of :attr:`openers`."""
        return any(" ".join(words[:size]) in self.openers for size in (1, 2, 3))

    @property
    def neutral(self) -> bool:
        return not self.has_stemmer and not self.stop_words


@lru_cache(maxsize=64)
def lexicon_for(language: str) -> Lexicon:
    """The lexicon of a language name as :func:`.tokenizer.language_name` gives it."""
    stem = _stemmer(language)
    has_stemmer = stem is not None
    return Lexicon(
        language,
        CachedStemmer(stem or str.lower),
        _stop_words(language),
        has_stemmer,
        OPENER_WORDS.get(language, frozenset()),
    )


def _stemmer(language: str) -> Callable[[str], str] | None:
    if language in _SNOWBALL:
        stem: Callable[[str], str] = snowball.Stemmer(language).stemWord
        return stem
    return sumy_stemmer(language)  # sumy's own (Ukrainian, Czech...), or None


_SUMY_ONLY = frozenset({"english"})


def _stop_words(language: str) -> frozenset[str]:
    words: set[str] = set()
    words.update(sumy_stop_words(language))
    if language not in _SUMY_ONLY:
        with suppress(stop_words.StopWordError):
            words.update(stop_words.get_stop_words(language))
    return frozenset(word.strip().lower() for word in words if word.strip())
