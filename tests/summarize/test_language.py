"""Which language a text is summarized in: declared, detected, or the neutral fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.summarize.language import UNDETERMINED, detect_language, resolve_language
from aggregator.summarize.lexicon import lexicon_for

ENGLISH = "The council met on Monday to debate the new transport budget for the city."
FRENCH = "Le conseil municipal s'est réuni lundi pour débattre du nouveau budget des transports."
GERMAN = "Der Stadtrat hat am Montag über den neuen Haushalt für den Verkehr beraten."
RUSSIAN = "Городской совет в понедельник обсудил новый бюджет на транспорт."
UKRAINIAN = "Міська рада в понеділок обговорила новий бюджет на транспорт."


@pytest.mark.parametrize(
    ("text", "code"),
    [(ENGLISH, "en"), (FRENCH, "fr"), (GERMAN, "de"), (RUSSIAN, "ru"), (UKRAINIAN, "uk")],
)
def test_detects_the_language_of_a_sentence(text: str, code: str) -> None:
    assert detect_language(text) == code


def test_detection_reads_html_as_its_text() -> None:
    html = f"<article><h2>Рада</h2><p>{UKRAINIAN}</p><p>{UKRAINIAN}</p></article>"
    assert detect_language(html) == "uk"


def test_detection_ignores_a_pages_head_and_scripts() -> None:
    english = "the quick brown fox jumps over the lazy dog and runs away " * 20
    page = (
        f"<html><head><title>{english}</title><style>p {{ color: red }}</style></head>"
        f"<body><script>var text = '{english}';</script><p>{RUSSIAN}</p></body></html>"
    )
    assert detect_language(page) == "ru"


@pytest.mark.parametrize("text", ["", "   ", "12345 678", "<p>2024</p>", "Hello", "!!!"])
def test_too_little_to_tell_is_none(text: str) -> None:
    assert detect_language(text) is None


def test_detection_is_deterministic() -> None:
    assert {detect_language(FRENCH) for _ in range(5)} == {"fr"}


@pytest.mark.parametrize(
    ("declared", "text", "expected"),
    [
        # A declared language we know is trusted, whatever the text looks like.
        ("en", FRENCH, "english"),
        ("fr-FR", ENGLISH, "french"),
        ("ukr", RUSSIAN, "ukrainian"),
        ("russian", UKRAINIAN, "russian"),
        # Nothing declared, "auto", "und", or a code that names nothing: the text says.
        (None, UKRAINIAN, "ukrainian"),
        ("", RUSSIAN, "russian"),
        ("auto", FRENCH, "french"),
        ("und", GERMAN, "german"),
        ("xx", ENGLISH, "english"),
        ("Klingon", FRENCH, "french"),
        ("../../etc", ENGLISH, "english"),
        # Nothing to go on: the language-neutral fallback.
        (None, "2024", UNDETERMINED),
        ("xx", "", UNDETERMINED),
    ],
)
def test_resolve_language(declared: str | None, text: str, expected: str) -> None:
    assert resolve_language(declared, text) == expected


def test_a_detected_language_without_resources_is_kept_as_its_code() -> None:
    swahili = "Mvua kubwa ilinyesha jijini Nairobi siku ya Jumatatu na barabara nyingi zilifungwa."
    assert resolve_language(None, swahili) == "sw"
    assert lexicon_for("sw").neutral


@pytest.mark.parametrize(
    ("language", "stem_of", "stem", "stop_word"),
    [
        ("english", "running", "run", "the"),
        ("french", "négociations", "négoci", "les"),
        ("russian", "переговоры", "переговор", "и"),  # stop words from the stop-words package
        ("ukrainian", "переговори", "переговор", "і"),
        # Snowball's: sumy's own needs a package not installed, and raised.
        ("greek", "κυβέρνηση", "κυβερνησ", "και"),
    ],
)
def test_each_language_has_its_stemmer_and_stop_words(
    language: str, stem_of: str, stem: str, stop_word: str
) -> None:
    lexicon = lexicon_for(language)
    assert lexicon.stem(stem_of) == stem
    assert stop_word in lexicon.stop_words
    assert not lexicon.neutral


@pytest.mark.parametrize("language", ["und", "tlh", "sw"])
def test_unknown_languages_get_the_neutral_lexicon(language: str) -> None:
    lexicon = lexicon_for(language)
    assert lexicon.neutral
    assert lexicon.stem("words") == "words"
    assert not lexicon.stop_words


def test_the_memory_mapped_model_classifies_exactly_as_the_shipped_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    from aggregator.summarize import language

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    tables = language._mapped_model()  # writes the cache
    assert tables is not None and (language._model_cache() / "complete").exists()
    again = language._mapped_model()  # reads it
    assert again is not None
    mapped = language._mapped_identifier(again)
    # What the walk over a text reads, element by element, is no list of int
    # objects, which a worker forked after loading it would copy as it reads.
    assert not any(
        isinstance(table, list) for table in (mapped._rowbase, mapped.tk_output, mapped.tk_row)
    )
    shipped = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    texts = [
        "The government announced new measures to support farmers on Tuesday.",
        "Le gouvernement a annoncé de nouvelles mesures pour soutenir les agriculteurs.",
        "Уряд оголосив нові заходи підтримки фермерів у вівторок.",
        "Правительство объявило о новых мерах поддержки фермеров.",
        "Die Regierung kündigte neue Maßnahmen zur Unterstützung der Landwirte an.",
        "政府は火曜日に農家を支援する新たな措置を発表した。",
        "12345 !!!",
        "",
    ]
    for text in texts:
        assert mapped.classify(text) == shipped.classify(text), text


def test_every_language_with_a_stemmer_stems_without_raising() -> None:
    """A stemmer that needs a package not installed (sumy's Greek) made every
    summary of its language fail: each one is tried on a word, and where it
    cannot run the language's words are only lower-cased."""
    from aggregator.summarize import lexicon, sumy_adapter

    for language in sorted(lexicon._SNOWBALL | sumy_adapter._SUMY_OWN):
        stemmed = lexicon_for(language).stem("Word")
        assert isinstance(stemmed, str) and stemmed, language


def test_greek_text_is_summarized_through_the_command(tmp_path: Path) -> None:
    from aggregator.cli import main

    text = tmp_path / "el.txt"
    text.write_text(
        "Η κυβέρνηση ανακοίνωσε σήμερα νέα μέτρα για την οικονομία. "
        "Τα μέτρα περιλαμβάνουν μειώσεις φόρων για τις μικρές επιχειρήσεις. "
        "Ο υπουργός Οικονομικών δήλωσε ότι η ανάπτυξη θα συνεχιστεί το επόμενο έτος. "
        "Η αντιπολίτευση επέκρινε το σχέδιο ως ανεπαρκές. "
        "Οι αναλυτές περιμένουν αύξηση των επενδύσεων.\n",
        encoding="utf-8",
    )
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["summarize", str(text), "--language", "el"])
    assert code == 0
    lines = [line for line in out.getvalue().splitlines() if line.strip()]
    assert lines and all(line in text.read_text(encoding="utf-8") for line in lines)


def test_the_lexicon_picks_stemmers_for_the_languages_sumy_does() -> None:
    """lexicon.py restates which languages sumy stems with NLTK's Snowball, and
    sumy_adapter.py which with its own stemmers, so as not to import sumy's
    stemmers (and NLTK); this keeps the restatement true to the sumy installed."""
    import nltk.stem.snowball
    from sumy.nlp.stemmers import Stemmer

    from aggregator.summarize import lexicon, sumy_adapter

    assert frozenset(Stemmer.SPECIAL_STEMMERS) == sumy_adapter._SUMY_OWN
    for language in lexicon._SNOWBALL - {"greek"}:  # Greek: sumy's own, which cannot run
        assert hasattr(nltk.stem.snowball, language.capitalize() + "Stemmer"), language
