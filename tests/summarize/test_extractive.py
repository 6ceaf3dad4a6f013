"""The sumy adapter, with real sumy: golden seed summary and the contract of every algorithm.

The golden file was written once by this code (after reading it through) with::

    summarize_html(seed_html(), sentences=2, algorithm="lexrank", language="english")

Regenerate it the same way when SUMMARY_VERSION is bumped on purpose.
"""

from __future__ import annotations

import json
import re
from functools import partial

import pytest

from aggregator.models import Section, SectionSummary, Summary
from aggregator.summarize import (
    ALGORITHMS,
    Summarizer,
    split_sections,
    summarize_html,
    summarize_sections,
    summary_cache_key,
)
from aggregator.summarize.tokenizer import tokenizer_for

from .seed import GOLDEN, SEED_HEADINGS, seed_html

# Sections long enough that every algorithm has to choose.
ENGLISH = (
    Section(
        None,
        (
            "The city council met on Monday to debate the new transport budget. "
            "Buses have been late for months and riders are angry. "
            "The mayor proposed doubling the number of buses on the busiest routes.",
            "Critics said the budget ignores cyclists. "
            "The council will vote on the transport budget next week.",
        ),
    ),
    Section(
        "Reactions",
        (
            "Riders welcomed the plan to add buses. "
            "Shop owners worried about parking. "
            "A cyclists' group called the budget short-sighted. "
            "The bus drivers' union asked for more drivers before more buses.",
        ),
    ),
    Section("Short", ("Only one sentence here.",)),
    Section("Empty", ()),
)

RUSSIAN = Section(
    "Переговоры",
    (
        "Переговоры о поставках оружия возобновились в понедельник. "
        "Министры обсудили поставки ракет и снарядов. "
        "Поставки ракет начнутся весной, сообщили в министерстве. "
        "Журналистов на встречу не пустили.",
    ),
)

UKRAINIAN = Section(
    "Переговори",
    (
        "Переговори про постачання зброї відновилися в понеділок. "
        "Міністри обговорили постачання ракет і снарядів. "
        "Постачання ракет почнеться навесні, повідомили в міністерстві. "
        "Журналістів на зустріч не пустили.",
    ),
)


def sentences_of(section: Section) -> list[str]:
    tokenizer = tokenizer_for("english")
    return [s for p in section.paragraphs for s in tokenizer.to_sentences(p)]


# --- the seed -----------------------------------------------------------------


def test_seed_summary_matches_the_golden_file() -> None:
    expected = Summary.from_json(json.loads(GOLDEN.read_text(encoding="utf-8")))
    summary = summarize_html(seed_html(), sentences=2, algorithm="lexrank", language="english")
    assert summary == expected
    assert [s.heading for s in summary.sections] == [None, *SEED_HEADINGS]


def test_summarize_html_is_split_then_summarize() -> None:
    html = seed_html()
    assert summarize_html(html, sentences=1) == summarize_sections(
        split_sections(html), sentences=1
    )


# --- the contract, for every algorithm ----------------------------------------


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("count", [1, 2])
def test_every_algorithm_keeps_the_contract(algorithm: str, count: int) -> None:
    summary = summarize_sections(ENGLISH, sentences=count, algorithm=algorithm)

    assert [s.heading for s in summary.sections] == [s.heading for s in ENGLISH]
    for section, result in zip(ENGLISH, summary.sections, strict=True):
        original = sentences_of(section)
        assert len(result.sentences) == min(count, len(original))
        # Chosen sentences are the section's own, in the section's order.
        positions = [original.index(s) for s in result.sentences]
        assert positions == sorted(positions)
        assert len(set(positions)) == len(positions)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_short_section_is_shown_whole_and_an_empty_one_is_empty(algorithm: str) -> None:
    summary = summarize_sections(ENGLISH, sentences=2, algorithm=algorithm)
    assert summary.sections[2] == SectionSummary("Short", ("Only one sentence here.",))
    assert summary.sections[3] == SectionSummary("Empty", ())


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_degenerate_sections_still_give_sentences(algorithm: str) -> None:
    # Only stop words (LexRank divides 0 by 0, LSA has no words left), and a
    # sentence repeated: each gives sentences, and none of them twice.
    sections = (
        Section(None, ("it is. it was. he is. and so.",)),
        Section("Twice", ("Same thing. Same thing. Same thing. Other thing here.",)),
    )
    summary = summarize_sections(sections, sentences=2, algorithm=algorithm)
    assert [len(s.sentences) for s in summary.sections] == [2, 2]
    assert summary.sections[1].sentences == ("Same thing.", "Other thing here.")


def test_order_is_the_section_order_not_the_rank_order() -> None:
    section = Section(
        None,
        (
            "Weather was mild. "
            "Officials discussed troops. "
            "A dog barked nearby. "
            "Officials discussed troops and weapons for Ukraine with allies.",
        ),
    )
    original = sentences_of(section)
    reordered = []
    for algorithm in ALGORITHMS:
        [best] = summarize_sections([section], sentences=1, algorithm=algorithm).sections
        [pair] = summarize_sections([section], sentences=2, algorithm=algorithm).sections
        assert set(best.sentences) <= set(pair.sentences)
        positions = [original.index(s) for s in pair.sentences]
        assert positions == sorted(positions)
        if pair.sentences[0] != best.sentences[0]:
            reordered.append(algorithm)
    # The test means something only if some algorithm ranked a later sentence first.
    assert reordered


def test_algorithm_names_are_case_insensitive() -> None:
    assert summarize_sections(ENGLISH, algorithm="LexRank") == summarize_sections(ENGLISH)


def test_unknown_algorithm_is_a_value_error_naming_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="edmundson") as caught:
        summarize_sections(ENGLISH, algorithm="edmundson")
    for name in ALGORITHMS:
        assert re.search(rf"\b{name}\b", str(caught.value))


def test_fewer_than_one_sentence_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="sentences"):
        summarize_sections(ENGLISH, sentences=0)


# --- languages ----------------------------------------------------------------


@pytest.mark.parametrize("language", [None, "xx", "tlh", "Klingon", "!!", "zh-Hant"])
def test_unknown_language_falls_back(language: str | None) -> None:
    summary = summarize_sections(ENGLISH, sentences=1, language=language)
    assert [len(s.sentences) for s in summary.sections] == [1, 1, 1, 0]


@pytest.mark.parametrize(("section", "language"), [(RUSSIAN, "ru"), (UKRAINIAN, "uk")])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_cyrillic_sections_are_summarized(section: Section, language: str, algorithm: str) -> None:
    [result] = summarize_sections(
        [section], sentences=2, algorithm=algorithm, language=language
    ).sections
    sentences = tokenizer_for(language).to_sentences(section.paragraphs[0])
    assert len(sentences) == 4
    assert len(result.sentences) == 2
    assert set(result.sentences) <= set(sentences)


# --- the seam -----------------------------------------------------------------


def test_summarize_sections_fits_the_summarizer_seam() -> None:
    summarizer: Summarizer = partial(summarize_sections, algorithm="luhn", language="en")
    summary = summarizer(ENGLISH, sentences=1)
    assert [s.heading for s in summary.sections] == [s.heading for s in ENGLISH]


# --- cache key ----------------------------------------------------------------


def key(
    html: str = "<p>x</p>",
    sentences: int = 2,
    algorithm: str = "lexrank",
    language: str | None = "english",
) -> str:
    return summary_cache_key(html, sentences=sentences, algorithm=algorithm, language=language)


def test_cache_key_is_a_stable_sha256_hex() -> None:
    assert re.fullmatch(r"[0-9a-f]{64}", key())
    assert key() == key()


@pytest.mark.parametrize(
    "other",
    [
        key(html="<p>y</p>"),
        key(sentences=3),
        key(algorithm="textrank"),
        key(language="french"),
        key(language="xx"),
    ],
)
def test_cache_key_changes_with_each_input(other: str) -> None:
    assert other != key()


def test_cache_key_sees_languages_and_algorithms_as_summarizing_does() -> None:
    # "en" and "english" give the same summary, so they share a stored one.
    assert summary_cache_key("x", language="en") == summary_cache_key("x", language="english")
    assert summary_cache_key("x", algorithm="LSA") == summary_cache_key("x", algorithm="lsa")
    with pytest.raises(ValueError):
        summary_cache_key("x", algorithm="nope")
