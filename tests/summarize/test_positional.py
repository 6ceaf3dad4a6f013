"""The default algorithm, ``positional``: position, density, redundancy, order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.models import Section
from aggregator.summarize import summarize_sections
from aggregator.summarize.document import SectionText, prepare
from aggregator.summarize.lexicon import lexicon_for
from aggregator.summarize.positional import rank_lead, rank_positional
from aggregator.summarize.tokenizer import tokenizer_for


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
    # Position is a prior, not a rule: this is not Lead-N.
    aside = "It was, as many of those who were there would later say, quite a day for all of them."
    key = "Flooding closed the bridge."
    section = (
        aside,
        key,
        "Flooding closed the city bridge for days.",
        "The bridge reopened after the flooding.",
    )
    assert chosen(*section, count=1) == [key]


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
    assert rank_positional(section, 2) == [0, 2]


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
