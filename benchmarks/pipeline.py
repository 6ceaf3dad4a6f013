"""Time ``aggregate --once`` on generated feeds served from 127.0.0.1.

    generate N feeds (RSS 2.0 and Atom 1.0, news-like prose)  |  serve them (aiohttp.web)
      |  write feeds.yaml  |  aggregate --once: cold, warm (all 304), changed (10% of feeds),
      each round followed by the same round of the ``reader`` library

Usage::

    python benchmarks/pipeline.py [--feeds 1000] [--items 30] [--seed 1] [--gzip]
                                  [--spread-days 0] [--latency-ms 0] [--keep DIR] [--no-reader]
                                  [--store postgresql://.../empty_database]

Everything is generated from ``random.Random(seed)``: the same arguments give
byte-identical feeds, so two runs of the benchmark time the same work.  No
external data: the prose comes from the word lists and sentence templates
below, with enough vocabulary that the summarizer has real choices to make.

Each round prints its wall time, the CPU time of the ``aggregate`` process and
every process it waited for (user + sys), the CPU time the rest of the machine
used meanwhile (a round that shared the cores with something else is not
comparable), its peak memory (see :class:`MemorySampler` for what exactly is
measured) and the command's own total line.  The warm round must parse and
summarize nothing; the script exits 1 when it does not, or when a round fails.

The yardstick (issue 7) is the `reader <https://github.com/lemon24/reader>`_
library, which fetches, parses and stores feeds but neither summarizes nor
publishes.  Each of our rounds is followed by the same round of
``benchmarks/reader_round.py`` against its own reader database, over the same
served bytes: ``make_reader(db)``, ``add_feed`` for every URL,
``update_feeds(workers=16, scheduled=False)``.  Each round is its own process,
measured exactly like ``aggregate --once``, and the table gives our wall and
CPU time over reader's per round.  The two rounds of a pair run back to back
because a virtual machine's speed drifts (by half within minutes, seen here):
each round also prints a probe of the machine's speed just before it.  The
server's answers (200/304) must be the same for both tools in every round,
else the script exits 1.  Without ``reader``
installed (``pip install '.[bench]'``), or with ``--no-reader``, its rounds are
skipped with a note.

The ``aggregate`` next to this Python runs, with whatever ``aggregator`` it
imports.  To time a fixed version while the work tree changes under you, put
a copy of the package first on the path, e.g.
``git archive HEAD aggregator | tar -x -C /tmp/snap`` and
``PYTHONPATH=/tmp/snap python benchmarks/pipeline.py`` (from outside the repo).

This is a benchmark, not a test: ``tests/benchmarks`` only checks that it
still runs at a tiny size.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import gzip
import hashlib
import importlib.util
import os
import random
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from aiohttp import web

# Every generated date is this instant minus an offset, so the feeds do not
# depend on when the benchmark runs.
BASE_DATE = datetime(2024, 6, 3, 12, 0, tzinfo=UTC)
SECTIONS = ("World", "Business", "Science")

# Share of items that carry only a short description (1–2 sentences), and the
# number of long articles (1,500–3,000 words, with <h2> sections) per 30,000
# items; the rest carry a description and a few paragraphs of content.
SHORT_SHARE = 0.25
LONG_PER_30000 = 2_500
TRACKED_LINK_SHARE = 0.3  # links that carry utm_* parameters
REPUBLISHED_SHARE = 0.03  # stories a second feed carries under the same link
CHANGED_FEED_SHARE = 0.10  # feeds that gain items in the "changed" round
NEW_ITEMS_PER_CHANGED_FEED = 3


# --- Word lists -------------------------------------------------------------


def _split(words: str) -> tuple[str, ...]:
    return tuple(words.split())


FIRST_NAMES = _split(
    "Amara Ben Carla Dmitri Elena Farid Grace Hiroshi Ines Jonas Kavya Liam Mei Nadia Oscar "
    "Priya Quentin Rosa Samuel Tomasz Ulrike Viktor Wen Ximena Yusuf Zofia Adrian Beatriz Chen "
    "Daniel Esther Felix Gabriela Hassan Ingrid Joaquin Keiko Leon Marta Nikhil Olga Pablo "
    "Rachel Stefan Tariq Ursula Valentina William Yara Zain Alice Bruno Clara Diego Emeka Fatima"
)
SURNAMES = _split(
    "Abara Bergstrom Castillo Dubois Eriksen Fontaine Gallagher Hartmann Ibrahim Jansen Kowalski "
    "Lindqvist Moreau Nakamura Okafor Petrov Quinlan Rossi Schneider Takahashi Ulloa Varga "
    "Whitfield Xu Yilmaz Zielinski Achebe Brennan Costa Delgado Eastwood Ferreira Greer Holloway "
    "Ivanova Jaramillo Kaplan Lachance Mbeki Novak Oyelaran Pereira Rahman Sandoval Thornton "
    "Underwood Vasquez Weber Yamamoto Zhang Albright Bianchi Chowdhury Dalton Engel Fitzgerald"
)
ROLES = (
    "the finance minister",
    "the mayor",
    "a senior economist",
    "the chief executive",
    "a spokesperson",
    "the lead researcher",
    "the health secretary",
    "a union representative",
    "the foreign minister",
    "a policy adviser",
    "the chief scientist",
    "a regional governor",
    "the head of strategy",
    "an independent analyst",
    "the committee chair",
    "a former ambassador",
    "the board's chair",
    "a professor of public policy",
    "the director of operations",
    "a trade negotiator",
)
ORG_KINDS = _split(
    "Group Holdings Institute Foundation Bank Partners Labs University Council Authority "
    "Industries Capital Systems Trust Agency Observatory Energy Logistics Pharmaceuticals Media"
)
INSTITUTIONS = (
    "the central bank",
    "the city council",
    "the health ministry",
    "the European Commission",
    "the statistics office",
    "the competition regulator",
    "the national weather service",
    "the space agency",
    "the supreme court",
    "the transport department",
    "the energy regulator",
    "the labour ministry",
    "parliament's budget committee",
    "the World Health Organization",
    "the International Monetary Fund",
    "the environmental protection agency",
    "the port authority",
    "the education department",
)
PLACES = _split(
    "Lisbon Nairobi Osaka Toronto Krakow Santiago Hamburg Manila Accra Lyon Melbourne Bogota "
    "Tallinn Marseille Porto Seville Bergen Gdansk Cork Leipzig Valencia Turin Rotterdam Aarhus "
    "Tampere Brno Ljubljana Zagreb Thessaloniki Izmir Casablanca Dakar Lagos Kigali Durban "
    "Mumbai Chennai Dhaka Hanoi Surabaya Busan Sapporo Auckland Perth Vancouver Calgary Denver "
    "Portland Austin Monterrey Quito Lima Montevideo Cordoba Recife Halifax Glasgow Cardiff"
)
MONTHS = _split(
    "January February March April May June July August September October November December"
)
WEEKDAYS = _split("Monday Tuesday Wednesday Thursday Friday Saturday Sunday")

# (infinitive, past, past participle, gerund)
VERBS = tuple(
    tuple(forms.split("/"))
    for forms in (
        "approve/approved/approved/approving",
        "reject/rejected/rejected/rejecting",
        "expand/expanded/expanded/expanding",
        "delay/delayed/delayed/delaying",
        "review/reviewed/reviewed/reviewing",
        "fund/funded/funded/funding",
        "challenge/challenged/challenged/challenging",
        "launch/launched/launched/launching",
        "scale back/scaled back/scaled back/scaling back",
        "overhaul/overhauled/overhauled/overhauling",
        "defend/defended/defended/defending",
        "investigate/investigated/investigated/investigating",
        "propose/proposed/proposed/proposing",
        "suspend/suspended/suspended/suspending",
        "restore/restored/restored/restoring",
        "announce/announced/announced/announcing",
        "cut/cut/cut/cutting",
        "raise/raised/raised/raising",
        "publish/published/published/publishing",
        "question/questioned/questioned/questioning",
        "support/supported/supported/supporting",
        "block/blocked/blocked/blocking",
        "accelerate/accelerated/accelerated/accelerating",
        "negotiate/negotiated/negotiated/negotiating",
        "tighten/tightened/tightened/tightening",
        "relax/relaxed/relaxed/relaxing",
        "audit/audited/audited/auditing",
        "abandon/abandoned/abandoned/abandoning",
        "finance/financed/financed/financing",
        "modernise/modernised/modernised/modernising",
        "measure/measured/measured/measuring",
        "reshape/reshaped/reshaped/reshaping",
        "test/tested/tested/testing",
        "replace/replaced/replaced/replacing",
        "monitor/monitored/monitored/monitoring",
    )
)
CHANGE_VERBS = (
    "rise",
    "fall",
    "recover",
    "stabilise",
    "double",
    "shrink",
    "climb",
    "slow",
    "level off",
    "rebound",
)
ADJECTIVES = _split(
    "ambitious unexpected controversial modest sweeping cautious costly delayed long-awaited "
    "fragile regional national temporary permanent rapid gradual sharp steady record "
    "widespread limited preliminary detailed independent public private local global "
    "seasonal annual quarterly emergency experimental digital rural urban coastal "
    "northern southern cross-border low-carbon high-speed affordable competitive"
)
ADVERBS = _split(
    "quietly sharply steadily unexpectedly gradually publicly repeatedly broadly "
    "largely narrowly cautiously openly firmly briefly"
)
GENERAL_NOUNS = _split(
    "households businesses commuters investors voters farmers students pensioners "
    "suppliers hospitals schools landlords tenants exporters smallholders councils "
    "consumers employers regulators lawmakers shareholders patients families retailers "
    "manufacturers insurers airlines ports contractors researchers engineers"
)
EVENTS = (
    "a week of protests",
    "a disappointing quarter",
    "months of negotiations",
    "a damning audit",
    "an unexpected court ruling",
    "a surge in demand",
    "heavy flooding",
    "a cyber attack",
    "a leadership contest",
    "a public consultation",
    "a series of strikes",
    "a sharp rise in prices",
    "a long-running investigation",
    "a failed merger",
    "an early heatwave",
)
PERIODS = ("year", "quarter", "decade", "month", "winter", "summer", "budget cycle")
PROCESS_NOUNS = (
    "talks",
    "consultation",
    "legal wrangling",
    "negotiation",
    "review",
    "lobbying",
    "planning",
    "testing",
)

# Each topic gives an article a shared vocabulary, so its sentences are
# related and a summarizer has something to rank.
TOPICS: dict[str, tuple[tuple[str, ...], ...]] = {
    "World": (
        _split("election ballot turnout coalition campaign polling candidate manifesto"),
        _split("ceasefire border treaty sanctions diplomats summit envoy delegation"),
        _split("migration asylum visas refugees resettlement quotas shelters caseworkers"),
        _split("flooding drought wildfire evacuation reservoir levee harvest relief"),
        _split("railway bridge tunnel motorway airport terminal tram corridor"),
        _split("housing rents mortgages construction zoning tenancy landlords apartments"),
    ),
    "Business": (
        _split("earnings revenue margins guidance dividends buybacks forecasts profits"),
        _split("inflation interest rates bond yields currency lending deposits savings"),
        _split("tariffs exports imports shipping containers freight customs supply"),
        _split("wages hiring layoffs unions pensions overtime apprenticeships productivity"),
        _split("merger acquisition takeover shareholders valuation bid antitrust deal"),
        _split("electricity gas grid turbines batteries refinery pipeline tariffs"),
    ),
    "Science": (
        _split("telescope orbit satellite probe launch asteroid lunar mission"),
        _split("vaccine trial patients dosage antibodies clinic therapy diagnosis"),
        _split("genome protein enzyme cells mutation sequencing bacteria microscope"),
        _split("climate emissions glaciers carbon ocean warming sediment ice"),
        _split("algorithm chips robotics sensors software encryption qubits model"),
        _split("species habitat coral pollinators wetlands migration biodiversity forest"),
    ),
}

HEADINGS = (
    "Background",
    "What happens next",
    "Reaction",
    "The numbers",
    "A long road",
    "Why it matters",
    "Questions remain",
    "The view from {place}",
    "What {org} wants",
    "How the {noun} works",
    "{adj_cap} {noun}",
    "Lessons from {place}",
    "The cost of {noun}",
    "Who pays",
)


@dataclass
class Frame:
    """What one story is about; its sentences draw on it, so they cohere."""

    section: str
    topic: tuple[str, ...]
    place: str
    other_place: str
    org: str
    other_org: str
    person: str
    surname: str
    role: str


class Prose:
    """News-like English from templates; every choice comes from ``rng``."""

    def __init__(self, rng: random.Random):
        self.rng = rng

    def frame(self, section: str) -> Frame:
        rng = self.rng
        first, surname = rng.choice(FIRST_NAMES), rng.choice(SURNAMES)
        place, other_place = rng.sample(PLACES, 2)
        return Frame(
            section=section,
            topic=rng.choice(TOPICS[section]),
            place=place,
            other_place=other_place,
            org=self.organisation(),
            other_org=self.organisation(),
            person=f"{first} {surname}",
            surname=surname,
            role=rng.choice(ROLES),
        )

    def organisation(self) -> str:
        if self.rng.random() < 0.4:
            return self.rng.choice(INSTITUTIONS)
        return f"{self.rng.choice(SURNAMES)} {self.rng.choice(ORG_KINDS)}"

    def noun_phrase(self, frame: Frame) -> str:
        rng = self.rng
        noun = rng.choice(frame.topic)
        pattern = rng.randrange(4)
        if pattern == 0:
            return f"the {rng.choice(ADJECTIVES)} {noun} plan"
        if pattern == 1:
            return f"{rng.choice(ADJECTIVES)} {noun}"
        if pattern == 2:
            return f"the {noun} programme in {frame.place}"
        return f"new rules on {noun}"

    def sentence(self, frame: Frame) -> str:
        rng = self.rng
        verb = rng.choice(VERBS)
        other_verb = rng.choice(VERBS)
        noun = rng.choice(frame.topic)
        group, other_group = rng.sample(GENERAL_NOUNS, 2)
        slots = {
            "person": frame.person,
            "surname": frame.surname,
            "role": frame.role,
            "org": frame.org,
            "other_org": frame.other_org,
            "place": frame.place,
            "other_place": frame.other_place,
            "np": self.noun_phrase(frame),
            "np2": self.noun_phrase(frame),
            "noun": noun,
            "noun2": rng.choice(frame.topic),
            "adj": rng.choice(ADJECTIVES),
            "adv": rng.choice(ADVERBS),
            "group": group,
            "group2": other_group,
            "event": rng.choice(EVENTS),
            "period": rng.choice(PERIODS),
            "process": rng.choice(PROCESS_NOUNS),
            "change": rng.choice(CHANGE_VERBS),
            "month": rng.choice(MONTHS),
            "day": rng.choice(WEEKDAYS),
            "inf": verb[0],
            "past": verb[1],
            "pp": verb[2],
            "ing": verb[3],
            "inf2": other_verb[0],
            "past2": other_verb[1],
            "percent": f"{rng.randint(1, 40)}.{rng.randint(0, 9)}",
            "number": str(rng.choice((2, 3, 4, 5, 6, 8, 9, 11, 12, 14, 18))),
            "amount": f"{rng.randint(2, 950)} million",
        }
        return _capitalise(rng.choice(SENTENCES).format(**slots))

    def paragraph(self, frame: Frame, sentences: int) -> str:
        return " ".join(self.sentence(frame) for _ in range(sentences))

    def title(self, frame: Frame) -> str:
        rng = self.rng
        verb = rng.choice(VERBS)
        noun = rng.choice(frame.topic)
        patterns = (
            f"{frame.org} to {verb[0]} {noun} plan in {frame.place}",
            f"{frame.place} {verb[1]} {rng.choice(ADJECTIVES)} {noun} deal "
            f"after {rng.choice(EVENTS)}",
            f"{rng.choice(ADJECTIVES)} {noun} {verb[1]} as {frame.other_org} weighs its options",
            f"Why {frame.place} is {verb[3]} its {noun}",
            f"{frame.person} says {noun} will {rng.choice(CHANGE_VERBS)} by {rng.choice(MONTHS)}",
            f"{rng.choice(GENERAL_NOUNS)} brace for {rng.choice(ADJECTIVES)} {noun} "
            f"in {frame.place}",
            f"{frame.org} and {frame.other_org} clash over {noun}",
            f"Inside the {rng.choice(ADJECTIVES)} race to {verb[0]} {noun}",
        )
        return _capitalise(rng.choice(patterns))

    def heading(self, frame: Frame) -> str:
        rng = self.rng
        return _capitalise(
            rng.choice(HEADINGS).format(
                place=frame.other_place,
                org=frame.org,
                noun=rng.choice(frame.topic),
                adj_cap=rng.choice(ADJECTIVES),
            )
        )

    def long_article(self, frame: Frame) -> str:
        """1,500–3,000 words: an introduction, then <h2> sections of <p> paragraphs."""
        rng = self.rng
        target = rng.randint(1_500, 3_000)
        parts = [f"<p>{escape(self.paragraph(frame, rng.randint(3, 5)))}</p>"]
        words = _words(parts[0])
        while words < target:
            parts.append(f"<h2>{escape(self.heading(frame))}</h2>")
            for _ in range(rng.randint(2, 5)):
                paragraph = f"<p>{escape(self.paragraph(frame, rng.randint(3, 7)))}</p>"
                parts.append(paragraph)
                words += _words(paragraph)
        return "\n".join(parts)

    def medium_article(self, frame: Frame) -> str:
        """A few paragraphs, no headings: the common case of a news feed."""
        count = self.rng.randint(2, 5)
        return "\n".join(
            f"<p>{escape(self.paragraph(frame, self.rng.randint(3, 6)))}</p>" for _ in range(count)
        )


SENTENCES = (
    "{person}, {role} at {org}, said on {day} that the group would {inf} {np} in {place}.",
    "The {adj} {noun} has {pp} {group} since {month}, according to figures from {org}.",
    "Critics argue that {np} could hurt {group} unless {other_org} {past} {np2}.",
    "“We have {pp} {np}, and we will keep {ing} it,” {surname} told reporters in {place}.",
    "Officials in {place} {past} {np} after {event}.",
    "Analysts at {other_org} expect {noun} to {change} by {percent} per cent "
    "over the next {period}.",
    "The decision follows {number} months of {process} between {org} and {other_org}.",
    "{place} has long {pp} {np}, but {group} have {adv} {pp} the idea.",
    "It was not immediately clear whether {org} would {inf} {np2}.",
    "Residents of {other_place} said the {noun} had changed little for {group} in recent years.",
    "{org} {adv} {past} a {adj} report on {noun} last {period}.",
    "The plan would cost about {amount} euros, a figure {other_org} {past} as {adj}.",
    "{group} in {place} have been asked to {inf2} their {noun2} by the end of {month}.",
    "Supporters say the {adj} {noun} will help {group2}, who {past2} earlier proposals.",
    "{surname} declined to say when {org} would {inf} the {noun}.",
    "A spokesperson for {other_org} said it was {ing} the {noun} and would respond in due course.",
    "The {noun} in {other_place} was {pp} {adv} after {event}.",
    "Previous efforts to {inf} {np} in {place} stalled in {month}.",
    "Data published on {day} showed {noun2} {adv} falling among {group}.",
    "{org} said {group} and {group2} would be consulted before any {adj} {noun} is {pp}.",
    "The move puts {org} at odds with {other_org}, which has {pp} {np2} for {number} years.",
    "Some {group} fear that {adj} {noun} will {change} faster than expected.",
    "Asked about {noun}, {surname} said the {period} ahead would be {adj}.",
    "{place} and {other_place} are among the first to {inf} {np}.",
)


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def _words(html: str) -> int:
    return html.count(" ") + 1


# --- Feeds ------------------------------------------------------------------


@dataclass
class Story:
    title: str
    link: str
    guid: str
    published: datetime
    author: str
    description: str  # plain text
    content_html: str | None  # None for description-only items


@dataclass
class GeneratedFeed:
    index: int
    name: str
    title: str
    kind: str  # "rss" or "atom"
    section: str
    site: str
    stories: list[Story] = field(default_factory=list)

    @property
    def path(self) -> str:
        extension = "xml" if self.kind == "rss" else "atom"
        return f"/feeds/{self.name}.{extension}"

    def render(self) -> bytes:
        self.stories.sort(key=lambda story: story.published, reverse=True)
        text = _render_rss(self) if self.kind == "rss" else _render_atom(self)
        return text.encode("utf-8")


@dataclass
class Corpus:
    feeds: list[GeneratedFeed]
    long_articles: int = 0
    short_items: int = 0
    republished: int = 0

    @property
    def items(self) -> int:
        return sum(len(feed.stories) for feed in self.feeds)


# Feeds per block of the same dates with --spread-days: the default corpus's size.
SPREAD_EVERY = 1_000

OUTLET_WORDS = _split(
    "Herald Courier Gazette Chronicle Dispatch Observer Tribune Ledger Post Journal Monitor "
    "Review Sentinel Record Bulletin Times"
)


def generate(
    feed_count: int,
    items_per_feed: int,
    seed: int,
    *,
    spread_days: int = 0,
    spread_every: int = SPREAD_EVERY,
) -> Corpus:
    """The feeds, deterministically from ``seed``: half RSS 2.0, half Atom 1.0.

    Every feed's items span the same five days unless ``spread_days``: then
    each block of ``spread_every`` feeds is dated that many days before the
    block before it.  Only the dates (and the links that hold them) differ,
    so a corpus of one block is the one ``spread_days=0`` gives.
    """
    rng = random.Random(seed)
    prose = Prose(rng)
    long_share = LONG_PER_30000 / 30_000
    corpus = Corpus([])
    for index in range(feed_count):
        outlet = f"{rng.choice(PLACES)} {rng.choice(OUTLET_WORDS)}"
        section = SECTIONS[index % len(SECTIONS)]
        feed = GeneratedFeed(
            index=index,
            name=f"feed-{index:04d}",
            title=f"{outlet} – {section}",
            kind="rss" if index % 2 == 0 else "atom",
            section=section,
            site=f"https://{outlet.lower().replace(' ', '-')}-{index}.example.com",
        )
        for number in range(items_per_feed):
            # Items of one feed are spaced a few hours apart, going back in time.
            age = timedelta(minutes=number * 240 + rng.randint(0, 239) + index % 60)
            age += timedelta(days=spread_days * (index // spread_every))
            kind = rng.random()
            length = (
                "short"
                if kind < SHORT_SHARE
                else "long"
                if kind < SHORT_SHARE + long_share
                else "medium"
            )
            corpus.short_items += length == "short"
            corpus.long_articles += length == "long"
            feed.stories.append(_story(prose, feed, f"item-{number:05d}", BASE_DATE - age, length))
        corpus.feeds.append(feed)
    if feed_count > 1:
        corpus.republished = _republish(rng, corpus.feeds)
    return corpus


def _story(
    prose: Prose, feed: GeneratedFeed, item_id: str, published: datetime, length: str
) -> Story:
    rng = prose.rng
    frame = prose.frame(feed.section)
    title = prose.title(frame)
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]
    link = f"{feed.site}/{feed.section.lower()}/{published:%Y/%m/%d}/{slug}-{item_id}"
    if rng.random() < TRACKED_LINK_SHARE:
        link += f"?utm_source=rss&utm_medium=feed&utm_campaign={feed.name}"
    if length == "short":
        content = None
        description = prose.paragraph(frame, rng.randint(1, 2))
    else:
        description = prose.paragraph(frame, 2)
        content = prose.long_article(frame) if length == "long" else prose.medium_article(frame)
    return Story(
        title=title,
        link=link,
        guid=f"urn:bench:{feed.name}:{item_id}",
        published=published,
        author=f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
        description=description,
        content_html=content,
    )


def _republish(rng: random.Random, feeds: Sequence[GeneratedFeed]) -> int:
    """Copy a few percent of stories into a second feed: same page, other tracking.

    The copy keeps the link's page but gets its own utm_* parameters and its own
    guid, the way a syndication partner carries a story, so the aggregator has
    to merge it by canonical URL.
    """
    copies = []
    for feed in feeds:
        for story in feed.stories:
            if rng.random() >= REPUBLISHED_SHARE:
                continue
            partner = feeds[(feed.index + rng.randint(1, len(feeds) - 1)) % len(feeds)]
            page = story.link.split("?", 1)[0]
            copy = Story(
                title=story.title,
                link=f"{page}?utm_source=partner&utm_medium=syndication&utm_campaign={partner.name}",
                guid=f"urn:bench:{partner.name}:from-{feed.name}:{story.guid.rsplit(':', 1)[1]}",
                published=story.published + timedelta(minutes=rng.randint(5, 90)),
                author=story.author,
                description=story.description,
                content_html=story.content_html,
            )
            copies.append((partner, copy))
    for partner, copy in copies:
        partner.stories.append(copy)
    return len(copies)


def add_new_stories(corpus: Corpus, seed: int) -> list[GeneratedFeed]:
    """The "changed" round: a tenth of the feeds gain three new items each.

    A separate generator keeps the original feeds the same whether or not
    this round runs.
    """
    rng = random.Random(f"{seed}-changed")
    prose = Prose(rng)
    count = max(1, round(len(corpus.feeds) * CHANGED_FEED_SHARE))
    changed = rng.sample(corpus.feeds, count)
    for feed in sorted(changed, key=lambda feed: feed.index):
        for number in range(NEW_ITEMS_PER_CHANGED_FEED):
            published = BASE_DATE + timedelta(minutes=30 + number * 20 + rng.randint(0, 19))
            length = "medium" if number else "long"
            feed.stories.append(_story(prose, feed, f"new-{number:05d}", published, length))
    return changed


def _render_rss(feed: GeneratedFeed) -> str:
    items = []
    for story in feed.stories:
        content = (
            f"\n      <content:encoded><![CDATA[{story.content_html}]]></content:encoded>"
            if story.content_html is not None
            else ""
        )
        items.append(
            f"""    <item>
      <title>{escape(story.title)}</title>
      <link>{escape(story.link)}</link>
      <guid isPermaLink="false">{escape(story.guid)}</guid>
      <pubDate>{format_datetime(story.published, usegmt=True)}</pubDate>
      <dc:creator>{escape(story.author)}</dc:creator>
      <category>{feed.section}</category>
      <description>{escape(story.description)}</description>{content}
    </item>"""
        )
    newest = max(story.published for story in feed.stories)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:content="http://purl.org/rss/1.0/modules/content/"
     xmlns:dc="http://purl.org/dc/elements/1.1/">
  <channel>
    <title>{escape(feed.title)}</title>
    <link>{escape(feed.site)}/</link>
    <description>{escape(feed.title)}: the latest stories</description>
    <language>en</language>
    <lastBuildDate>{format_datetime(newest, usegmt=True)}</lastBuildDate>
{chr(10).join(items)}
  </channel>
</rss>
"""


def _render_atom(feed: GeneratedFeed) -> str:
    entries = []
    for story in feed.stories:
        content = (
            f'\n    <content type="html">{escape(story.content_html)}</content>'
            if story.content_html is not None
            else ""
        )
        entries.append(
            f"""  <entry>
    <title>{escape(story.title)}</title>
    <link rel="alternate" href={quoteattr(story.link)}/>
    <id>{escape(story.guid)}</id>
    <published>{story.published.isoformat()}</published>
    <updated>{story.published.isoformat()}</updated>
    <author><name>{escape(story.author)}</name></author>
    <category term="{feed.section}"/>
    <summary type="text">{escape(story.description)}</summary>{content}
  </entry>"""
        )
    newest = max(story.published for story in feed.stories)
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">
  <title>{escape(feed.title)}</title>
  <id>urn:bench:{feed.name}</id>
  <link rel="alternate" href={quoteattr(feed.site + "/")}/>
  <updated>{newest.isoformat()}</updated>
{chr(10).join(entries)}
</feed>
"""


# --- Server -----------------------------------------------------------------


@dataclass(frozen=True)
class ServedDocument:
    body: bytes
    gzipped: bytes | None
    etag: str
    last_modified: datetime
    content_type: str

    @classmethod
    def of(cls, feed: GeneratedFeed, *, compress: bool) -> ServedDocument:
        body = feed.render()
        return cls(
            body=body,
            # Compressed once here, not per request: the server should not be
            # what the benchmark measures.
            gzipped=gzip.compress(body, compresslevel=6, mtime=0) if compress else None,
            etag='"' + hashlib.sha256(body).hexdigest()[:20] + '"',
            last_modified=max(story.published for story in feed.stories),
            content_type="application/rss+xml" if feed.kind == "rss" else "application/atom+xml",
        )


class FeedServer:
    """aiohttp.web on 127.0.0.1, in its own thread with its own event loop.

    It answers conditional requests the way a good feed host does (ETag /
    If-None-Match first, else Last-Modified / If-Modified-Since -> 304), sends
    gzip to clients that accept it when ``compress`` is set, and waits
    ``latency`` seconds before each answer.  It counts its answers by status.
    """

    def __init__(self, *, compress: bool = False, latency: float = 0.0):
        self.compress = compress
        self.latency = latency
        self.documents: dict[str, ServedDocument] = {}
        self.answers: dict[int, int] = {}
        # Bound here, so the port is known before the thread starts; the big
        # backlog lets a thousand connections queue without refusals.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="feed-server", daemon=True)
        self._runner: web.AppRunner | None = None
        self._error: BaseException | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def put(self, feed: GeneratedFeed) -> ServedDocument:
        document = ServedDocument.of(feed, compress=self.compress)
        # One assignment: the server thread sees the old or the new document.
        self.documents[feed.path] = document
        return document

    def start(self) -> FeedServer:
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            raise RuntimeError("feed server did not start") from self._error
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._start_site())
        except BaseException as error:
            self._error = error
            self._ready.set()
            self._socket.close()
            self._loop.close()
            return
        self._ready.set()
        self._loop.run_forever()
        assert self._runner is not None
        self._loop.run_until_complete(self._runner.cleanup())
        self._loop.close()

    async def _start_site(self) -> None:
        app = web.Application()
        app.router.add_get("/feeds/{name}", self._answer)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.SockSite(self._runner, self._socket, backlog=2048).start()

    async def _answer(self, request: web.Request) -> web.Response:
        if self.latency:
            await asyncio.sleep(self.latency)
        document = self.documents.get(request.path)
        if document is None:
            return self._count(web.Response(status=404, text="no such feed"))
        headers = {
            "ETag": document.etag,
            "Last-Modified": format_datetime(document.last_modified, usegmt=True),
        }
        if _not_modified(request, document):
            return self._count(web.Response(status=304, headers=headers))
        headers["Content-Type"] = document.content_type
        body = document.body
        if document.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
            if "gzip" in request.headers.get("Accept-Encoding", ""):
                headers["Content-Encoding"] = "gzip"
                body = document.gzipped
        return self._count(web.Response(body=body, headers=headers))

    def _count(self, response: web.Response) -> web.Response:
        self.answers[response.status] = self.answers.get(response.status, 0) + 1
        return response


def _not_modified(request: web.Request, document: ServedDocument) -> bool:
    """RFC 9110 §13.2.2: If-None-Match decides when present, else If-Modified-Since."""
    if_none_match = request.headers.get("If-None-Match")
    if if_none_match is not None:
        tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
        return "*" in tags or document.etag in tags
    if_modified_since = request.headers.get("If-Modified-Since")
    if if_modified_since is None:
        return False
    try:
        since = parsedate_to_datetime(if_modified_since)
    except (TypeError, ValueError):
        return False
    return since.tzinfo is not None and document.last_modified <= since


# --- Measuring --------------------------------------------------------------


class MemorySampler:
    """Peak memory of a process and its descendants, by sampling /proc.

    Three figures:

    * ``peak_hwm_kb``: the largest, over the samples, of the sum of VmHWM (each
      process's own resident high-water mark, kept by the kernel) over the
      tree alive at that sample.  An upper bound: the peaks need not
      coincide, and pages a forked worker shares with its parent count once
      per process, so a pool forked from a big parent looks several times
      its real size.
    * ``peak_pss_kb``: the same with Pss (from /proc/PID/smaps_rollup), where
      a shared page counts a fraction per sharer: the tree's real footprint
      at that moment, but only sampled, so a spike between samples is missed.
    * ``largest_kb``: the largest VmHWM of a single process.  VmHWM only
      grows, so only what a process adds in its last sampling interval is
      missed.

    VmHWM is read every 50 ms.  The tree is re-read from /proc, and Pss
    sampled, only every second: smaps_rollup makes the kernel walk the page
    tables (10–15 ms of CPU for a 500 MB process), which at 50 ms would take
    most of a core from the aggregate it measures.  So a worker that lives
    less than a second may be missed.

    Not ``ru_maxrss``: Linux carries the spawning process's own peak into the
    child's through fork (or vfork) and exec, so the child of a benchmark that
    holds 300 MB of feeds would report at least 300 MB.
    """

    def __init__(self, pid: int, interval: float = 0.05, slow_every: int = 20):
        self.pid = pid
        self.interval = interval
        self.slow_every = slow_every  # samples between tree scans and Pss readings
        self.peak_hwm_kb = 0
        self.peak_pss_kb = 0
        self.largest_kb = 0
        # pid -> the latest user + system clock ticks seen: the CPU time of
        # processes the round's process never waits for (a fork server's
        # workers), which RUSAGE_CHILDREN misses.
        self._cpu_ticks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def start(self) -> MemorySampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        tree = [self.pid]
        sample = 0
        while True:
            slow = sample % self.slow_every == 0
            if slow:
                tree = _process_tree(self.pid)
                pss = sum(_field_kb(f"/proc/{pid}/smaps_rollup", "Pss") for pid in tree)
                self.peak_pss_kb = max(self.peak_pss_kb, pss)
            hwm = [_field_kb(f"/proc/{pid}/status", "VmHWM") for pid in tree]
            self.peak_hwm_kb = max(self.peak_hwm_kb, sum(hwm))
            self.largest_kb = max(self.largest_kb, *hwm)
            for pid in tree:
                ticks = _cpu_ticks(pid)
                if ticks is not None:
                    self._cpu_ticks[pid] = ticks
            sample += 1
            if self._stop.wait(self.interval):
                return

    @property
    def tree_cpu(self) -> float:
        """CPU seconds of every process seen in the tree, up to its last sample
        (a process that ends loses at most one interval)."""
        return sum(self._cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")


def _cpu_ticks(pid: int) -> int | None:
    """utime + stime of a process, in clock ticks; None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return int(fields[11]) + int(fields[12])


def _process_tree(root: int) -> list[int]:
    """``root`` and every process below it, from the parent ids in /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat", "rb") as stat:
                # The command name may hold spaces and parentheses: fields
                # are counted from the last ')'.
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue  # the process ended while we looked
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        tree.append(pid)
        pending.extend(children.get(pid, ()))
    return tree


def _field_kb(path: str, key: str) -> int:
    """A "Key:   123 kB" line of a /proc file; 0 once the process is gone."""
    try:
        with open(path) as lines:
            for line in lines:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class Round:
    tool: str  # "aggregate" or "reader"
    name: str
    wall: float
    cpu: float  # user + sys of the child and every process below it
    other_cpu: float  # CPU seconds the rest of the machine used meanwhile
    peak_hwm_mb: float  # see MemorySampler
    peak_pss_mb: float
    largest_process_mb: float
    probe_ms: float  # see machine_speed_probe
    answers: dict[int, int]
    exit_code: int
    stdout: str
    stderr: str

    @property
    def total_line(self) -> str:
        """The command's total line: aggregate's last-but-one line, before
        "published to"; reader_round.py's only line."""
        lines = self.stdout.rstrip("\n").splitlines()
        for line in reversed(lines):
            if " sources, " in line or " feeds, " in line:
                return line
        return lines[-2] if len(lines) >= 2 else "(no total line)"

    def count(self, what: str) -> int | None:
        match = re.search(rf"(\d+) {what}\b", self.total_line)
        return int(match.group(1)) if match else None


def run_round(
    name: str,
    command: Sequence[str],
    server: FeedServer,
    logs: Path,
    *,
    tool: str = "aggregate",
    env: dict[str, str] | None = None,
) -> Round:
    probe_ms = machine_speed_probe()
    server.answers = {}
    stem = name if tool == "aggregate" else f"{tool}-{name}"
    stdout_path, stderr_path = logs / f"{stem}.stdout", logs / f"{stem}.stderr"
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    machine_busy_before = _machine_busy_seconds()
    with stdout_path.open("wb") as stdout, stderr_path.open("wb") as stderr:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=stdout, stderr=stderr, env=env)
        sampler = MemorySampler(process.pid).start()
        process.wait()
        wall = time.perf_counter() - start
        sampler.stop()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    reaped = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    cpu = max(reaped, sampler.tree_cpu)
    machine_busy = _machine_busy_seconds() - machine_busy_before
    return Round(
        tool=tool,
        name=name,
        wall=wall,
        cpu=cpu,
        other_cpu=max(0.0, machine_busy - cpu),
        peak_hwm_mb=sampler.peak_hwm_kb / 1024,
        peak_pss_mb=sampler.peak_pss_kb / 1024,
        largest_process_mb=sampler.largest_kb / 1024,
        probe_ms=probe_ms,
        answers=dict(server.answers),
        exit_code=process.returncode,
        stdout=stdout_path.read_text(encoding="utf-8", errors="replace"),
        stderr=stderr_path.read_text(encoding="utf-8", errors="replace"),
    )


def machine_speed_probe() -> float:
    """Milliseconds of CPU a fixed loop of Python takes, the best of three.

    A virtual machine's speed can change by half within minutes (seen here:
    the same generation of feeds took 137 s and 253 s in one afternoon).
    Rounds, or runs, whose probes differ ran on a different machine, in
    effect: compare their times only after dividing by the probe.  The cycle
    collector is off meanwhile: in this process, which holds the whole
    corpus, one of its collections would be most of what the probe measures.
    """
    best = float("inf")
    collecting = gc.isenabled()
    gc.disable()
    try:
        for _ in range(3):
            start = time.process_time()
            total = 0
            for n in range(200_000):
                total += n * n % 7
            best = min(best, time.process_time() - start)
    finally:
        if collecting:
            gc.enable()
    return best * 1000


def _machine_busy_seconds() -> float:
    """CPU seconds every CPU of the machine has spent busy (or stolen), from /proc/stat.

    What the aggregate did not use of it went to the feed server, the memory
    sampler and whatever else runs on the machine: a round timed while
    something else competes for the two cores is not comparable.
    """
    with open("/proc/stat") as stat:
        ticks = [int(value) for value in stat.readline().split()[1:]]
    # user nice system idle iowait irq softirq steal (guest time is in user)
    busy = ticks[0] + ticks[1] + ticks[2] + ticks[5] + ticks[6] + ticks[7]
    return busy / os.sysconf("SC_CLK_TCK")


# --- The benchmark ----------------------------------------------------------


def write_config(
    directory: Path, corpus: Corpus, server: FeedServer, store: str = "aggregator.db"
) -> Path:
    """feeds.yaml with every feed as a source, sections spread over three names."""
    lines = [
        "title: Benchmark",
        "allow_private: true",
        f"store: '{store}'",
        "output:",
        "  dir: out",
        "fetch:",
        # Every feed lives on the one host: per_host would otherwise cap
        # the pass at 4 connections.
        "  concurrency: 64",
        "  per_host: 64",
        "sources:",
    ]
    for feed in corpus.feeds:
        lines += [
            f"  - name: {feed.name}",
            f"    url: {server.url(feed.path)}",
            f"    section: {feed.section}",
        ]
    path = directory / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def serve_and_save(feed: GeneratedFeed, server: FeedServer, directory: Path) -> ServedDocument:
    """Serve ``feed`` and keep a copy on disk, for --keep."""
    document = server.put(feed)
    (directory / feed.path.rsplit("/", 1)[1]).write_bytes(document.body)
    return document


ROUNDS = ("cold", "warm", "changed")
READER_ROUND = Path(__file__).resolve().parent / "reader_round.py"


def reader_available() -> bool:
    return importlib.util.find_spec("reader") is not None


def benchmark(args: argparse.Namespace, workdir: Path) -> int:
    feeds_dir, logs = workdir / "feeds", workdir / "logs"
    feeds_dir.mkdir(parents=True, exist_ok=True)
    logs.mkdir(exist_ok=True)
    aggregate = Path(sys.executable).parent / "aggregate"
    with_reader = not args.no_reader and reader_available()
    reader_note = (
        "reader rounds skipped: --no-reader"
        if args.no_reader
        else None
        if with_reader
        else "reader rounds skipped: the reader library is not importable "
        f"by {sys.executable} (pip install '.[bench]')"
    )

    compiled = _byte_compile_aggregator()
    if compiled:
        print(compiled, flush=True)
    started = time.perf_counter()
    corpus = generate(args.feeds, args.items, args.seed, spread_days=args.spread_days)
    with FeedServer(compress=args.gzip, latency=args.latency_ms / 1000) as server:
        sizes = [len(serve_and_save(feed, server, feeds_dir).body) for feed in corpus.feeds]
        print(
            f"generated {len(corpus.feeds)} feeds, {corpus.items} items "
            f"({corpus.long_articles} long articles, {corpus.short_items} description-only, "
            f"{corpus.republished} republished copies), {sum(sizes) / 1e6:.1f} MB "
            f"in {time.perf_counter() - started:.1f} s; serving on {server.url('/')}"
            + (" (gzip)" if args.gzip else "")
            + (f" with {args.latency_ms} ms latency" if args.latency_ms else ""),
            flush=True,
        )
        config = write_config(workdir, corpus, server, args.store)
        command = [str(aggregate), "--once", "-c", str(config)]
        print("running:", " ".join(command), flush=True)
        reader_command: list[str] = []
        env = None
        if with_reader:
            urls = workdir / "reader-urls.txt"
            urls.write_text("".join(server.url(f.path) + "\n" for f in corpus.feeds))
            reader_command = [
                sys.executable,
                str(READER_ROUND),
                str(workdir / "reader.db"),
                str(urls),
                "--workers",
                str(args.reader_workers),
            ]
            # requests honours proxy variables; the served feeds are local.
            env = {**os.environ, "NO_PROXY": "127.0.0.1", "no_proxy": "127.0.0.1"}
            print("and:", " ".join(reader_command), flush=True)
        elif reader_note:
            print(reader_note, flush=True)

        # Each round of ours, then the same round of reader's over the same
        # served bytes: the two of a pair minutes apart at most, as the
        # machine's speed drifts (see machine_speed_probe).
        rounds = []
        for name in ROUNDS:
            if name == "changed":
                for feed in add_new_stories(corpus, args.seed):
                    serve_and_save(feed, server, feeds_dir)
            rounds.append(run_round(name, command, server, logs))
            print(f"  {name}: {rounds[-1].wall:.1f} s", flush=True)
            if with_reader:
                rounds.append(run_round(name, reader_command, server, logs, tool="reader", env=env))
                print(f"  reader {name}: {rounds[-1].wall:.1f} s", flush=True)

    print_table(rounds)
    if reader_note:
        print(reader_note)
    return check(rounds, len(corpus.feeds))


def _byte_compile_aggregator() -> str | None:
    """Byte-compile the package under test, as ``pip install`` does.

    An editable install in an environment with PYTHONDONTWRITEBYTECODE set
    (as some containers are) would otherwise compile every module from
    source in every round: a tenth of a second that no installed copy pays.
    """
    spec = importlib.util.find_spec("aggregator")
    if spec is None or not spec.submodule_search_locations:
        return None
    package = Path(next(iter(spec.submodule_search_locations)))
    if not os.access(package, os.W_OK):
        return None
    import compileall

    compileall.compile_dir(package, quiet=1)
    return f"byte-compiled {package} (as pip install does)"


def _ratio(ours: float, theirs: float) -> str:
    return f"{ours / theirs:.2f}" if theirs > 0 else "-"


# Probes of a pair's two rounds further apart than this (the slower over the
# faster): the machine's speed changed between them, and their ratio says
# more about the machine than about the tools (seen: 17.8 then 9.7 ms, and
# our cold CPU 1.02 of reader's, against 0.82 with probes of 10.4 and 10.0
# in the next run).
PROBE_DRIFT = 1.25


def _drifted(ours: Round, theirs: Round) -> bool:
    low, high = sorted((ours.probe_ms, theirs.probe_ms))
    return low > 0 and high / low > PROBE_DRIFT


def print_table(rounds: Sequence[Round]) -> None:
    by_key = {(r.tool, r.name): r for r in rounds}
    print()
    print(
        f"{'tool':<9} {'round':<8} {'wall s':>7} {'CPU s':>7} {'other s':>7} {'peak MB':>8} "
        f"{'PSS MB':>7} {'proc MB':>8} {'probe':>6} {'200/304':>9} {'wall x':>7} {'CPU x':>6}  "
        "total line"
    )
    drifted: list[str] = []
    for name in ROUNDS:
        for tool in ("aggregate", "reader"):
            r = by_key.get((tool, name))
            if r is None:
                continue
            theirs = by_key.get(("reader", name))
            wall_x = cpu_x = ""
            if tool == "aggregate" and theirs is not None:
                wall_x, cpu_x = _ratio(r.wall, theirs.wall), _ratio(r.cpu, theirs.cpu)
                if _drifted(r, theirs):
                    wall_x, cpu_x = wall_x + "?", cpu_x + "?"
                    drifted.append(f"{name} ({r.probe_ms:.1f} against {theirs.probe_ms:.1f} ms)")
            answers = f"{r.answers.get(200, 0)}/{r.answers.get(304, 0)}"
            print(
                f"{r.tool:<9} {r.name:<8} {r.wall:>7.1f} {r.cpu:>7.1f} {r.other_cpu:>7.1f} "
                f"{r.peak_hwm_mb:>8.0f} {r.peak_pss_mb:>7.0f} {r.largest_process_mb:>8.0f} "
                f"{r.probe_ms:>6.1f} {answers:>9} {wall_x:>7} {cpu_x:>6}  {r.total_line}"
            )
    print(
        "CPU s: user+sys of the round's process and every process below it (the larger of "
        "RUSAGE_CHILDREN and /proc samples of the tree every 50 ms)\n"
        "other s: CPU time the rest of the machine used meanwhile (server, sampler, anything "
        f"else; {os.cpu_count()} CPUs)\n"
        "peak MB: largest sum of VmHWM over the round's process tree, sampled every 50 ms "
        "(upper bound: counts pages shared with forked workers once per process)\n"
        "PSS MB: largest sum of Pss over the same tree, sampled every second (shared pages "
        "split)\n"
        "proc MB: largest VmHWM of a single process of the tree\n"
        "probe: ms of CPU a fixed loop took just before the round (machine_speed_probe): "
        "times of rounds whose probes differ compare only divided by it\n"
        "200/304: the test server's answers during the round\n"
        "wall x, CPU x: aggregate's wall (CPU) time over reader's in the same round; reader "
        "fetches, parses and stores, but neither summarizes nor publishes"
    )
    if drifted:
        print(
            "?: the machine's speed changed between the two rounds of the pair, by their "
            f"probes: {', '.join(drifted)}; their ratio is not a comparison, run again"
        )


def check(rounds: Sequence[Round], feed_count: int) -> int:
    """0 when every round succeeded, both warm rounds did no work and both
    tools got the same answers from the server in every round; else 1."""
    failed = False
    for r in rounds:
        if r.exit_code != 0 or r.count("failed") != 0:
            failed = True
            print(f"{r.tool} {r.name}: exit code {r.exit_code}; {r.total_line}")
            errors = [line for line in r.stdout.splitlines() if line.startswith("error")]
            for line in errors[:5] + r.stderr.strip().splitlines()[-10:]:
                print("   ", line)
    by_key = {(r.tool, r.name): r for r in rounds}

    warm = by_key["aggregate", "warm"]
    parsed, summarized = warm.count("parsed"), warm.count("summarized")
    all_not_modified = warm.answers.get(304, 0) == feed_count
    verdict = "ok" if (parsed, summarized) == (0, 0) and all_not_modified else "FAILED"
    print(
        f"warm round: {parsed} parsed, {summarized} summarized, "
        f"{warm.answers.get(304, 0)} of {feed_count} answered 304: {verdict}"
    )
    verdicts = [verdict]

    reader_warm = by_key.get(("reader", "warm"))
    if reader_warm is not None:
        not_modified = reader_warm.count("not modified")
        ok = not_modified == feed_count == reader_warm.answers.get(304, 0)
        verdicts.append("ok" if ok else "FAILED")
        print(
            f"reader warm round: {not_modified} not modified, "
            f"{reader_warm.answers.get(304, 0)} of {feed_count} answered 304: {verdicts[-1]}"
        )
        same = all(
            by_key["aggregate", name].answers == by_key["reader", name].answers for name in ROUNDS
        )
        verdicts.append("ok" if same else "FAILED")
        print(
            "server answers, aggregate vs reader: "
            + ", ".join(
                f"{name} {_answers(by_key['aggregate', name])} vs "
                f"{_answers(by_key['reader', name])}"
                for name in ROUNDS
            )
            + f": {verdicts[-1]}"
        )
    return 1 if failed or any(v != "ok" for v in verdicts) else 0


def _answers(r: Round) -> str:
    return "/".join(f"{count} {status}" for status, count in sorted(r.answers.items())) or "none"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--feeds", type=int, default=1_000, help="number of feeds (default 1000)")
    parser.add_argument("--items", type=int, default=30, help="items per feed (default 30)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--gzip", action="store_true", help="serve gzip to clients that accept it")
    parser.add_argument(
        "--spread-days",
        type=int,
        default=0,
        metavar="DAYS",
        help=(
            f"date each block of {SPREAD_EVERY:,} feeds DAYS days before the block before it "
            "(default 0: every feed over the same five days); with 8, a near-duplicate "
            "window holds about as many copies at 10,000 feeds as at 1,000: growth at equal density"
        ),
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0, help="server delay before each answer (default 0)"
    )
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="generate into DIR and keep it (default: a temp dir)",
    )
    parser.add_argument(
        "--store",
        default="aggregator.db",
        metavar="PATH|URL",
        help="the store: a SQLite file in the work directory (default aggregator.db) or "
        "the URL of an empty PostgreSQL database",
    )
    parser.add_argument(
        "--no-reader",
        action="store_true",
        help="skip the rounds of the reader library (the yardstick)",
    )
    parser.add_argument(
        "--reader-workers",
        type=int,
        default=16,
        help="reader's update_feeds(workers=...) (default 16)",
    )
    args = parser.parse_args(argv)
    if args.feeds < 1 or args.items < 1:
        parser.error("--feeds and --items must be at least 1")
    if args.reader_workers < 1:
        parser.error("--reader-workers must be at least 1")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        # A database left by an earlier run would make the cold round warm.
        databases = [
            f"{db}{suffix}"
            for db in ("aggregator.db", "reader.db")
            for suffix in ("", "-wal", "-shm", "-journal")
        ]
        for stale in (*databases, "out"):
            path = args.keep / stale
            if path.is_dir():
                shutil.rmtree(path)
            elif path.exists():
                path.unlink()
        return benchmark(args, args.keep.resolve())
    with tempfile.TemporaryDirectory(prefix="aggregator-bench-") as workdir:
        return benchmark(args, Path(workdir))


if __name__ == "__main__":
    raise SystemExit(main())
