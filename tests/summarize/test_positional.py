"""The default algorithm, ``positional``: position, density, redundancy, order."""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.models import Section
from aggregator.summarize import positional, summarize_sections
from aggregator.summarize.document import SectionText, prepare
from aggregator.summarize.lexicon import lexicon_for
from aggregator.summarize.positional import (
    PYTHON_MAX_TERMS,
    Tuning,
    _rank_numpy,
    _rank_python,
    rank_lead,
    rank_positional,
)
from aggregator.summarize.sections import split_sections
from aggregator.summarize.tokenizer import tokenizer_for
from tests.conftest import SHARED

Ranking = Callable[..., list[int]]

EVAL = SHARED / "eval" / "summaries-dev.jsonl"


def prepared(*sentences: str) -> SectionText:
    [section] = prepare(
        [Section(None, (" ".join(sentences),))], tokenizer_for("en"), lexicon_for("english")
    )
    assert len(section.sentences) == len(sentences)
    return section


def chosen(*sentences: str, count: int) -> list[str]:
    [result] = summarize_sections([Section(None, (" ".join(sentences),))], sentences=count).sections
    return list(result.sentences)


def test_of_two_equal_sentences_the_earlier_wins() -> None:
    # Sentences 0 and 4 say the same amount about the subject; the earlier one
    # is chosen, whichever of the two texts stands first.
    a = "Flooding closed the main bridge into the city."
    b = "Flooding closed the old bridge near the harbour."
    filler = ("Weather was mild.", "A dog barked.", "Nobody noticed.")
    assert chosen(a, *filler, b, count=1) == [a]
    assert chosen(b, *filler, a, count=1) == [b]


def test_a_much_denser_later_sentence_beats_an_early_aside() -> None:
    # Position is a prior, not a rule: this is not Lead-N (past the lead).
    aside = "It was, as many of those who were there would later say, quite a day for all of them."
    key = "Flooding closed the bridge for weeks."
    section = prepared(
        aside,
        key,
        "Flooding closed the city bridge for days.",
        "The bridge reopened after the flooding.",
    )
    assert rank_positional(section, 1) == [1]
    # Asked for the lead, it takes the aside first all the same, then the key.
    assert rank_positional(section, 2, lead=True) == [0, 1]


def test_near_identical_sentences_are_never_both_chosen() -> None:
    # The lead and its rewording (as a caption or a later paragraph repeats it)
    # are the two densest sentences; the summary takes one and something new.
    lead = "The council approved the new transport budget for the city on Monday."
    again = "The council approved the new transport budget for the city on Monday, officials said."
    other = "Bus fares will not rise this year."
    result = chosen(lead, again, other, "Critics were not convinced.", count=2)
    assert lead in result and again not in result
    assert len(result) == 2


def test_a_rewording_loses_to_a_sentence_with_nothing_new_to_say() -> None:
    # After the lead is chosen, its rewording still adds one new term and the
    # other sentences none; the rewording is blocked all the same.
    section = prepared(
        "Council approves transport budget.",
        "Council approves transport budget, mayor reports.",
        "It was so.",
        "And then it was.",
    )
    # Fragments are allowed here: the test is of the near-duplicate rule.
    assert rank_positional(section, 2, tuning=Tuning(min_words=0)) == [0, 2]


def test_near_duplicates_are_taken_only_when_nothing_else_is_left() -> None:
    section = prepared(
        "The council approved the budget.",
        "The council approved the budget today.",
        "The council approved the budget, again.",
    )
    assert sorted(rank_positional(section, 3)) == [0, 1, 2]


def test_redundancy_each_pick_brings_new_content() -> None:
    # Three sentences about the budget, one about the schools: two picks take
    # one of each, not the two best budget sentences.
    section = prepared(
        "The city budget for transport grows by a tenth.",
        "Transport gets a tenth more in the city budget.",
        "Schools will reopen next week after repairs.",
        "The budget for city transport was approved.",
    )
    picks = rank_positional(section, 2)
    assert picks[0] == 0
    assert 2 in picks


def test_a_fragment_is_taken_only_when_nothing_else_is_left() -> None:
    # "He was 88." is all name and number, the densest sentence; out of
    # context it says nothing.
    section = prepared(
        "The comedian and advertising pioneer Stan Freberg died on Tuesday in Santa Monica.",
        "Freberg was 88.",
        "His campaigns for Chun King and Sunsweet prunes mocked advertising itself.",
    )
    assert rank_positional(section, 2, tuning=Tuning(min_words=0))[1] == 1
    assert rank_positional(section, 2) == [0, 2]
    assert sorted(rank_positional(section, 3)) == [0, 1, 2]


def test_sentences_that_open_on_the_one_before_are_marked() -> None:
    section = prepared(
        "The council approved the new flood barrier for the east bank on Monday.",
        "However, the barrier will cost fourteen million euros.",
        "Engineers said the barrier would take three years to build.",
        "He said work would start in the spring.",
        "In addition, the bank will get new lights.",
    )
    assert section.opens_on_context == (False, True, False, True, True)
    # The first sentence of a section never leans on anything.
    [alone] = prepare(
        [Section(None, ("However, the barrier will cost fourteen million euros.",))],
        tokenizer_for("en"),
        lexicon_for("english"),
    )
    assert alone.opens_on_context == ()


def section_of(terms: tuple[tuple[int, ...], ...], opens: tuple[bool, ...]) -> SectionText:
    """Sentences of six words each, of these term ids."""
    names = tuple(f"s{i}" for i in range(len(terms)))
    return SectionText(None, names, (len(terms),), terms, tuple(6 for _ in terms), opens)


@pytest.mark.parametrize("rank", [_rank_python, _rank_numpy])
def test_a_sentence_leaning_on_one_left_out_must_say_more(rank: Ranking) -> None:
    # After the lead, sentence 2 is the densest; it opens on sentence 1
    # ("However, ..."), which is weak and left out.  Without the rule it is
    # taken out of its context; with it, sentence 3 says nearly as much alone.
    section = section_of(((0, 1), (2,), (3, 4, 7), (3, 5, 6)), (False, False, True, False))
    assert rank(section, 2, lead=True, tuning=Tuning(opener_weight=1.0)) == [0, 2]
    assert rank(section, 2, lead=True) == [0, 3]


@pytest.mark.parametrize("rank", [_rank_python, _rank_numpy])
def test_once_its_context_is_chosen_a_leaning_sentence_weighs_in_full(rank: Ranking) -> None:
    # Sentence 2 opens on sentence 1.  Without the rule: 0, 2 (dangling),
    # then 3.  With it, 1 wins round two, and then 2 weighs in full again and
    # beats 3, which it would not at OPENER_WEIGHT.
    section = section_of(((0,), (1, 1, 2), (1, 1, 3, 3), (4, 5)), (False, False, True, False))
    assert rank(section, 3, lead=True, tuning=Tuning(opener_weight=1.0)) == [0, 2, 3]
    assert rank(section, 3, lead=True) == [0, 1, 2]


def test_with_lead_the_first_sentence_comes_first() -> None:
    section = prepared(
        "It was, as many of those who were there would later say, quite a day for them.",
        "Flooding closed the bridge into the city for three weeks.",
        "Flooding closed the city bridge for days on end.",
    )
    assert rank_positional(section, 1) != [0]
    assert rank_positional(section, 1, lead=True) == [0]
    assert rank_positional(section, 0, lead=True) == []


def test_only_stop_words_means_the_opening() -> None:
    section = prepared("It is.", "It was.", "He is.", "And so.")
    assert rank_positional(section, 2) == [0, 1]


def test_lead_is_the_opening() -> None:
    section = prepared("One here.", "Two there.", "Three again.")
    assert rank_lead(section, 2) == [0, 1]
    assert rank_lead(section, 5) == [0, 1, 2]


# Content words and stop words.
VOCABULARY = [
    *("council", "budget", "bus", "city", "flood", "bridge", "school", "vote", "mayor"),
    *("rain", "road", "fare", "it", "the", "and"),
]
words = st.sampled_from(VOCABULARY)
sentence = st.lists(words, min_size=1, max_size=12).map(lambda w: " ".join(w).capitalize() + ".")


@settings(max_examples=60, deadline=None)
@given(st.lists(sentence, min_size=1, max_size=15), st.integers(1, 6))
def test_choices_are_distinct_sentences_in_section_order(sentences: list[str], count: int) -> None:
    [result] = summarize_sections([Section("H", (" ".join(sentences),))], sentences=count).sections
    [section] = prepare(
        [Section("H", (" ".join(sentences),))], tokenizer_for("en"), lexicon_for("english")
    )
    positions = [section.sentences.index(s) for s in result.sentences]
    assert positions == sorted(set(positions))
    assert len(positions) == min(count, len(section.sentences))


# The two implementations of rank_positional (plain Python for short sections,
# numpy for long ones) must choose the same sentences, bit for bit: a summary
# must not change with the length of its section's neighbour or a threshold.


@st.composite
def section_texts(draw: st.DrawFn) -> SectionText:
    """Term ids from a small vocabulary, so sentences share terms; rewordings
    of earlier sentences (the same terms, one more or one fewer, reordered) to
    set off the near-duplicate test; an earlier sentence said two or three
    times over, with as many words, whose density is the same in exact
    arithmetic and may or may not be in floating point; sentences without
    terms and word counts of 0, whose scores tie at 0.0; and sometimes more
    sentences than the 64 priors kept ready."""
    vocabulary = draw(st.integers(1, 40))
    offset = draw(st.sampled_from([0, 300]))  # ids of a later section of the item
    term = st.integers(offset, offset + vocabulary - 1)
    total = draw(st.integers(0, 16) | st.integers(17, 70))
    terms: list[tuple[int, ...]] = []
    for _ in range(total):
        if draw(st.booleans()) and terms:
            words = list(draw(st.sampled_from(terms)))
            edit = draw(st.sampled_from(["same", "add", "drop", "shuffle", "repeat"]))
            if edit == "add":
                words.insert(draw(st.integers(0, len(words))), draw(term))
            elif edit == "drop" and words:
                del words[draw(st.integers(0, len(words) - 1))]
            elif edit == "shuffle":
                words = draw(st.permutations(words))
            elif edit == "repeat":
                words *= draw(st.integers(2, 3))
            terms.append(tuple(words))
        else:
            terms.append(tuple(draw(st.lists(term, max_size=12))))
    # As many words as terms (no stop words) often, so that densities meet.
    word_counts = tuple(
        draw(st.sampled_from([0, len(t)]) | st.integers(len(t), len(t) + 8)) for t in terms
    )
    # Some sentences open on the one before (never the first).
    opens = tuple(i > 0 and draw(st.booleans()) for i in range(total))
    return SectionText(
        None,
        tuple(f"Sentence {i}." for i in range(total)),
        (total,) if total else (),
        tuple(terms),
        word_counts,
        opens if any(opens) else (),
    )


@settings(max_examples=400, deadline=None)
@given(section_texts(), st.booleans())
def test_python_and_numpy_rankings_choose_the_same(section: SectionText, lead: bool) -> None:
    for count in range(8):
        expected = _rank_numpy(section, count, lead=lead)
        assert _rank_python(section, count, lead=lead) == expected
        assert rank_positional(section, count, lead=lead) == expected


@st.composite
def close_calls(draw: st.DrawFn) -> SectionText:
    """Two to four sentences of a few terms out of five, or an earlier sentence
    said two to four times over, with as many words as terms: sums that are
    equal in exact arithmetic (1/2 + 1/3 + 1/3 and 1/2 + 1/2 + 1/6, or a
    sentence and its repetition) come often, and only rounding tells them apart."""
    terms: list[tuple[int, ...]] = []
    for _ in range(draw(st.integers(2, 4))):
        if draw(st.booleans()) and terms:
            terms.append(draw(st.sampled_from(terms)) * draw(st.integers(2, 4)))
        else:
            terms.append(tuple(draw(st.lists(st.integers(0, 4), min_size=1, max_size=4))))
    return SectionText(
        None, tuple(map(str, terms)), (len(terms),), tuple(terms), tuple(map(len, terms))
    )


# With the real priors (all different) two scores almost never come within a
# rounding error of each other; with priors of two values, equal sums decide
# many rounds, so any other order of operations in one implementation
# (w * (p / n), a compensated sum) shows.
two_priors = st.lists(st.sampled_from([1.0, 0.1]), min_size=64, max_size=64)


@settings(max_examples=400, deadline=None)
@given(close_calls(), two_priors)
def test_python_and_numpy_agree_where_rounding_decides(
    section: SectionText, priors: list[float]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(positional, "_PRIORS", np.array(priors))
        patch.setattr(positional, "_PRIOR_VALUES", priors)
        for count in range(1, 5):
            assert _rank_python(section, count) == _rank_numpy(section, count)


@pytest.mark.parametrize(
    ("terms", "priors", "count", "expected"),
    [
        # 1/2 + 1/3 + 1/3 and 1/2 + 1/2 + 1/6, three words each: numpy's
        # densities tie and the first wins; weight * (prior / words) would
        # make the second win.
        (((1, 0, 0), (1, 1, 2)), (0.1, 0.1), 1, [0]),
        # A sentence and itself three times over, with as many words: added
        # in order, the longer sum comes out one unit in the last place
        # higher and the second wins; compensated sums (math.fsum) would tie.
        (((1, 0, 0), (1, 0, 0) * 3, (0,)), (1.0, 1.0, 0.75), 1, [1]),
    ],
)
def test_sums_equal_in_exact_arithmetic_are_rounded_as_numpy_rounds_them(
    terms: tuple[tuple[int, ...], ...], priors: tuple[float, ...], count: int, expected: list[int]
) -> None:
    section = SectionText(
        None, tuple(map(str, terms)), (len(terms),), terms, tuple(len(t) for t in terms)
    )
    values = [*priors, *[1.0] * (64 - len(priors))]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(positional, "_PRIORS", np.array(values))
        patch.setattr(positional, "_PRIOR_VALUES", values)
        assert _rank_numpy(section, count) == expected
        assert _rank_python(section, count) == expected


def test_a_cosine_of_exactly_near_duplicate_blocks() -> None:
    # 4 terms shared of 5 and 5: 4 / sqrt(5 * 5) rounds to the double nearest
    # 0.8, which is NEAR_DUPLICATE, so sentence 1 is blocked and the weaker
    # sentence 2 is taken.
    terms = ((0, 1, 2, 3, 4), (0, 1, 2, 3, 5), (6,))
    section = SectionText(None, ("a", "b", "c"), (3,), terms, (6, 6, 6))
    assert _rank_numpy(section, 2) == [0, 2]
    assert _rank_python(section, 2) == [0, 2]


def test_long_sections_are_ranked_by_numpy_the_same() -> None:
    # Past the threshold the dispatch takes the numpy path; both still agree.
    terms = tuple(tuple((7 * i + j) % 50 for j in range(12)) for i in range(90))
    section = SectionText(None, tuple(map(str, range(90))), (90,), terms, tuple(15 for _ in terms))
    assert sum(map(len, terms)) >= PYTHON_MAX_TERMS
    for count in (1, 3, 6):
        assert rank_positional(section, count) == _rank_python(section, count)
        assert rank_positional(section, count) == _rank_numpy(section, count)


@pytest.mark.skipif(not EVAL.is_file(), reason="no shared evaluation set here")
def test_python_and_numpy_rankings_agree_on_news_articles() -> None:
    rows = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line]
    tokenizer, lexicon = tokenizer_for("english"), lexicon_for("english")
    compared = 0
    for row in rows:
        for section in prepare(split_sections(row["article"]), tokenizer, lexicon):
            for count in range(1, 7):
                expected = _rank_numpy(section, count)
                assert _rank_python(section, count) == expected, (row["id"], count)
                assert rank_positional(section, count) == expected, (row["id"], count)
                compared += 1
    assert compared >= 600
