"""An entry's files and main image in every published format, and on the page."""

from __future__ import annotations

import dataclasses
import json

import feedparser

from aggregator.models import Enclosure
from aggregator.publish import render_atom, render_json_feed, render_page, render_rss
from tests.publish.sample import MERGED, META

AUDIO = Enclosure("https://cdn.example/ep12.mp3", "audio/mpeg", 48213504)
VIDEO = Enclosure("https://cdn.example/ep12.mp4", None, None)  # type and size unknown
EPISODE = dataclasses.replace(
    MERGED, enclosures=(AUDIO, VIDEO), image="https://cdn.example/ep12.jpg"
)


def test_atom_has_an_enclosure_link_per_file_with_length_and_type() -> None:
    atom = render_atom([EPISODE], META)
    (entry,) = feedparser.parse(atom).entries
    assert [(e.href, e.get("length")) for e in entry.enclosures] == [
        (AUDIO.url, "48213504"),
        (VIDEO.url, None),
    ]
    assert entry.enclosures[0].type == "audio/mpeg"
    # What is not known is left out, not made up (feedparser would read text/html).
    assert f'<link href="{VIDEO.url}" rel="enclosure"/>'.encode() in atom


def test_rss_has_its_one_enclosure_the_first_with_the_attributes_it_requires() -> None:
    (entry,) = feedparser.parse(render_rss([EPISODE], META)).entries
    assert [(e.href, e.type, e.length) for e in entry.enclosures] == [
        (AUDIO.url, "audio/mpeg", "48213504")
    ]
    video_first = dataclasses.replace(EPISODE, enclosures=(VIDEO,))
    (entry,) = feedparser.parse(render_rss([video_first], META)).entries
    assert [(e.type, e.length) for e in entry.enclosures] == [("application/octet-stream", "0")]
    assert entry.link == MERGED.link  # the item's link is still the story


def test_json_feed_has_attachments_and_image() -> None:
    (item,) = json.loads(render_json_feed([EPISODE], META))["items"]
    assert item["image"] == "https://cdn.example/ep12.jpg"
    assert item["attachments"] == [
        {"url": AUDIO.url, "mime_type": "audio/mpeg", "size_in_bytes": 48213504},
        {"url": VIDEO.url, "mime_type": "application/octet-stream"},
    ]
    (plain,) = json.loads(render_json_feed([MERGED], META))["items"]
    assert "attachments" not in plain and "image" not in plain


def test_the_page_shows_the_image_and_links_the_files() -> None:
    page = render_page([EPISODE], META).decode()
    assert '<img src="https://cdn.example/ep12.jpg" alt="">' in page
    assert f'<a href="{AUDIO.url}">ep12.mp3 (audio/mpeg, 48.2 MB)</a>' in page
    assert f'<a href="{VIDEO.url}">ep12.mp4</a>' in page


def test_an_unsafe_url_from_an_older_store_is_never_a_link_or_an_image() -> None:
    hostile = dataclasses.replace(
        MERGED,
        enclosures=(Enclosure("javascript:alert(1)", "audio/mpeg", 1),),
        image="javascript:alert(2)",
    )
    page = render_page([hostile], META).decode()
    assert "javascript" not in page and "Files:" not in page
    assert "<img" not in page
