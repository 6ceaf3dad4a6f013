"""The near-duplicate decider: pure functions over features, no store."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.config import DedupConfig
from aggregator.dedup import near
from tests.dedup import stories as s

HOUR = 3600.0
SETTINGS = DedupConfig()


def match(a: tuple[str, str], b: tuple[str, str], seconds: float = HOUR) -> near.Match | None:
    return near.decide(near.features(*a), near.features(*b), seconds, SETTINGS)


ORIGINAL = (s.TITLE, s.TEXT)


@pytest.mark.parametrize(
    "copy",
    [
        pytest.param((s.RETITLED, s.TEXT), id="edited headline"),
        pytest.param((s.TITLE, s.TRIMMED), id="trimmed"),
        pytest.param((s.TITLE, s.EXTENDED), id="extended"),
        pytest.param((s.TITLE, s.WITH_BOILERPLATE), id="syndication boilerplate"),
        pytest.param((s.RETITLED, s.WITH_BOILERPLATE), id="headline and boilerplate"),
        pytest.param((s.TITLE + " - Harbour Wire", s.TEASER), id="teaser"),
        pytest.param((s.RETITLED, s.TEASER), id="teaser, other headline"),
        pytest.param((s.TITLE + " | Harbour Wire", ""), id="title alone"),
        pytest.param(("Analysis: " + s.TITLE, ""), id="title alone with a kicker"),
    ],
)
def test_copies_are_the_same_story(copy: tuple[str, str]) -> None:
    found = match(ORIGINAL, copy)
    assert found is not None
    assert 0 < found.score <= 1
    assert match(copy, ORIGINAL) is not None  # either may arrive first


@pytest.mark.parametrize(
    "other",
    [
        pytest.param((s.SAME_SUBJECT_TITLE, s.SAME_SUBJECT_TEXT), id="same subject, same day"),
        pytest.param((s.UPDATE_TITLE, s.UPDATE_TEXT), id="an update that is new news"),
        pytest.param((s.SAME_SUBJECT_TITLE, ""), id="same subject, title alone"),
    ],
)
def test_other_stories_are_not(other: tuple[str, str]) -> None:
    assert match(ORIGINAL, other) is None
    assert match(other, ORIGINAL) is None


def test_recurring_items_are_not_merged() -> None:
    assert match(s.MONDAY, s.TUESDAY, seconds=24 * HOUR) is None
    assert match(("Daily briefing for Monday", ""), ("Daily briefing for Tuesday", "")) is None
    # The same day's briefing, carried by a partner, is a copy.
    assert match(s.MONDAY, s.MONDAY, seconds=HOUR) is not None


def test_price_tables_with_other_figures_are_not_merged() -> None:
    def table(day: int, prices: tuple[float, ...]) -> tuple[str, str]:
        rows = " ".join(
            f"{name}: {p:.2f} euros." for name, p in zip("ABCDEFGH", prices, strict=True)
        )
        return "Fuel prices today", f"Prices on June {day} as reported at six. {rows}"

    first = table(3, (1.81, 1.74, 0.92, 1.05, 2.31, 1.12, 0.87, 1.66))
    second = table(4, (1.83, 1.71, 0.95, 1.02, 2.28, 1.15, 0.84, 1.69))
    assert match(first, second, seconds=24 * HOUR) is None


def test_copies_too_far_apart_are_not_compared() -> None:
    assert match(ORIGINAL, (s.RETITLED, s.TEXT), seconds=SETTINGS.window + 1) is None
    # Short copies need to be closer in time than long ones.
    title_alone = (s.TITLE, "")
    assert match(ORIGINAL, title_alone, seconds=SETTINGS.short_window - 1) is not None
    assert match(ORIGINAL, title_alone, seconds=SETTINGS.short_window + 1) is None


def test_thresholds_are_the_configured_ones() -> None:
    strict = DedupConfig(threshold=0.99, title_threshold=0.99)
    edited = s.TEXT.replace("long-debated", "long-awaited").replace("about", "roughly")
    copy = near.features(s.RETITLED, edited.replace("welcomed", "praised"))
    assert near.decide(near.features(*ORIGINAL), copy, HOUR, SETTINGS) is not None
    assert near.decide(near.features(*ORIGINAL), copy, HOUR, strict) is None


def test_evidence_estimates() -> None:
    a = near.features(*ORIGINAL)
    same = near.evidence(a, near.features(*ORIGINAL), 0)
    assert same.text == same.containment == same.lead == same.title == 1.0
    trimmed = near.evidence(a, near.features(s.TITLE, s.TRIMMED), 0)
    assert 0.3 < trimmed.text < 0.75  # about half the text
    assert trimmed.containment > 0.8  # but all of it is in the original
    assert trimmed.lead == 1.0


def test_boilerplate_is_stripped() -> None:
    stripped = near.strip_boilerplate(s.WITH_BOILERPLATE)
    assert stripped == s.TEXT
    assert near.strip_boilerplate("ROTTERDAM (Harbour Wire) - The port...") == "The port..."
    assert near.strip_boilerplate(s.TEXT) == s.TEXT


def test_title_tokens_drop_the_outlet_and_the_kicker() -> None:
    plain = near.title_tokens(s.TITLE)
    assert near.title_tokens(s.TITLE + " - Harbour Wire") == plain
    assert near.title_tokens("Breaking: " + s.TITLE) == plain
    assert "port" in plain and "the" not in plain


def test_encode_decode_round_trip() -> None:
    f = near.features(*ORIGINAL)
    back = near.decode(near.encode(f))
    assert back is not None
    assert back.words == f.words and back.shingles == f.shingles
    for name in ("body", "lead", "head"):
        assert np.array_equal(getattr(back, name), getattr(f, name))
    assert (back.title, back.title_marks, back.lead_marks, back.wide_marks) == (
        f.title,
        f.title_marks,
        f.lead_marks,
        f.wide_marks,
    )
    assert near.decode(b"\x09" + near.encode(f)[1:]) is None  # another format


def test_band_keys_are_stable() -> None:
    """Keys are stored: the same text must give the same keys in every process
    and every version, or the index silently stops finding old copies."""
    keys = near.features(*ORIGINAL).band_keys()
    assert keys[:3] == GOLDEN_LEAD_KEYS  # as before the text's bands and anchors came
    bands = near.LEAD_BANDS
    assert keys[bands : bands + 3] == GOLDEN_BODY_KEYS
    assert keys[2 * bands : 2 * bands + 3] == GOLDEN_ANCHOR_KEYS
    assert all(0 <= key < 2**47 for key in keys)
    families = [key >> 44 for key in keys]
    anchors = len(keys) - 2 * bands - 1
    assert 1 <= anchors <= near.ANCHORS
    assert families == [near.LEAD] * bands + [near.BODY] * bands + [near.ANCHOR] * anchors + [
        near.TITLE
    ]
    # The same headline without text, or from another outlet: the same title key.
    assert near.features(s.TITLE + " - Harbour Wire", "").band_keys() == keys[-1:]
    # A teaser starts like the article: the same lead bands.
    assert near.features(s.RETITLED, s.TEASER).band_keys()[:bands] == keys[:bands]
    # Kept with the copy, the features give its keys again (a re-index needs no text).
    decoded = near.decode(near.encode(near.features(*ORIGINAL)))
    assert decoded is not None and decoded.band_keys() == keys


GOLDEN_LEAD_KEYS = [50967459446914, 41542578067917, 49023336072951]
GOLDEN_BODY_KEYS = [76086881647625, 81623001844965, 84333331109783]
GOLDEN_ANCHOR_KEYS = [87962696357971, 87963869335720, 87961906180224]


def test_an_edited_start_keeps_the_texts_keys_and_anchors() -> None:
    """The issue's copy: the first sentence reworded ("European Union" ->
    "EU", a word dropped), a new headline, an intro or the first sentence
    gone: the lead's bands differ, the text's bands and the anchors stay."""
    original = near.features(*ORIGINAL)
    first, rest = s.TEXT.split(". ", 1)
    reworded = first.replace("on Tuesday", "Tuesday").replace("long-debated", "long-awaited")
    for text in (
        reworded + ". " + rest,
        "Here is what we know so far about the port. " + s.TEXT,
        rest,
    ):
        copy = near.features(s.RETITLED, text)
        shared = [key for key in copy.band_keys() if key in original.band_keys()]
        families = [key >> 44 for key in shared]
        assert families.count(near.LEAD) < 2 and near.TITLE not in families
        assert near.select_candidates([(key, [1]) for key in shared], 16, template=64) == [1]


def test_select_candidates_needs_two_weak_keys_or_a_strong_one() -> None:
    lead = near.LEAD << 44
    title = near.TITLE << 44
    body = near.BODY << 44
    anchor = near.ANCHOR << 44
    hits = [(lead | 1, 7), (title | 4, 7)]  # a lead band and the title
    hits += [(lead | 1, 5), (lead | 2, 5), (lead | 3, 5)]  # three lead bands
    hits += [(title | 1, 9)]  # the title
    hits += [(lead | 9, 4)]  # one lead band: too little
    hits += [(anchor | 9, 3)]  # one anchor: too little
    hits += [(anchor | 1, 2), (lead | 5, 2)]  # an anchor and a lead band
    hits += [(body | 1, 8)]  # a band of the whole text
    by_band: dict[int, list[int]] = {}
    for band, copy_id in hits:
        by_band.setdefault(band, []).append(copy_id)
    assert near.select_candidates(by_band.items(), limit=10, template=64) == [5, 2, 7, 8, 9]
    assert near.select_candidates(by_band.items(), limit=1, template=64) == [5]
    assert near.select_candidates(by_band.items(), limit=None, template=64) == [5, 2, 7, 8, 9]


def test_a_weak_key_under_as_many_copies_as_the_index_gives_is_no_evidence() -> None:
    lead = near.LEAD << 44
    anchor = near.ANCHOR << 44
    title = near.TITLE << 44
    body = near.BODY << 44
    series = list(range(300, 308))
    hits = [
        (anchor | 1, list(range(100, 108))),  # a briefing's phrase, as many as the index gives
        (lead | 1, [100, 101, 200]),
        (anchor | 2, [200]),
        (title | 1, [101]),
        (body | 1, series),  # a band of the whole text counts however many share it
    ]
    # 100: the template and one lead band, one weak key; 200: two; 101: the title.
    assert near.select_candidates(hits, None, template=8) == [101, 200, *series]
    # Under a higher limit the phrase is evidence: 100 has two weak keys.
    assert near.select_candidates(hits, None, template=9) == [101, 100, 200, *series]


def test_a_follow_up_holding_the_whole_story_under_a_new_lead_is_not_a_copy() -> None:
    """However the index finds it, the decision keeps the follow-up apart: its
    text holds all of the first story's, but it starts otherwise."""
    first = near.features(s.ENERGY_TITLE, s.ENERGY_TEXT)
    follow_up = near.features(s.ENERGY_FOLLOW_UP_TITLE, s.ENERGY_FOLLOW_UP_TEXT)
    assert near.evidence(first, follow_up, 0).containment > 0.8
    assert near.decide(first, follow_up, 2 * 24 * HOUR, SETTINGS) is None
    assert near.decide(follow_up, first, 2 * 24 * HOUR, SETTINGS) is None
    # The copy with a reworded first sentence under a new headline is one.
    copy = near.features(s.ENERGY_COPY_TITLE, s.ENERGY_COPY_TEXT)
    assert near.decide(first, copy, HOUR, SETTINGS) is not None
