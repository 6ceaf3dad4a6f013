"""The Punkt-backed tokenizer that stands in for sumy's NLTK one."""

from __future__ import annotations

import pytest

from aggregator.summarize.tokenizer import PunktTokenizer, language_name, tokenizer_for


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("en", "english"),
        ("en-US", "english"),
        ("EN_gb", "english"),
        ("eng", "english"),
        ("english", "english"),
        ("fr", "french"),
        ("de-AT", "german"),
        ("ru", "russian"),
        ("uk", "ukrainian"),
        ("ukr", "ukrainian"),
        (None, "english"),
        ("", "english"),
        ("xx", "xx"),
        ("Klingon", "klingon"),
        ("../../etc", "und"),
    ],
)
def test_language_name(given: str | None, expected: str) -> None:
    assert language_name(given) == expected


@pytest.mark.parametrize(
    ("language", "model"),
    [("en", "english"), ("fr", "french"), ("ru", "russian"), ("uk", "russian"), ("xx", "english")],
)
def test_each_language_gets_a_model(language: str, model: str) -> None:
    assert PunktTokenizer(language).model_language == model


def test_english_sentences_respect_abbreviations() -> None:
    tokenizer = tokenizer_for("en")
    text = "Dr. Smith met U.S. officials, e.g. the envoy. They talked!  Did it help? Yes."
    assert tokenizer.to_sentences(text) == (
        "Dr. Smith met U.S. officials, e.g. the envoy.",
        "They talked!",
        "Did it help?",
        "Yes.",
    )


def test_russian_text_splits_into_sentences() -> None:
    text = (
        "Переговоры возобновились. В 2024 году поставки выросли! Что будет дальше? Никто не знает."
    )
    assert tokenizer_for("ru").to_sentences(text) == (
        "Переговоры возобновились.",
        "В 2024 году поставки выросли!",
        "Что будет дальше?",
        "Никто не знает.",
    )


def test_ukrainian_text_splits_with_the_russian_model() -> None:
    text = (
        "Зустріч відбулася в Києві, вул. Хрещатик, буд. 1. Сторони домовилися! Що далі? Побачимо."
    )
    tokenizer = tokenizer_for("uk")
    assert tokenizer.language == "ukrainian"
    assert tokenizer.to_sentences(text) == (
        "Зустріч відбулася в Києві, вул. Хрещатик, буд. 1.",
        "Сторони домовилися!",
        "Що далі?",
        "Побачимо.",
    )


def test_unknown_language_falls_back_to_english() -> None:
    tokenizer = tokenizer_for("tlh")
    assert tokenizer.language == "tlh"
    assert tokenizer.to_sentences("One here. Two there.") == ("One here.", "Two there.")


def test_chinese_sentences_split_on_full_width_marks() -> None:
    assert tokenizer_for("zh").to_sentences("这是一支笔。那是一本书。") == (
        "这是一支笔。",
        "那是一本书。",
    )


def test_words_have_no_punctuation() -> None:
    words = tokenizer_for("en").to_words("Trump’s long-range ATACMS — 80% of_them, “quoted”: Кыїв!")
    assert words == ("Trump", "s", "long", "range", "ATACMS", "80", "of", "them", "quoted", "Кыїв")


@pytest.mark.parametrize("text", ["", "   ", "...", "no punctuation at all"])
def test_sentences_are_never_empty(text: str) -> None:
    assert all(s.strip() == s and s for s in tokenizer_for("en").to_sentences(text))


def test_tokenizers_are_cached_per_language() -> None:
    assert tokenizer_for("fr") is tokenizer_for("fr")


def test_russian_abbreviations_do_not_end_sentences() -> None:
    text = (
        "В 1991 г. СССР распался. Т. е. страна перестала существовать. "
        "Проф. Иванов живёт на ул. Ленина, д. 5. Что дальше? Никто не знает!"
    )
    assert tokenizer_for("ru").to_sentences(text) == (
        "В 1991 г. СССР распался.",
        "Т. е. страна перестала существовать.",
        "Проф. Иванов живёт на ул. Ленина, д. 5.",
        "Что дальше?",
        "Никто не знает!",
    )


def test_ukrainian_quotes_and_years() -> None:
    text = "У 2024 р. ціни зросли. «Це лише початок», — сказав міністр. Див. табл. 3 у звіті."
    assert tokenizer_for("uk").to_sentences(text) == (
        "У 2024 р. ціни зросли.",
        "«Це лише початок», — сказав міністр.",
        "Див. табл. 3 у звіті.",
    )


def test_french_sentences_keep_their_guillemets_and_abbreviations() -> None:
    text = (
        "M. Dupont est arrivé à Paris. Il a rencontré le ministre, c.-à-d. son ancien "
        "collègue ! Était-ce prévu ? Personne ne le sait. « C'est fini », a-t-il dit."
    )
    assert tokenizer_for("fr").to_sentences(text) == (
        "M. Dupont est arrivé à Paris.",
        "Il a rencontré le ministre, c.-à-d. son ancien collègue !",
        "Était-ce prévu ?",
        "Personne ne le sait.",
        "« C'est fini », a-t-il dit.",
    )


def test_a_dangling_opening_quote_at_the_very_end_stays_with_its_sentence() -> None:
    assert tokenizer_for("fr").to_sentences("Il est parti. « ") == ("Il est parti. «",)
