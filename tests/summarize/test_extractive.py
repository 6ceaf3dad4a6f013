"""summarize_sections/summarize_html with every algorithm: golden seed summary,
the contract each algorithm keeps, budgets, languages and the cache key.

The golden file was written by this code (after reading it through) with::

    summarize_html(seed_html(), sentences=1)

that is, the default algorithm and the detected language; at one sentence
every section of the seed needs a choice.  Regenerate it the same way when
the default changes on purpose, and read the diff.
"""

from __future__ import annotations

import json
import re
from functools import partial
from pathlib import Path

import pytest

from aggregator.models import Section, SectionSummary, Summary
from aggregator.summarize import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    Summarizer,
    split_sections,
    summarize_html,
    summarize_sections,
    summary_cache_key,
)
from aggregator.summarize.extractive import SHORT_ARTICLE_WORDS, allot, sentence_budget
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

LONG_SECTION = (
    "The storm reached the coast on Tuesday night. "
    "Officials ordered the evacuation of three coastal towns before the storm arrived. "
    "A spokesman said the storm was the strongest in a decade. "
    "Schools stayed closed across the region on Wednesday. "
    "Fishermen had pulled their boats ashore days earlier. "
    "The evacuation of the coastal towns went smoothly, officials said on Wednesday, "
    "and the storm left the towns with little damage."
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


FRENCH = Section(
    "Négociations",
    (
        "Les négociations sur les livraisons d'armes ont repris lundi à Paris. "
        "Les ministres ont discuté des livraisons de missiles et d'obus. "
        "Les livraisons de missiles commenceront au printemps, selon le ministère. "
        "Les journalistes n'ont pas été admis à la réunion.",
    ),
)


def sentences_of(section: Section) -> list[str]:
    tokenizer = tokenizer_for("english")
    return [s for p in section.paragraphs for s in tokenizer.to_sentences(p)]


# --- the seed -----------------------------------------------------------------


def test_seed_summary_matches_the_golden_file() -> None:
    expected = Summary.from_json(json.loads(GOLDEN.read_text(encoding="utf-8")))
    summary = summarize_html(seed_html(), sentences=1)
    assert summary == expected
    assert [s.heading for s in summary.sections] == [None, *SEED_HEADINGS]
    assert summary == summarize_html(
        seed_html(), sentences=1, algorithm=DEFAULT_ALGORITHM, language="en"
    )


def words_of(texts: list[str]) -> int:
    return sum(len(t.split()) for t in texts)


def test_the_seed_with_default_settings_is_visibly_a_summary() -> None:
    # Six sections of two sentences, two key sentences a section by default:
    # before, every sentence was kept.  Now each section keeps its heading
    # and its key sentence, and the summary at most half of the words.
    sections = split_sections(seed_html())
    summary = summarize_sections(sections)
    article = [s for section in sections for s in sentences_of(section)]
    kept = [s for section in summary.sections for s in section.sentences]
    assert [s.heading for s in summary.sections] == [None, *SEED_HEADINGS]
    assert all(len(section.sentences) >= 1 for section in summary.sections)
    assert words_of(kept) <= words_of(article) / 2
    assert kept[0] == article[0]  # the lead first


def test_a_short_item_is_not_cut_to_a_share() -> None:
    # Three sentences of 20 words: a short news item keeps its two key
    # sentences, two thirds of it.
    item = [Section(None, tuple(sentence_text(20, f"topic{i}") for i in range(3)))]
    assert SHORT_ARTICLE_WORDS >= 60
    [section] = summarize_sections(item, sentences=2).sections
    assert len(section.sentences) == 2


def test_a_long_article_keeps_about_a_third_of_its_words() -> None:
    # Nine sections of five 12-word sentences (540 words), up to 4 a section:
    # a first sentence each (108 words), then second ones while within 180.
    sections = [
        Section(f"Part {i}", tuple(sentence_text(12, f"t{i}x{j}") for j in range(5)))
        for i in range(9)
    ]
    summary = summarize_sections(sections, sentences=4)
    counts = [len(s.sentences) for s in summary.sections]
    assert counts == [2, 2, 2, 2, 2, 2, 1, 1, 1]
    assert words_of([s for sec in summary.sections for s in sec.sentences]) <= 540 / 3


def test_lead_n_is_never_cut() -> None:
    sections = [Section(None, tuple(sentence_text(30, f"t{j}") for j in range(10)))]
    [section] = summarize_sections(sections, sentences=5, algorithm="lead").sections
    assert len(section.sentences) == 5  # 150 of 300 words: over a third, all the same


@pytest.mark.parametrize(
    ("choices", "allowance", "expected"),
    [
        # Every section's best, whatever the allowance.
        (([0, 1], [2, 0]), 0, [[0], [2]]),
        # Round by round: both second-bests fit (10 + 10 + 10 + 10 <= 40).
        (([0, 1], [2, 0]), 40, [[0, 1], [2, 0]]),
        # The first section's second-best fits, the second's does not.
        (([0, 1], [2, 0]), 35, [[0, 1], [2]]),
        # A section that stopped does not take a later, shorter sentence.
        (([0, 3, 2], []), 22, [[0], []]),
    ],
)
def test_allot(choices: tuple[list[int], ...], allowance: float, expected: list[list[int]]) -> None:
    word_counts = [[10, 10, 5, 20], [10, 10, 10]]
    assert allot(choices, word_counts, allowance) == expected


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
    assert summarize_sections(ENGLISH, algorithm="LexRank") == summarize_sections(
        ENGLISH, algorithm="lexrank"
    )
    assert summarize_sections(ENGLISH, algorithm=" Positional ") == summarize_sections(ENGLISH)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_each_algorithm_is_selectable_and_makes_its_own_choice(algorithm: str) -> None:
    # Six sentences, one to choose: the algorithms do not all agree, so the
    # name really picks the algorithm (not one implementation under many names).
    section = Section(None, (LONG_SECTION,))
    chosen = {
        name: summarize_sections([section], sentences=1, algorithm=name).sections[0].sentences
        for name in ALGORITHMS
    }
    assert len(chosen[algorithm]) == 1
    assert len(set(chosen.values())) >= 3


def test_unknown_algorithm_is_a_value_error_naming_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="nope") as caught:
        summarize_sections(ENGLISH, algorithm="nope")
    for name in ALGORITHMS:
        assert re.search(rf"\b{name}\b", str(caught.value))


@pytest.mark.parametrize(
    "settings",
    [{"sentences": 0}, {"sentences": 3, "max_sentences": 2}, {"words_per_sentence": 0}],
)
def test_impossible_lengths_are_value_errors(settings: dict[str, int]) -> None:
    with pytest.raises(ValueError, match="sentence"):
        summarize_sections(ENGLISH, **settings)  # type: ignore[arg-type]


# --- languages ----------------------------------------------------------------


@pytest.mark.parametrize("language", [None, "xx", "tlh", "Klingon", "!!", "zh-Hant", "sw"])
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_unknown_language_falls_back(language: str | None, algorithm: str) -> None:
    summary = summarize_sections(ENGLISH, sentences=1, language=language, algorithm=algorithm)
    assert [len(s.sentences) for s in summary.sections] == [1, 1, 1, 0]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_text_in_a_language_without_resources_is_summarized(algorithm: str) -> None:
    # Swahili: no sentence model, stemmer or stop list here; neutral fallback.
    section = Section(
        None,
        (
            "Mvua kubwa ilinyesha jijini Nairobi siku ya Jumatatu. "
            "Barabara nyingi zilifungwa kwa sababu ya mafuriko. "
            "Serikali ilisema shule zitafunguliwa tena Jumatano. "
            "Wakazi waliombwa kukaa nyumbani.",
        ),
    )
    [result] = summarize_sections([section], sentences=2, algorithm=algorithm).sections
    assert len(result.sentences) == 2


@pytest.mark.parametrize(
    ("section", "language"), [(RUSSIAN, "ru"), (UKRAINIAN, "uk"), (FRENCH, "fr")]
)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("declared", [True, False])
def test_russian_ukrainian_and_french_sections_are_summarized(
    section: Section, language: str, algorithm: str, declared: bool
) -> None:
    [result] = summarize_sections(
        [section], sentences=2, algorithm=algorithm, language=language if declared else None
    ).sections
    sentences = tokenizer_for(language).to_sentences(section.paragraphs[0])
    assert len(sentences) == 4
    assert len(result.sentences) == 2
    assert set(result.sentences) <= set(sentences)


@pytest.mark.parametrize(
    ("section", "language"), [(RUSSIAN, "ru"), (UKRAINIAN, "uk"), (FRENCH, "fr")]
)
def test_the_default_picks_the_sentences_on_the_subject(section: Section, language: str) -> None:
    # The first two sentences say what happened and both carry the section's
    # repeated terms (supplies, missiles); the last is an aside.
    [result] = summarize_sections([section], sentences=2, language=language).sections
    sentences = tokenizer_for(language).to_sentences(section.paragraphs[0])
    assert sentences[3] not in result.sentences


# --- length ---------------------------------------------------------------------


def sentence_text(words: int, topic: str) -> str:
    """A sentence of exactly ``words`` words."""
    return " ".join([topic.capitalize(), *["word"] * (words - 2), "end."])


def test_long_sections_get_more_sentences_within_bounds() -> None:
    # 30 sentences of 10 words: 300 words.
    section = Section("Long", tuple(sentence_text(10, f"topic{i}") for i in range(30)))
    short = Section("Short", tuple(sentence_text(10, f"short{i}") for i in range(5)))

    def counts(**settings: int) -> list[int]:
        summary = summarize_sections([section, short], sentences=2, **settings)  # type: ignore[arg-type]
        return [len(s.sentences) for s in summary.sections]

    assert counts() == [2, 2]  # no max_sentences: exactly `sentences`
    assert counts(max_sentences=4, words_per_sentence=100) == [3, 2]  # 300 / 100
    assert counts(max_sentences=4, words_per_sentence=50) == [4, 2]  # 6, capped at 4
    assert counts(max_sentences=8, words_per_sentence=1000) == [2, 2]  # never below `sentences`


@pytest.mark.parametrize(("words", "expected"), [(0, 2), (299, 2), (300, 3), (450, 4), (10_000, 5)])
def test_sentence_budget(words: int, expected: int) -> None:
    assert sentence_budget(words, 2, 5, 100) == expected


def test_sections_and_their_sentences_keep_their_order() -> None:
    sections = [
        Section(f"Part {i}", tuple(sentence_text(9, f"t{i}x{j}") for j in range(6)))
        for i in range(4)
    ]
    summary = summarize_sections(sections, sentences=3)
    assert [s.heading for s in summary.sections] == [s.heading for s in sections]
    for section, result in zip(sections, summary.sections, strict=True):
        positions = [section.paragraphs.index(s) for s in result.sentences]
        # 216 words: the summary keeps a third (72), two sentences a section.
        assert positions == sorted(positions) and len(positions) == 2


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
    max_sentences: int | None = None,
    words_per_sentence: int = 150,
) -> str:
    return summary_cache_key(
        html,
        sentences=sentences,
        algorithm=algorithm,
        language=language,
        max_sentences=max_sentences,
        words_per_sentence=words_per_sentence,
    )


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
        key(language="ukrainian"),
        key(max_sentences=4),
        key(max_sentences=4, words_per_sentence=50),
    ],
)
def test_cache_key_changes_with_each_input(other: str) -> None:
    assert other != key()


def test_cache_key_sees_languages_and_algorithms_as_summarizing_does() -> None:
    # "en" and "english" give the same summary, so they share a stored one.
    assert summary_cache_key("x", language="en") == summary_cache_key("x", language="english")
    assert summary_cache_key("x", algorithm="LSA") == summary_cache_key("x", algorithm="lsa")
    # The length settings count only as far as they change a summary.
    assert key(max_sentences=2, words_per_sentence=10) == key()
    with pytest.raises(ValueError):
        summary_cache_key("x", algorithm="nope")


def test_cache_key_holds_the_resolved_language() -> None:
    english = "<p>The council met on Monday to debate the transport budget for next year.</p>"
    french = "<p>Le conseil s'est réuni lundi pour débattre du budget des transports.</p>"
    # Undeclared (or unknown) text is keyed by the language it turns out to be in...
    assert key(english, language=None) == key(english, language="en")
    assert key(english, language="auto") == key(english, language="english")
    assert key(english, language="xx") == key(english, language="en")
    assert key(french, language=None) == key(french, language="fr")
    # ...and a declared language is trusted, whatever the text looks like.
    assert key(english, language="fr") != key(english, language="en")


def test_summary_and_key_resolve_the_same_language() -> None:
    ukrainian = "<p>" + UKRAINIAN.paragraphs[0] + "</p>"
    assert summarize_html(ukrainian, sentences=2) == summarize_html(
        ukrainian, sentences=2, language="uk"
    )
    assert key(ukrainian, language=None) == key(ukrainian, language="ukrainian")


def test_lsa_chooses_the_same_sentences_whatever_the_hash_seed(tmp_path: Path) -> None:
    """sumy numbered LSA's terms in a frozenset's order, which changes with
    each process's hash seed, and with near ties so did the sentences chosen:
    a cached summary would not be the one computed again.  Twelve sentences
    of six words from twenty tie often."""
    import os
    import random
    import subprocess
    import sys

    words = [
        "market",
        "government",
        "minister",
        "bank",
        "policy",
        "trade",
        "election",
        "court",
        "police",
        "report",
        "water",
        "energy",
        "school",
        "health",
        "city",
        "union",
        "price",
        "farmers",
        "river",
        "storm",
    ]
    rng = random.Random(0)
    sentences = [" ".join(rng.sample(words, 6)).capitalize() + "." for _ in range(12)]
    text = tmp_path / "ties.txt"
    text.write_text(" ".join(sentences) + "\n", encoding="utf-8")
    chosen = set()
    for seed in ("0", "1", "2", "3"):
        run = subprocess.run(
            [sys.executable, "-m", "aggregator.cli", "summarize", str(text), "--algorithm", "lsa"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        assert run.stdout.strip()
        chosen.add(run.stdout)
    assert len(chosen) == 1, chosen
