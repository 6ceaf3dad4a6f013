"""A source's copies prepared together are prepared as one at a time, to the bit."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.dedup import keys, merge, near
from aggregator.dedup.copies import PreparedCopy
from aggregator.dedup.keys import normalized_words
from aggregator.dedup.merge import prepare_copies, prepare_copy
from aggregator.models import ParsedItem
from tests.dedup import stories as s

WORD = re.compile(r"\w+")


def findall_words(text: str) -> list[str]:
    return WORD.findall(unicodedata.normalize("NFKC", text).casefold())


@settings(max_examples=3000, deadline=None)
@given(st.text())
def test_the_words_of_any_text_are_those_of_the_regular_expression(text: str) -> None:
    assert normalized_words(text) == findall_words(text)


@settings(max_examples=2000, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["harbour", "Opens", "42", "x_y", "it's", " ", ", ", "\n", "\u201c"]),
            st.characters(min_codepoint=0x80),
        ),
        max_size=60,
    ).map("".join)
)
def test_the_words_of_a_latin_text_are_those_of_the_regular_expression(text: str) -> None:
    assert normalized_words(text) == findall_words(text)


def facts(copy: PreparedCopy) -> object:
    if copy.facts is None:
        return (copy.entry_key, copy.content_hash, None)
    f = copy.facts.features
    arrays = [(a.dtype.str, a.tobytes()) for a in (f.body, f.lead, f.head, f.anchors)]
    return (
        copy.item,
        copy.entry_key,
        copy.content_hash,
        copy.facts.canonical_url,
        copy.facts.fingerprint,
        copy.facts.signature,
        copy.facts.bands,
        arrays,
        (f.words, f.shingles, f.title, f.title_marks, f.lead_marks, f.wide_marks),
        f.band_keys(),
    )


TEXTS = [
    s.TEXT,
    s.TRIMMED,
    s.EXTENDED,
    s.WITH_BOILERPLATE,
    s.TEASER,
    s.ENERGY_TEXT,
    "",
    "One",
    "Two words",
    "Three short words",
    "LONDON (Reuters) - " + s.TEXT,
    "By Jane Doe. " + s.TEXT,
    # More shingles than _minhashes hashes in one block.
    " ".join(f"w{n * 7919 % 100_003}" for n in range(9000)),
]


def items() -> list[ParsedItem]:
    made = []
    for n, text in enumerate(TEXTS * 3):
        made.append(
            ParsedItem(
                entry_id=None if n % 4 == 0 else f"id-{n}",
                title=[s.TITLE, s.RETITLED, "", "Analysis: 3 things - The Daily"][n % 4],
                link=[None, f"https://www.example.com/a/{n}/?utm_source=x&b=1"][n % 2],
                published=datetime(2024, 6, 1, n % 24, tzinfo=UTC),
                updated=None,
                content_html="".join(f"<p>{part}</p>" for part in text.split(". ")),
            )
        )
    return made


def test_copies_prepared_together_are_those_prepared_one_at_a_time() -> None:
    all_items = items()
    one_at_a_time = [facts(prepare_copy(item)) for item in all_items]
    for size in (1, 2, 3, 5, 8, len(all_items)):
        together = []
        for start in range(0, len(all_items), size):
            together += [facts(c) for c in prepare_copies(all_items[start : start + size])]
        assert together == one_at_a_time


def test_copies_stored_before_get_no_facts_together_either() -> None:
    all_items = items()[:6]
    first = prepare_copies(all_items)
    stored = {c.entry_key: c.content_hash for c in first[::2]}
    again = prepare_copies(all_items, stored)
    assert [c.facts is None for c in again] == [True, False, True, False, True, False]
    assert [facts(c) for c in again] == [facts(prepare_copy(i, stored)) for i in all_items]
    assert prepare_copies([]) == []


def test_features_made_together_are_those_made_one_at_a_time() -> None:
    titles = [s.TITLE, "", s.ENERGY_TITLE, "x"] * 4
    texts = (TEXTS * 2)[: len(titles)]
    together = near.features_of(titles, texts)
    for title, text, made in zip(titles, texts, together, strict=True):
        alone = near.features(title, text)
        assert near.encode(made) == near.encode(alone)
        assert made.band_keys() == alone.band_keys()
        assert made.body.dtype == np.uint32 and made.lead.dtype == np.uint32
    assert near.band_keys_of(together) == [f.band_keys() for f in together]


HINT_PIECES = [
    *near._BOILERPLATE_HINTS,
    *(hint.upper() for hint in near._BOILERPLATE_HINTS),
    *(hint[1:] for hint in near._BOILERPLATE_HINTS),
    *("read", "ppea", "x", " ", ". ", "\x00", "é", "İ", "\u212a", "’", "日本", "\n", "By "),
    "LONDON (Reuters) - ",
]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.lists(st.one_of(st.sampled_from(HINT_PIECES), st.text(max_size=3)), max_size=40).map(
            "".join
        ),
        min_size=1,
        max_size=30,
    )
)
def test_boilerplate_is_cut_alike_from_many_texts_at_once(texts: list[str]) -> None:
    lowered = [text.lower() for text in texts]
    hints = near._BOILERPLATE_HINTS
    assert near._hinted(lowered) == [any(hint in text for hint in hints) for text in lowered]
    one_at_a_time = [near.strip_boilerplate(text) for text in texts]
    threshold = near._HINTED_FROM
    near._HINTED_FROM = 0  # the hints looked for in all texts at once, however short
    try:
        together = near._strip_boilerplate_all(texts)
    finally:
        near._HINTED_FROM = threshold
    assert together == one_at_a_time
    # The same object where nothing is cut, as features_of tells by it.
    assert [a is b for a, b in zip(together, texts, strict=True)] == [
        a is b for a, b in zip(one_at_a_time, texts, strict=True)
    ]


HOST = st.lists(st.sampled_from(["www.", "WWW.", "Example", "COM", ".", "-", "a", "0"]), min_size=1)
PATH = st.lists(st.sampled_from([*"/aB-._~!$&'()*+,;=:@%?", "//", ".."]))
QUERY = st.lists(
    st.sampled_from(["utm_source=rss", "UTM_Medium=x", "fbclid=1", "a=1", "b=", "c", "&"])
    | st.sampled_from(["=", "==", "z=9", "A=b", "-", "+", "%20", "#", " "])
)


@settings(max_examples=3000, deadline=None)
@given(
    st.sampled_from(["http://", "https://", "HTTP://", "ftp://", " https://"]),
    HOST.map("".join),
    PATH.map("".join),
    st.none() | QUERY.map("".join),
)
def test_canonical_urls_are_those_of_urllib(scheme: str, host: str, path: str, query: str | None):
    url = scheme + host + path + ("" if query is None else "?" + query)
    plain = keys._PLAIN_URL
    keys._PLAIN_URL = re.compile(r"(?!)")  # matches nothing: every URL through urllib
    try:
        expected = keys.canonical_url(url)
    finally:
        keys._PLAIN_URL = plain
    assert keys.canonical_url(url) == expected


def test_copies_prepared_in_runs_are_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    all_items = items()
    whole = [facts(c) for c in prepare_copies(all_items)]
    monkeypatch.setattr(merge, "RUN_CHARS", 3000)  # a run of a few copies, or one long one
    assert [facts(c) for c in prepare_copies(all_items)] == whole
    assert list(merge._runs_of([])) == []
    assert list(merge._runs_of([5000, 1, 2999, 1])) == [(0, 1), (1, 3), (3, 4)]
