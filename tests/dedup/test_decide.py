"""The pure decision per copy: what the store knew (a hand-made ForMerge) in,
the outcome and the writes out.  No store: each look-up answer is written here."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from aggregator.config import DedupConfig
from aggregator.dedup import near
from aggregator.dedup.decide import CANDIDATES, ForMerge, MergeDecider, Outcome
from aggregator.dedup.keys import content_hash, entry_key, entry_uuid
from aggregator.dedup.merge import PreparedCopy, copy_facts
from aggregator.models import ParsedItem
from aggregator.store.index import BAND_HITS_LIMIT, BandHits, Candidate, IndexedCopy
from aggregator.store.items import PENDING, CopyForMerge, CopyRecord, ItemMatch
from tests.dedup import stories as s
from tests.dedup.test_templates import OPENING, issue

T0 = datetime(2024, 6, 4, 8, 0, tzinfo=UTC)
WHEN = T0 + timedelta(hours=1)
SOURCE = "harbour"


def copy(
    n: str, title: str = s.TITLE, text: str = s.TEXT, *, link: str | None = None, at: datetime = T0
) -> PreparedCopy:
    item = ParsedItem(
        entry_id=n,
        title=title,
        link=link or f"https://{SOURCE}.example/{n}",
        published=at,
        updated=None,
        content_html=f"<p>{text}</p>",
    )
    return PreparedCopy(item, entry_key(item), content_hash(item), copy_facts(item, text))


def indexed(
    copy_id: int,
    item_id: int,
    title: str = s.TITLE,
    text: str = s.TEXT,
    *,
    source: str = "wire",
    at: datetime = T0,
    shown: bool = True,
    method: str = "first",
) -> IndexedCopy:
    prepared = copy(f"stored-{copy_id}", title, text, at=at)
    assert prepared.facts is not None
    return IndexedCopy(
        source=source,
        entry_key=prepared.entry_key,
        item_id=item_id,
        title=title,
        at=at,
        signature=prepared.facts.signature,
        bands=prepared.facts.bands,
        method=method,
        shown=shown,
        id=copy_id,
    )


def stored(
    item_id: int, content_hash: str, *, is_lead: bool, index: IndexedCopy | None
) -> CopyForMerge:
    return CopyForMerge(CopyRecord(item_id, content_hash, is_lead), None, None, index)


def found(**answers: object) -> ForMerge:
    empty: dict[str, object] = {
        "copies": {},
        "tracked_items": {},
        "tracked_copies": {},
        "by_url": {},
        "by_fingerprint": {},
        "hits": {},
        "candidates": {},
        "shown": {},
    }
    return ForMerge(**{**empty, **answers})  # type: ignore[arg-type]


def hits_to(new: PreparedCopy, *others: IndexedCopy) -> dict[str, list[BandHits]]:
    """The index's answer for ``new``: each of ``others`` under every band it shares."""
    assert new.facts is not None
    hits = []
    for band in dict.fromkeys(new.facts.bands):
        under = [other for other in others if band in other.bands]
        if under:
            ids = [other.id for other in under]
            hits.append(BandHits(band, ids, [int(other.at.timestamp()) for other in under]))
    return {new.entry_key: hits}


def decider(answers: ForMerge | None = None, lead: str = "earliest") -> MergeDecider:
    return MergeDecider(SOURCE, "News", answers or found(), WHEN, DedupConfig(lead=lead))


# -- a copy the source stored before ------------------------------------------


def test_a_copy_that_says_the_same_writes_nothing() -> None:
    same = copy("a")
    d = decider(
        found(copies={same.entry_key: stored(7, same.content_hash, is_lead=True, index=None)})
    )
    assert d.decide(same) == (Outcome.UNCHANGED, 7)
    assert d.intent().steps == ()


def test_an_updated_lead_copy_rewrites_its_item_and_keeps_how_it_joined() -> None:
    before = indexed(40, 7, source=SOURCE, method="first")
    edited = copy("a", s.RETITLED)
    d = decider(found(copies={edited.entry_key: stored(7, "old", is_lead=True, index=before)}))
    assert d.decide(edited) == (Outcome.UPDATED, 7)
    (step,) = d.intent().steps
    assert step.rewrite is not None and step.rewrite.title == s.RETITLED
    assert step.retext is None and step.insert is None and not step.show
    assert step.replacing == before and step.index.title == s.RETITLED
    assert (step.index.item_id, step.index.method, step.index.shown) == (7, "first", True)


def test_an_updated_copy_that_does_not_lead_changes_what_the_item_shows_only_if_shown() -> None:
    edited = copy("a", s.RETITLED)
    hidden = indexed(40, 7, source=SOURCE, shown=False, method="near-duplicate")
    d = decider(found(copies={edited.entry_key: stored(7, "old", is_lead=False, index=hidden)}))
    assert d.decide(edited) == (Outcome.UPDATED, 7)
    (step,) = d.intent().steps
    assert step.rewrite is None and step.retext is None
    assert (step.index.method, step.index.shown) == ("near-duplicate", False)

    shown = replace(hidden, shown=True)  # shown by dedup.lead: complete
    d = decider(found(copies={edited.entry_key: stored(7, "old", is_lead=False, index=shown)}))
    d.decide(edited)
    (step,) = d.intent().steps
    assert step.rewrite is None and step.retext is not None and step.retext.title == s.RETITLED


def test_a_copy_stored_before_the_index_is_indexed_shown_if_it_leads() -> None:
    edited = copy("a", s.RETITLED)
    for is_lead in (True, False):
        d = decider(found(copies={edited.entry_key: stored(7, "old", is_lead=is_lead, index=None)}))
        d.decide(edited)
        (step,) = d.intent().steps
        assert step.replacing is None and step.index.shown is is_lead


# -- a copy the source never stored ---------------------------------------------


def test_a_story_seen_nowhere_is_a_new_item_led_by_the_copy() -> None:
    new = copy("a")
    d = decider()
    assert d.decide(new) == (Outcome.NEW, PENDING)
    (step,) = d.intent().steps
    assert step.insert is not None and step.insert.uid == entry_uuid(SOURCE, new.entry_key)
    assert step.insert.item.title == s.TITLE
    assert (step.item_id, step.index.item_id, step.index.shown) == (PENDING, PENDING, True)
    assert step.index.method == "first"


def test_a_copy_at_a_known_address_joins_its_item() -> None:
    new = copy("a", "Other words", "Short", link="https://a.example/story?utm_source=x")
    assert new.facts is not None and new.facts.canonical_url == "https://a.example/story"
    d = decider(found(by_url={new.facts.canonical_url: ItemMatch(3, has_source=False)}))
    assert d.decide(new) == (Outcome.MERGED, 3)
    (step,) = d.intent().steps
    assert step.insert is None and step.rewrite is None and step.retext is None
    assert (step.item_id, step.index.item_id, step.index.method) == (3, 3, "canonical-url")
    assert not step.index.shown


def test_the_same_source_at_a_known_address_is_not_a_copy() -> None:
    """A page at one address that changes daily is a new item each day."""
    new = copy("tue", *s.TUESDAY, link="https://desk.example/briefing")
    assert new.facts is not None and new.facts.canonical_url is not None
    d = decider(found(by_url={new.facts.canonical_url: ItemMatch(3, has_source=True)}))
    assert d.decide(new) == (Outcome.NEW, PENDING)


def test_the_same_text_joins_its_item_and_the_address_comes_first() -> None:
    new = copy("a")
    assert new.facts is not None and new.facts.fingerprint is not None
    by_fingerprint = {new.facts.fingerprint: 4}
    d = decider(found(by_fingerprint=by_fingerprint))
    assert d.decide(new) == (Outcome.MERGED, 4)
    assert d.intent().steps[0].index.method == "content-hash"

    assert new.facts.canonical_url is not None
    by_url = {new.facts.canonical_url: ItemMatch(3, has_source=False)}
    d = decider(found(by_url=by_url, by_fingerprint=by_fingerprint))
    assert d.decide(new) == (Outcome.MERGED, 3)


def test_a_near_duplicate_joins_the_item_of_the_copy_it_is_like() -> None:
    first = indexed(50, 9)
    new = copy("b", s.RETITLED, s.WITH_BOILERPLATE, at=T0 + timedelta(hours=3))
    candidates = {50: Candidate(first, same_source=False)}
    d = decider(found(hits=hits_to(new, first), candidates=candidates))
    assert d.decide(new) == (Outcome.MERGED, 9)
    (step,) = d.intent().steps
    assert (step.index.method, step.index.matched) == ("near-duplicate", 50)
    assert step.index.score is not None and 0 < step.index.score <= 1


def test_near_duplicates_of_an_item_the_source_already_has_are_skipped() -> None:
    """One outlet publishing two similar items has an update or a recurring item."""
    first = indexed(50, 9)
    new = copy("b", s.RETITLED, s.WITH_BOILERPLATE, at=T0 + timedelta(hours=3))
    candidates = {50: Candidate(first, same_source=True)}
    d = decider(found(hits=hits_to(new, first), candidates=candidates))
    assert d.decide(new) == (Outcome.NEW, PENDING)


def test_lead_complete_shows_a_merged_copy_with_more_text() -> None:
    teaser = indexed(50, 3, s.TITLE, s.TEASER)
    longer = copy("a", s.RETITLED, s.EXTENDED)
    assert longer.facts is not None and longer.facts.canonical_url is not None
    answers = found(by_url={longer.facts.canonical_url: ItemMatch(3, False)}, shown={3: teaser})
    d = decider(answers, lead="complete")
    assert d.decide(longer) == (Outcome.MERGED, 3)
    (step,) = d.intent().steps
    assert step.show and step.retext is not None and step.retext.title == s.RETITLED

    d = decider(
        replace(answers, shown={3: indexed(50, 3, s.TITLE, s.EXTENDED + " More.")}), "complete"
    )
    d.decide(longer)
    (step,) = d.intent().steps
    assert not step.show and step.retext is None


# -- the batch: each copy sees what the ones before it decided --------------------


def test_a_later_copy_finds_the_item_an_earlier_one_of_the_batch_created() -> None:
    d = decider()
    assert d.decide(copy("a")) == (Outcome.NEW, PENDING)
    # The same text under another key of the same source: one item.
    assert d.decide(copy("b")) == (Outcome.MERGED, PENDING)
    # The same address with other text: the same source's page, a new item.
    assert d.decide(copy("c", *s.MONDAY, link="https://harbour.example/a")) == (
        Outcome.NEW,
        PENDING + 2,
    )
    steps = d.intent().steps
    assert [step.item_id for step in steps] == [PENDING, PENDING, PENDING + 2]
    assert steps[1].index.method == "content-hash" and steps[1].insert is None


def test_an_item_a_copy_of_the_batch_joined_is_the_sources_for_the_copies_after_it() -> None:
    a = copy("a", link="https://a.example/story")
    b = copy("b", s.RETITLED, s.WITH_BOILERPLATE, link="https://b.example/story")
    assert a.facts is not None and a.facts.canonical_url is not None
    first = indexed(50, 3)
    answers = found(
        by_url={a.facts.canonical_url: ItemMatch(3, has_source=False)},
        hits=hits_to(b, first),
        candidates={50: Candidate(first, same_source=False)},
    )
    assert decider(answers).decide(b) == (Outcome.MERGED, 3)  # alone, b is a copy
    d = decider(answers)
    assert d.decide(a) == (Outcome.MERGED, 3)
    assert d.decide(b) == (Outcome.NEW, PENDING + 1)  # after a, item 3 is the source's


def test_an_item_its_lead_copy_rewrote_is_found_by_its_new_keys_only() -> None:
    old = copy("a", s.SAME_SUBJECT_TITLE, s.SAME_SUBJECT_TEXT)
    edited = copy("a", s.TITLE, s.TEXT)
    assert old.facts is not None and edited.facts is not None
    answers = found(
        copies={edited.entry_key: stored(7, old.content_hash, is_lead=True, index=None)},
        # Left out of by_fingerprint by the look-up: the decider holds its keys.
        tracked_items={7: (old.facts.canonical_url, old.facts.fingerprint)},
    )
    d = decider(answers)
    assert d.decide(copy("b", s.SAME_SUBJECT_TITLE, s.SAME_SUBJECT_TEXT)) == (
        Outcome.MERGED,
        7,
    )
    d = decider(answers)
    assert d.decide(edited) == (Outcome.UPDATED, 7)
    assert d.decide(copy("b", s.SAME_SUBJECT_TITLE, s.SAME_SUBJECT_TEXT))[0] is Outcome.NEW
    assert d.decide(copy("c", s.TITLE, s.TEXT)) == (Outcome.MERGED, 7)


def test_the_batchs_own_copies_push_old_hits_out_of_a_busy_band() -> None:
    """At most BAND_HITS_LIMIT copies per band, the newest: those of the batch too."""
    story = indexed(1, 9, at=T0 - timedelta(hours=2))
    filler = {
        n: indexed(n, 100 + n, at=T0 - timedelta(minutes=n)) for n in range(2, BAND_HITS_LIMIT + 1)
    }
    first = copy("a", s.TITLE, s.TEXT + " Reported from the quay.", at=T0)
    later = copy("b", s.RETITLED, s.WITH_BOILERPLATE, at=T0 + timedelta(hours=1))
    hits = {**hits_to(first, story, *filler.values()), **hits_to(later, story, *filler.values())}
    candidates = {c.id: Candidate(c, same_source=True) for c in filler.values()}
    candidates[1] = Candidate(story, same_source=False)
    answers = found(hits=hits, candidates=candidates)
    assert decider(answers).decide(later) == (Outcome.MERGED, 9)
    d = decider(answers)
    d.decide(copy("x", "Unrelated", "Nothing in common with the rest of it at all."))
    assert d.decide(later) == (Outcome.MERGED, 9)
    d = decider(replace(answers, hits={**hits, first.entry_key: []}))
    assert d.decide(first) == (Outcome.NEW, PENDING)  # indexed, the newest in its bands
    assert d.decide(later) == (Outcome.NEW, PENDING + 1)  # the story is no longer a hit


def test_lead_complete_compares_with_the_copy_the_batch_showed() -> None:
    teaser = indexed(50, 3, s.TITLE, s.TEASER)
    longest = copy("a", s.RETITLED, s.EXTENDED, link="https://a.example/x")
    middle = copy("b", s.TITLE, s.TEXT, link="https://a.example/y")
    assert longest.facts is not None and longest.facts.canonical_url is not None
    assert middle.facts is not None and middle.facts.fingerprint is not None
    answers = found(
        by_url={longest.facts.canonical_url: ItemMatch(3, has_source=False)},
        by_fingerprint={middle.facts.fingerprint: 3},
        shown={3: teaser},
    )
    d = decider(answers, lead="complete")
    assert d.decide(middle) == (Outcome.MERGED, 3)
    assert d.intent().steps[-1].show  # more text than the teaser
    d = decider(answers, lead="complete")
    d.decide(longest)
    assert d.intent().steps[-1].show
    assert d.decide(middle) == (Outcome.MERGED, 3)
    assert not d.intent().steps[-1].show  # less text than the copy shown now


def test_an_item_the_batch_holds_is_older_than_the_stored_one_with_its_key() -> None:
    """The oldest item with a URL or fingerprint wins, whoever holds it."""
    new = copy("b")
    assert new.facts is not None and new.facts.canonical_url and new.facts.fingerprint
    own = stored(2, "old", is_lead=True, index=None)
    url, fingerprint = new.facts.canonical_url, new.facts.fingerprint
    answers = found(
        copies={"id:a": own},
        tracked_items={2: (url, None)},
        by_url={url: ItemMatch(5, has_source=False)},
    )
    # Item 2 is older and the source's own: no merge by URL, none by anything else.
    assert decider(answers).decide(new) == (Outcome.NEW, PENDING)
    answers = found(
        copies={"id:a": own},
        tracked_items={2: (None, fingerprint)},
        by_fingerprint={fingerprint: 5},
    )
    assert decider(answers).decide(new) == (Outcome.MERGED, 2)


def test_a_copy_the_batch_stopped_showing_is_updated_as_not_shown() -> None:
    own = indexed(40, 7, s.TITLE, s.TEASER, source=SOURCE, shown=True)
    edited = copy(own.entry_key.removeprefix("id:"), s.TITLE, s.TRIMMED)
    longer = copy("m", s.RETITLED, s.EXTENDED)
    assert longer.facts is not None and longer.facts.fingerprint is not None
    answers = found(
        copies={edited.entry_key: stored(7, "old", is_lead=False, index=own)},
        tracked_copies={40: own},
        by_fingerprint={longer.facts.fingerprint: 7},
        shown={7: own},
    )
    d = decider(answers, lead="complete")
    d.decide(edited)
    assert d.intent().steps[-1].retext is not None  # shown, so the item shows its edit
    d = decider(answers, lead="complete")
    assert d.decide(longer) == (Outcome.MERGED, 7)
    assert d.intent().steps[-1].show  # more text than the teaser shown
    assert d.decide(edited) == (Outcome.UPDATED, 7)
    step = d.intent().steps[-1]
    assert step.retext is None and not step.show and not step.index.shown


def test_lead_complete_compares_with_what_the_shown_copy_says_after_its_update() -> None:
    own = indexed(40, 7, s.TITLE, s.TEASER, source=SOURCE, shown=True)
    edited = copy(own.entry_key.removeprefix("id:"), s.TITLE, s.EXTENDED)
    middle = copy("m", s.RETITLED, s.TEXT)
    assert middle.facts is not None and middle.facts.fingerprint is not None
    answers = found(
        copies={edited.entry_key: stored(7, "old", is_lead=False, index=own)},
        tracked_copies={40: own},
        by_fingerprint={middle.facts.fingerprint: 7},
        shown={7: own},
    )
    d = decider(answers, lead="complete")
    d.decide(middle)
    assert d.intent().steps[-1].show  # more text than the teaser
    d = decider(answers, lead="complete")
    d.decide(edited)  # the copy shown now says more than the middle one
    d.decide(middle)
    assert not d.intent().steps[-1].show


def test_a_key_known_crowded_stays_no_evidence_whatever_the_batch_indexes_under_it() -> None:
    """The batch's own copies under a template's keys (crowded in the index,
    so not looked up) would otherwise look like evidence, and take the places
    of the stored copy this one is a copy of."""
    rng = random.Random(3)
    issues = [copy(f"issue{n}", f"Briefing {n}", issue(rng)) for n in range(CANDIDATES + 1)]
    later = copy("later", s.TITLE, OPENING + s.TEXT)
    story = indexed(1, 9)
    assert later.facts is not None
    template = {
        band
        for band in later.facts.bands
        if near.is_weak(band) and all(i.facts is not None and band in i.facts.bands for i in issues)
    }
    assert len(template) >= 2
    # The index finds the story under one key of the text's; the template's are crowded.
    shared = next(
        band for band in later.facts.bands if band in story.bands and not near.is_weak(band)
    )
    answers = found(
        hits={later.entry_key: [BandHits(shared, [1], [int(story.at.timestamp())])]},
        candidates={1: Candidate(story, same_source=False)},
        crowded={later.entry_key: frozenset(template)},
    )
    d = decider(answers)
    for n, one in enumerate(issues):
        assert d.decide(one) == (Outcome.NEW, PENDING + n)
    assert d.decide(later) == (Outcome.MERGED, 9)
