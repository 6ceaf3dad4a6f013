from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from aggregator.models import Entry, SectionSummary, SourceRef, Summary
from aggregator.summarize.digest import (
    _candidates,
    _corroborations,
    build_digests,
    select_lines,
    window_start,
)

DAY = timedelta(days=1)


def entry(
    ident: str, sentences: list[str], *, section: str = "World", day: int = 18, hour: int = 9
) -> Entry:
    when = datetime(2024, 11, day, hour, tzinfo=UTC)
    source = SourceRef(
        ident,
        f"Outlet {ident}",
        None,
        f"https://{ident}.example/feed",
        f"https://{ident}.example/story",
    )
    return Entry(
        id=f"urn:{ident}",
        title=f"Story {ident}",
        link=f"https://{ident}.example/story",
        published=when,
        updated=when,
        section=section,
        summary=Summary((SectionSummary(None, tuple(sentences)),)),
        sources=(source,),
        language="en",
    )


SUMMIT = "Leaders of twelve countries met in Brussels to agree on new air defence for Ukraine."
ENTRIES = [
    entry("a", [SUMMIT, "The meeting lasted six hours."]),
    entry(
        "b",
        [
            "Leaders of twelve countries met in Brussels and agreed on air defence for Ukraine.",
            "Several offered short-range systems.",
        ],
    ),
    entry(
        "c",
        ["A new ferry line links Tallinn and Helsinki from Monday.", "Tickets go on sale today."],
    ),
    entry(
        "d",
        [
            "Air defence for Ukraine topped the agenda of the Brussels meeting of leaders.",
            "Officials expect deliveries next year.",
        ],
    ),
]


def test_corroborated_story_comes_first_and_is_not_repeated() -> None:
    lines = select_lines(ENTRIES, 4)
    sentences = [line.sentence for line in lines]
    assert "air defence" in sentences[0].lower()
    # The near-identical copy of the lead in item b is left out.
    summit_like = [s for s in sentences if "twelve countries met in Brussels" in s]
    assert len(summit_like) == 1
    # One sentence per item at most, each linked to its item.
    assert len({line.item_id for line in lines}) == len(lines)
    for line in lines:
        assert line.link == f"https://{line.item_id.removeprefix('urn:')}.example/story"
        assert line.source.startswith("Outlet ")


def test_one_digest_per_section_and_day() -> None:
    entries = [
        *ENTRIES,
        entry("e", ["Markets rose on Tuesday."], day=19),
        entry("f", ["Parliament passed the budget."], section="Europe"),
    ]
    digests = build_digests(entries, window=DAY, sentences=3, page_url="https://d.example/")
    titles = sorted(d.title for d in digests)
    assert titles == [
        "Europe digest, 2024-11-18",
        "World digest, 2024-11-18",
        "World digest, 2024-11-19",
    ]
    world = next(d for d in digests if d.title == "World digest, 2024-11-18")
    assert len(world.digest) == 3
    assert world.published == max(e.published for e in ENTRIES)
    assert world.section == "World" and world.link == "https://d.example/"
    again = build_digests(entries, window=DAY, sentences=3, page_url="https://d.example/")
    assert again == digests  # deterministic, ids included


def test_no_digests_when_turned_off_or_empty() -> None:
    assert build_digests(ENTRIES, window=DAY, sentences=0, page_url="https://d.example/") == []
    assert build_digests([], window=DAY, sentences=5, page_url="https://d.example/") == []


def test_windows_are_utc_aligned() -> None:
    moment = datetime(2024, 11, 18, 23, 30, tzinfo=UTC)
    assert window_start(moment, DAY) == datetime(2024, 11, 18, tzinfo=UTC)
    assert window_start(moment, timedelta(hours=6)) == datetime(2024, 11, 18, 18, tzinfo=UTC)


WORDS = ("council", "budget", "ferry", "ukraine", "defence", "summit", "storm", "court", "vote")


@given(
    st.lists(
        st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=8), max_size=3),
        min_size=1,
        max_size=8,
    )
)
def test_corroboration_is_the_mean_cosine_with_the_other_items_sentences(
    summaries: list[list[list[str]]],
) -> None:
    # Summed over terms for speed, it must be what its definition says:
    # over pairs of sentences of different items.
    entries = [
        entry(str(n), [" ".join(words) + "." for words in sentences])
        for n, sentences in enumerate(summaries)
    ]
    candidates = list(_candidates(entries))
    norms = [math.sqrt(sum(v * v for v in c.terms.values())) or 1.0 for c in candidates]

    def cosine(a: int, b: int) -> float:
        terms_a, terms_b = candidates[a].terms, candidates[b].terms
        dot = sum(count * terms_b.get(term, 0) for term, count in terms_a.items())
        return dot / (norms[a] * norms[b])

    for index, corroboration in enumerate(_corroborations(candidates, norms)):
        others = [j for j, c in enumerate(candidates) if c.item != candidates[index].item]
        expected = sum(cosine(index, j) for j in others) / len(others) if others else 0.0
        assert math.isclose(corroboration, expected, abs_tol=1e-9)
