"""The issue's copy through the real path: a first sentence reworded
("European Union energy ministers agreed early on Wednesday" -> "EU energy
ministers agreed early Wednesday") under a new headline shares one of the
lead's eight bands with the original, which the lead's index alone did not
count as a candidate; the text's bands and the start's anchors find it.  A
follow-up that keeps the whole story under a new lead stays apart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aggregator.dedup import near
from aggregator.dedup.merge import Outcome, merge_item
from aggregator.models import ParsedItem
from aggregator.parse.normalize import plain_text
from aggregator.store import Store
from tests.dedup import stories as s

T0 = datetime(2024, 6, 5, 6, 30, tzinfo=UTC)


def merge(store: Store, source: str, title: str, text: str, at: datetime) -> tuple[Outcome, int]:
    html = "".join(f"<p>{paragraph}</p>" for paragraph in text.split("\n"))
    item = ParsedItem(
        entry_id=f"{source}-1",
        title=title,
        link=f"https://{source}.example/energy/gas-cap",
        published=at,
        updated=None,
        content_html=html,
    )
    with store.transaction():
        return merge_item(store, source, "News", item, plain_text(html), at)


def test_the_issues_copy_shares_one_lead_band_only() -> None:
    """What made it a miss: one lead band, another title; not what the test below needs."""
    original = near.features(s.ENERGY_TITLE, s.ENERGY_TEXT).band_keys()
    copy = near.features(s.ENERGY_COPY_TITLE, s.ENERGY_COPY_TEXT).band_keys()
    shared = [key >> 44 for key in original if key in copy]
    assert shared.count(near.LEAD) == 1 and near.TITLE not in shared


def test_a_copy_with_a_reworded_first_sentence_and_headline_joins_the_story(
    store: Store,
) -> None:
    first = merge(store, "wire", s.ENERGY_TITLE, "\n".join(s.ENERGY_PARAGRAPHS), T0)
    copy_text = s.ENERGY_COPY_TEXT.replace(". ", ".\n", 1)  # paragraphs of its own
    copy = merge(store, "daily", s.ENERGY_COPY_TITLE, copy_text, T0 + timedelta(hours=2))
    assert first[0] is Outcome.NEW
    assert copy == (Outcome.MERGED, first[1])
    (cluster,) = store.duplicate_clusters()
    assert [(m.source, m.method) for m in cluster.members] == [
        ("wire", "first"),
        ("daily", "near-duplicate"),
    ]


def test_a_follow_up_keeping_the_story_under_a_new_lead_stays_apart(store: Store) -> None:
    first = merge(store, "wire", s.ENERGY_TITLE, s.ENERGY_TEXT, T0)
    later = T0 + timedelta(days=2)
    follow_up = merge(store, "daily", s.ENERGY_FOLLOW_UP_TITLE, s.ENERGY_FOLLOW_UP_TEXT, later)
    assert follow_up[0] is Outcome.NEW and follow_up[1] != first[1]
    assert store.duplicate_clusters() == []
