"""Stemmer and stop words per language, shared by every algorithm.

    lexicon_for("ukrainian") -> Lexicon(stem=sumy's Ukrainian stemmer, stop_words=...)

The stemmer is sumy's (Snowball for most languages, sumy's own for Ukrainian,
Czech, Greek, Polish).  Stop words are sumy's list together with the
``stop-words`` package's: sumy has none for Russian, Dutch or Finnish, and
its French and Ukrainian lists lack the commonest words ("de", "à"; "і",
"в", "на").  English is the exception: sumy's list is complete, and the
package's adds content words ("million", "fire", "research").  A language
that neither knows gets the language-neutral fallback: words are only
lower-cased, and no word is a stop word.  Nothing here raises for an unknown
language.

sumy's stemmers and stop lists are imported here, its summarizers in
:mod:`.extractive`; the ``stop-words`` package only here.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import version

import stop_words  # type: ignore[import-untyped]
from sumy.nlp.stemmers import Stemmer, null_stemmer
from sumy.utils import get_stop_words

__all__ = ["STOP_WORDS_VERSION", "CachedStemmer", "Lexicon", "lexicon_for"]

# Part of the summary cache key: another release can list other stop words.
STOP_WORDS_VERSION = f"stop-words-{version('stop-words')}"

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
    """What a language contributes to scoring words: ``stem(word)`` and the stop words.

    ``stem`` expects a lower-cased word; ``stop_words`` are lower-cased.
    ``neutral`` says that the language had neither, so every word is a term.
    """

    language: str
    stem: Callable[[str], str]
    stop_words: frozenset[str]
    has_stemmer: bool

    @property
    def neutral(self) -> bool:
        return not self.has_stemmer and not self.stop_words


@lru_cache(maxsize=64)
def lexicon_for(language: str) -> Lexicon:
    """The lexicon of a language name as :func:`.tokenizer.language_name` gives it."""
    try:
        stem: Callable[[str], str] = Stemmer(language)
        has_stemmer = True
    except LookupError:
        stem, has_stemmer = null_stemmer, False
    return Lexicon(language, CachedStemmer(stem), _stop_words(language), has_stemmer)


_SUMY_ONLY = frozenset({"english"})


def _stop_words(language: str) -> frozenset[str]:
    words: set[str] = set()
    with suppress(LookupError):
        words.update(get_stop_words(language))
    if language not in _SUMY_ONLY:
        with suppress(stop_words.StopWordError):
            words.update(stop_words.get_stop_words(language))
    return frozenset(word.strip().lower() for word in words if word.strip())
