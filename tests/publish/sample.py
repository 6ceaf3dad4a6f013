"""A small fixed set of entries for the publishing golden files.

Three entries in two sections, newest first, chosen to exercise:

* ``merged``: two sources (related link, "Also reported by"), an author, a
  lead section plus headed sections, an empty section that must be left out;
* ``escaping``: '<', '&', both quote kinds and non-ASCII in the title,
  headings, sentences, source title and a query-string link; no author;
* ``local``: a local-file source (no feed URL, no links at all), in the same
  section as ``merged``.

The section "Tech & Science" needs slugging, and "Empty" is configured but
has no entries.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aggregator.models import Entry, FeedMeta, SectionSummary, SourceRef, Summary

META = FeedMeta(
    title="Morning Digest",
    base_url="https://news.example.org/digest",  # no trailing slash on purpose
    description="World and tech news, merged & summarized",
    generator="aggregator",
    sections=("World", "Tech & Science", "Empty"),
)

EXAMPLE_NEWS = SourceRef(
    name="example-news",
    title="Example News",
    site_link="https://example.com/",
    feed_url="https://example.com/feed.xml",
    item_link="https://example.com/2024/05/harbour-bridge",
)
OTHER_WIRE = SourceRef(
    name="other-wire",
    title="Other Wire",
    site_link="https://wire.example.net/",
    feed_url="https://wire.example.net/rss",
    item_link="https://wire.example.net/story/991",
)
LAB_NOTES = SourceRef(
    name="lab",
    title='Lab\'s "Notes" & more',
    site_link="https://lab.example/",
    feed_url="https://lab.example/atom?format=full&lang=de",
    item_link="https://lab.example/post?id=7&lang=de",
)
LOCAL_NOTES = SourceRef(
    name="notes",
    title="Local notes",
    site_link=None,
    feed_url=None,
    item_link=None,
)

MERGED = Entry(
    id="urn:uuid:7d3f1f5e-8a61-4c7e-9a52-0c1b1b6a0001",
    title="Harbour bridge reopens after repairs",
    link="https://example.com/2024/05/harbour-bridge",
    published=datetime(2024, 5, 2, 9, 15, tzinfo=UTC),
    updated=datetime(2024, 5, 2, 12, 30, tzinfo=UTC),
    section="World",
    summary=Summary(
        (
            SectionSummary(None, ("The harbour bridge reopened on Thursday.", "Traffic resumed.")),
            SectionSummary("Background", ("Repairs took eight months.",)),
            SectionSummary("Nothing here", ()),
            SectionSummary("What comes next", ("A second phase starts in June.",)),
        )
    ),
    sources=(EXAMPLE_NEWS, OTHER_WIRE),
    author="Jane Doe",
    language="en",
)

ESCAPING = Entry(
    id="urn:uuid:7d3f1f5e-8a61-4c7e-9a52-0c1b1b6a0002",
    title='Größer <als> 5 & "kleiner" als Café\'s',
    link="https://lab.example/post?id=7&lang=de",
    published=datetime(2024, 5, 1, 18, 0, tzinfo=UTC),
    updated=datetime(2024, 5, 1, 18, 5, 30, tzinfo=UTC),
    section="Tech & Science",
    summary=Summary(
        (
            SectionSummary(
                'Ergebnisse <vorläufig> & "ungeprüft"',
                ("Es gilt a < b && c > d.", "Das Team sagt: 'naïve' Ansätze scheitern — oft."),
            ),
        )
    ),
    sources=(LAB_NOTES,),
    language="de",
)

LOCAL = Entry(
    id="urn:uuid:7d3f1f5e-8a61-4c7e-9a52-0c1b1b6a0003",
    title="Notes from the council meeting",
    link=None,
    published=datetime(2024, 4, 30, 7, 0, tzinfo=UTC),
    updated=datetime(2024, 4, 30, 7, 0, tzinfo=UTC),
    section="World",
    summary=Summary((SectionSummary(None, ("The council approved the budget.",)),)),
    sources=(LOCAL_NOTES,),
)

ENTRIES = (MERGED, ESCAPING, LOCAL)
