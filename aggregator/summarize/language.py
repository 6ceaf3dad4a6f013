"""Which language a text is in: the one it declares, else the one it looks like.

    resolve_language("en-US", text) -> "english"      a declared language we know wins
    resolve_language(None, text)    -> detected, e.g. "russian"; "und" if it cannot tell

The result is a language *name* as :func:`.tokenizer.language_name` gives it;
it picks the sentence model, the stemmer and the stop words, and it is part of
the summary cache key.  ``None``, ``""``, ``"auto"``, ``"und"`` and codes that
name no language we know (``"xx"``, ``"Klingon"``) mean "look at the text".

Detection is py3langid's (imported here only): a naive Bayes model over byte
n-grams, offline and deterministic, the same text always giving the same
answer.  It reads only the start of the text, which is plenty for a language
and keeps the cost flat for long articles.  A detected language without any
resources here (say Swahili) is returned as its name or code; the summarizer
then uses its language-neutral fallback.
"""

from __future__ import annotations

import html
import json
import os
import re
from functools import lru_cache
from importlib.metadata import version
from pathlib import Path
from typing import Any

from .lexicon import lexicon_for
from .tokenizer import has_sentence_model, language_name

__all__ = [
    "AUTO",
    "UNDETERMINED",
    "detect_language",
    "resolve_language",
    "warm_up_detector",
]

AUTO = "auto"
UNDETERMINED = "und"  # ISO 639-2 "undetermined": the language-neutral fallback

# Characters of text the detector reads.  A few sentences identify a language
# reliably; reading a whole 2,000-word article would cost more than summarizing it.
_SAMPLE_CHARS = 600
# The model's probability for its best guess below which the answer is "cannot
# tell": a lone word ("Hello") or a number gets well under it, one plain
# sentence of a language well over it.
_MIN_CONFIDENCE = 0.5
_ASK_TEXT = frozenset({"", AUTO, UNDETERMINED, "mul", "zxx"})
_TAG = re.compile(r"<[^>]*>")
# Text a reader never sees, which would only confuse the detector: a page's
# head, its scripts and styles.
_INVISIBLE = re.compile(r"<(head|script|style|template)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
# How much of an HTML document is read to find the sample's text: enough for
# a page whose article starts after a long head and navigation.
_HTML_SCAN_CHARS = 40_000


def resolve_language(language: str | None, text: str) -> str:
    """The language name to summarize ``text`` with (``text`` may be HTML)."""
    declared = language_name(language) if language and language.strip() else ""
    if declared not in _ASK_TEXT and _is_known(declared):
        return declared
    detected = detect_language(text)
    if detected is None:
        return UNDETERMINED
    return language_name(detected)


def detect_language(text: str) -> str | None:
    """The ISO 639 code of the text's language, or None when it cannot tell."""
    sample = _sample(text)
    if not any(char.isalpha() for char in sample):
        return None
    return _detect(sample)


def warm_up_detector() -> None:
    """Load the detection model now, e.g. before forking workers that will share it."""
    _identifier()


@lru_cache(maxsize=1024)
def _detect(sample: str) -> str | None:
    code, confidence = _identifier().classify(sample)
    if confidence < _MIN_CONFIDENCE or code in _ASK_TEXT:
        return None
    return str(code)


def _sample(text: str) -> str:
    if "<" in text:
        text = _TAG.sub(" ", _INVISIBLE.sub(" ", text[:_HTML_SCAN_CHARS]))
        text = " ".join(text.split())
    return " ".join(html.unescape(text[: _SAMPLE_CHARS * 2]).split())[:_SAMPLE_CHARS]


@lru_cache(maxsize=1)
def _identifier() -> Any:
    """py3langid's identifier, its large tables memory-mapped from a cache.

    The model ships xz-compressed: decompressing it takes about a second and
    70 MB in every process that detects a language (each worker).  It is
    decompressed once per machine into plain arrays in the cache directory
    and mapped read-only, so processes share one copy in the page cache and
    start detecting at once.  Without a writable cache, it is loaded as usual.
    Loaded on first use only: texts that declare their language never pay.
    """
    from py3langid.langid import MODEL_FILE, LanguageIdentifier  # type: ignore[import-untyped]

    try:
        tables = _mapped_model()
    except (OSError, ValueError, KeyError):
        tables = None
    if tables is None:
        return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _mapped_identifier(tables)


def _mapped_identifier(tables: tuple[Any, ...]) -> Any:
    """py3langid's identifier over the tables of :func:`_mapped_model`."""
    from py3langid.langid import LanguageIdentifier

    ptc, pc, classes, nextmove, row, output = tables
    identifier = LanguageIdentifier(ptc, pc, classes, nextmove, output, norm_probs=True, tk_row=row)
    # The identifier shifts every row offset into a list of its own: 100,000
    # int objects, whose pages each worker forked after this copies as soon
    # as it reads them (a read writes an object's reference count).  The same
    # numbers in an array are read without writing anything.
    import numpy as np

    identifier._rowbase = (np.asarray(row, dtype=np.int64) << 8).data
    return identifier


def _model_cache() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "aggregator" / f"py3langid-{version('py3langid')}"


def _mapped_model() -> tuple[Any, ...] | None:
    import numpy as np
    from py3langid.langid import MODEL_DIR, MODEL_FILE
    from py3langid.modelio import load_model  # type: ignore[import-untyped]

    cache = _model_cache()
    done = cache / "complete"
    if not done.exists():
        ptc, pc, classes, nextmove, row, output = load_model(MODEL_DIR / MODEL_FILE)
        cache.mkdir(parents=True, exist_ok=True)
        arrays = {
            "ptc": np.asarray(ptc),
            "pc": np.asarray(pc),
            "nextmove": np.frombuffer(nextmove, dtype=f"u{nextmove.itemsize}"),
            "row": np.frombuffer(row, dtype=f"u{row.itemsize}"),
            "output": np.asarray(output, dtype=np.int32),
        }
        for name, array in arrays.items():
            # Written aside and renamed: another process may read it meanwhile.
            temporary = cache / f".{name}.{os.getpid()}.npy"
            np.save(temporary, array)
            os.replace(temporary, cache / f"{name}.npy")
        (cache / "classes.json").write_text(json.dumps(classes), encoding="utf-8")
        done.touch()

    def mapped(name: str) -> Any:
        return np.load(cache / f"{name}.npy", mmap_mode="r")

    # The DFA's tables are read an element at a time by Python code: as
    # memoryviews of the mapping, nearly as fast to index as lists (34 ns
    # rather than 26), and never copied into a worker forked after they are
    # loaded, as lists of int objects are (reading one writes its reference
    # count, and so copies its page): 12 MB per worker that detects a language.
    nextmove = memoryview(mapped("nextmove"))
    row = memoryview(mapped("row"))
    output = memoryview(mapped("output"))
    classes = json.loads((cache / "classes.json").read_text(encoding="utf-8"))
    return mapped("ptc"), np.load(cache / "pc.npy"), classes, nextmove, row, output


@lru_cache(maxsize=256)
def _is_known(name: str) -> bool:
    """A language some resource here knows: a Punkt model, a stemmer or a stop
    list.  Anything else is a typo, a private code or a language we could only
    treat neutrally anyway, so the text is asked instead."""
    return has_sentence_model(name) or not lexicon_for(name).neutral
