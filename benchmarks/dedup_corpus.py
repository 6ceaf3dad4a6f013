"""A labelled corpus for near-duplicate detection: stories republished across feeds.

    stories (benchmarks/pipeline.py's Prose)  ->  copies in other feeds, edited
      +  hard negatives: same subject same day, updates that are new news,
         recurring items with near-identical text (briefings, price tables)
      ->  items (source, id, link, title, HTML, date, label)

Items with the same ``story`` label are copies of one story; everything else
is a different story.  What the generator did to each item is in ``kind``, so
a report can say which edits are missed and which negatives are merged.

Copies of a story get another link (another site, tracking parameters) and
their own id, and one or two edits (three in the ``hard`` profile): an edited
headline (synonyms, a prefix, an outlet suffix, title case), trimmed or
extended text, syndication boilerplate before or after, a teaser of one or
two sentences, the title alone, words changed throughout, and the edits near
the start that a lead-only index misses: a first sentence rewritten (synonyms,
abbreviations such as "European Union" -> "EU", dropped words), the first
sentence dropped, an intro added, credit lines ("Reporting by ...; Editing
by ...") before or after, a paragraph dropped.  They appear up to a day after
the original.

Profiles (``PROFILES``) weigh the edits differently, so that what is tuned on
one is checked on another: ``default``, and ``hard``, held out, where most
copies are edited at their start and get more edits each.

Hard negatives, none of which is a copy of anything:

* ``same-subject``: another story on the same frame (place, organisation,
  person, topic) on the same day, from another feed;
* ``update``: a follow-up that is new news: a new headline and new lead
  paragraphs, with some of the first story's paragraphs kept as background,
  hours to two days later;
* ``recurring``: a feed's daily briefing, price table or weather report, the
  same template every day with the date, the numbers and a few lines changed.
  A recurring item may itself be copied by a second feed on the same day: that
  copy is a real duplicate.

Everything comes from ``random.Random(seed)``: the same arguments give the
same corpus.
"""

from __future__ import annotations

import importlib.util
import random
import re
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path
from types import ModuleType
from typing import Any


def _load_prose() -> ModuleType:
    # benchmarks/ is not a package; load the pipeline benchmark's prose by path.
    name = "benchmark_pipeline"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("pipeline.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_bench = _load_prose()
Prose = _bench.Prose
Frame = _bench.Frame
PLACES: tuple[str, ...] = _bench.PLACES
SURNAMES: tuple[str, ...] = _bench.SURNAMES
FIRST_NAMES: tuple[str, ...] = _bench.FIRST_NAMES
MONTHS: tuple[str, ...] = _bench.MONTHS
WEEKDAYS: tuple[str, ...] = _bench.WEEKDAYS
SECTIONS = ("World", "Business", "Science")

START = datetime(2024, 6, 1, 0, 0, tzinfo=UTC)

OUTLET_WORDS = ("Herald", "Courier", "Post", "Times", "Tribune", "Wire", "Daily", "Observer")

# Headline words outlets swap for their own.
SYNONYMS = {
    "approved": "backed",
    "rejected": "rebuffed",
    "expanded": "widened",
    "delayed": "postponed",
    "launched": "unveiled",
    "cut": "slashed",
    "raised": "lifted",
    "plan": "scheme",
    "deal": "agreement",
    "says": "claims",
    "clash": "spar",
    "options": "choices",
    "brace": "prepare",
    "race": "rush",
    "after": "following",
    "new": "fresh",
    "will": "is set to",
    "announced": "revealed",
    "investigated": "probed",
    "suspended": "halted",
    "challenged": "contested",
    "reviewed": "examined",
    "supported": "endorsed",
    "blocked": "stopped",
    "said": "stated",
    "expect": "anticipate",
    "critics": "opponents",
    "officials": "authorities",
    "figures": "data",
    "months": "months",
    "residents": "locals",
    "decision": "ruling",
    "unexpected": "surprise",
    "controversial": "disputed",
    "modest": "small",
    "sweeping": "broad",
    "costly": "expensive",
    "rapid": "quick",
    "sharp": "steep",
}
TITLE_PREFIXES = ("Breaking: ", "Analysis: ", "Exclusive: ", "Watch: ", "In brief: ")
BOILERPLATE_BEFORE = (
    "Editor's note: This article is republished from {origin} under a Creative Commons license.",
    "This story was originally published by {origin}.",
    "({origin}) —",
    "By {author}, {origin}.",
)
BOILERPLATE_AFTER = (
    "This article originally appeared on {origin}. Read the original article.",
    "Copyright 2024 {outlet}. All rights reserved.",
    "Sign up for our newsletter to get the latest news delivered to your inbox.",
    "The post {title} appeared first on {origin}.",
    "Follow us on social media for more updates. Click here to subscribe.",
    "{author} contributed reporting. © 2024 {outlet}",
)
# Long forms in the prose and what outlets shorten them to (or the other way).
ABBREVIATIONS = {
    "the European Commission": "the EU Commission",
    "the World Health Organization": "the WHO",
    "the International Monetary Fund": "the IMF",
    "the environmental protection agency": "the EPA",
    "parliament's budget committee": "the budget committee",
    "the competition regulator": "the competition watchdog",
    "per cent": "%",
    "million": "mln",
    "according to": "per",
    "the finance minister": "finance minister",
    "the chief executive": "the CEO",
}
# Small words an editor drops from a sentence without changing what it says.
DROPPABLE = frozenset(["on", "the", "that", "a", "its", "of", "has", "have", "in", "also"])
INTROS = (
    "In a move that caught many observers by surprise, the news broke late in the day.",
    "Here is what we know so far.",
    "The story is developing and will be updated as more details emerge.",
    "It is the latest twist in a saga that has dragged on for months.",
    "Readers have asked us to explain what this means for them.",
    "Our correspondent reports from the scene.",
)
CREDITS_BEFORE = (
    "By {author} | {origin}",
    "Photo: {origin}/{author}",
    "{author} reports for {origin}.",
    "Updated at {hour}:{minute:02d} GMT",
)
CREDITS_AFTER = (
    "Reporting by {author} in {place}; Editing by {editor}",
    "Additional reporting by {editor}; writing by {author}.",
    "({author} reported from {place}. {editor} contributed.)",
    "{origin} staff and wire services",
    "Photo credit: {editor} for {origin}.",
)
# Copy edits and how often each is picked, per profile; a copy gets
# ``EDITS_PER_COPY[profile]`` of them (drawn with replacement).
PROFILES: dict[str, dict[str, int]] = {
    "default": {
        "relink": 3,  # only another link and id (the text is the same: an exact copy)
        "retitle": 5,
        "trim": 4,
        "extend": 3,
        "boilerplate": 4,
        "words": 3,
        "teaser": 2,
        "title-only": 1,
        "lead-words": 4,  # the first sentence edited: synonyms, abbreviations, dropped words
        "drop-first": 3,  # the first sentence dropped
        "intro": 3,  # an intro added before the first sentence
        "credit": 3,  # credit lines before or after
        "drop-paragraph": 2,  # a paragraph after the first dropped
    },
    # Held out: edits at the start dominate, and they come in threes.
    "hard": {
        "retitle": 6,
        "trim": 2,
        "extend": 2,
        "boilerplate": 2,
        "words": 3,
        "teaser": 1,
        "lead-words": 6,
        "drop-first": 5,
        "intro": 5,
        "credit": 4,
        "drop-paragraph": 3,
    },
}
EDITS_PER_COPY = {"default": (1, 2), "hard": (2, 3)}
EDITS = PROFILES["default"]
TRACKING = ("utm_source=rss&utm_medium=feed", "fbclid=IwAR{n}", "ref=partner&utm_campaign={n}")


@dataclass
class Outlet:
    index: int
    name: str
    title: str
    site: str
    section: str


@dataclass
class Item:
    """One entry of one feed, with its label."""

    source: str
    entry_id: str
    link: str
    title: str
    html: str  # sanitized-looking HTML paragraphs; "" for a title alone
    published: datetime
    story: str  # items with the same story are duplicates
    kind: str  # what the generator made: original, or the edits / the negative's kind
    author: str = ""


@dataclass
class Article:
    """A story before any outlet carries it: a title and paragraphs of plain text."""

    frame: Any
    title: str
    paragraphs: list[str]
    published: datetime
    author: str


@dataclass
class Corpus:
    outlets: list[Outlet]
    items: list[Item] = field(default_factory=list)

    def by_time(self) -> list[Item]:
        return sorted(self.items, key=lambda i: (i.published, i.source, i.entry_id))

    def groups(self) -> int:
        counts: dict[str, int] = {}
        for item in self.items:
            counts[item.story] = counts.get(item.story, 0) + 1
        return sum(1 for n in counts.values() if n > 1)


def generate(
    stories: int,
    *,
    outlets: int = 40,
    days: float = 7.0,
    seed: int = 1,
    duplicate_share: float = 0.3,
    negative_share: float = 0.25,
    profile: str = "default",
) -> Corpus:
    """``stories`` stories over ``days`` days in ``outlets`` feeds.

    A ``duplicate_share`` of the stories is carried by one to four more feeds,
    their copies edited as ``profile`` says (a key of :data:`PROFILES`);
    a ``negative_share`` of them gets a hard negative (a same-subject story or
    an update).  Recurring items come on top: a few feeds post one every day.
    """
    weights = PROFILES[profile]
    per_copy = EDITS_PER_COPY[profile]
    rng = random.Random(seed)
    prose = Prose(rng)
    feeds = [_outlet(rng, index) for index in range(outlets)]
    corpus = Corpus(feeds)
    seconds = days * 86400
    for number in range(stories):
        outlet = rng.choice(feeds)
        published = START + timedelta(seconds=rng.uniform(0, seconds))
        article = _article(prose, outlet.section, published)
        story = f"s{number}"
        original = _item(rng, outlet, f"{story}-0", article, story, "original")
        shape = rng.random()
        if shape < 0.12:  # some originals are teasers or a title alone
            original.html = _html(_teaser(article.paragraphs))
            original.kind = "original-teaser"
        corpus.items.append(original)
        if rng.random() < duplicate_share and outlets > 1:
            others = [o for o in feeds if o is not outlet]
            for copy_number, partner in enumerate(rng.sample(others, rng.randint(1, 4)), 1):
                corpus.items.append(
                    _copy(rng, prose, partner, article, story, copy_number, weights, per_copy)
                )
        if rng.random() < negative_share and outlets > 1:
            if rng.random() < 0.5:
                corpus.items.extend(_same_subject(rng, prose, feeds, outlet, article, story))
            else:
                corpus.items.extend(_update(rng, prose, feeds, article, story))
    corpus.items.extend(_recurring(rng, feeds, days))
    corpus.items.sort(key=lambda i: (i.published, i.source, i.entry_id))
    return corpus


def _outlet(rng: random.Random, index: int) -> Outlet:
    name = f"{rng.choice(PLACES)} {rng.choice(OUTLET_WORDS)}"
    return Outlet(
        index=index,
        name=f"feed-{index:03d}",
        title=name,
        site=f"https://{name.lower().replace(' ', '-')}-{index}.example",
        section=SECTIONS[index % len(SECTIONS)],
    )


def _article(prose: Any, section: str, published: datetime) -> Article:
    rng: random.Random = prose.rng
    frame = prose.frame(section)
    paragraphs = [prose.paragraph(frame, rng.randint(2, 5)) for _ in range(rng.randint(2, 7))]
    author = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
    return Article(frame, prose.title(frame), paragraphs, published, author)


def _slug(title: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:60]


def _link(rng: random.Random, outlet: Outlet, title: str, published: datetime) -> str:
    link = f"{outlet.site}/{outlet.section.lower()}/{published:%Y/%m/%d}/{_slug(title)}"
    link += f"-{rng.randrange(10**6)}"
    if rng.random() < 0.4:
        link += "?" + rng.choice(TRACKING).format(n=rng.randrange(10**4))
    return link


def _html(paragraphs: Sequence[str]) -> str:
    return "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs if p)


def _item(
    rng: random.Random,
    outlet: Outlet,
    entry_id: str,
    article: Article,
    story: str,
    kind: str,
    *,
    title: str | None = None,
    paragraphs: Sequence[str] | None = None,
    published: datetime | None = None,
) -> Item:
    title = title if title is not None else article.title
    when = published or article.published
    return Item(
        source=outlet.name,
        entry_id=f"urn:{outlet.name}:{entry_id}",
        link=_link(rng, outlet, title, when),
        title=title,
        html=_html(article.paragraphs if paragraphs is None else paragraphs),
        published=when,
        story=story,
        kind=kind,
        author=article.author,
    )


def _sentences(paragraph: str) -> list[str]:
    return re.split(r"(?<=[.!?”])\s+(?=[A-Z“])", paragraph)


def _teaser(paragraphs: Sequence[str]) -> list[str]:
    return [" ".join(_sentences(paragraphs[0])[:2])]


def _retitle(rng: random.Random, title: str, outlet: Outlet) -> str:
    words = title.split()
    swapped = [SYNONYMS.get(w.lower(), w) if rng.random() < 0.7 else w for w in words]
    if swapped[0] != words[0]:
        swapped[0] = swapped[0][:1].upper() + swapped[0][1:]
    new = " ".join(swapped)
    roll = rng.random()
    if roll < 0.25:
        new = rng.choice(TITLE_PREFIXES) + new
    elif roll < 0.5:
        new = f"{new} {rng.choice(('-', '|', '–'))} {outlet.title}"
    elif roll < 0.65:
        new = new.title()
    elif roll < 0.8 and " as " in new:
        new = new.split(" as ", 1)[0]
    return new


def _edit_words(rng: random.Random, paragraphs: Sequence[str], share: float) -> list[str]:
    edited = []
    for paragraph in paragraphs:
        words = paragraph.split(" ")
        for index, word in enumerate(words):
            if rng.random() < share:
                bare = word.strip(".,“”").lower()
                if bare in SYNONYMS:
                    words[index] = word.replace(bare, SYNONYMS[bare])
                elif rng.random() < 0.3:
                    words[index] = ""  # a dropped word
        sentences = _sentences(" ".join(w for w in words if w))
        if len(sentences) > 2 and rng.random() < 0.3:  # a dropped sentence
            del sentences[rng.randrange(1, len(sentences))]
        edited.append(" ".join(sentences))
    return edited


def _edit_lead(rng: random.Random, paragraphs: Sequence[str]) -> list[str]:
    """The first sentence as another desk words it: long forms shortened (or
    the other way), synonyms swapped, a few small words dropped."""
    sentences = _sentences(paragraphs[0])
    first = sentences[0]
    for long, short in ABBREVIATIONS.items():
        if long in first and rng.random() < 0.8:
            first = first.replace(long, short)
        elif short in first and rng.random() < 0.3:
            first = first.replace(short, long)
    words = first.split(" ")
    for index, word in enumerate(words):
        bare = word.strip(".,“”").lower()
        if bare in SYNONYMS and rng.random() < 0.7:
            words[index] = word.replace(bare, SYNONYMS[bare])
        elif bare in DROPPABLE and index and rng.random() < 0.35:
            words[index] = ""
    first = " ".join(w for w in words if w)
    return [" ".join([first, *sentences[1:]]), *paragraphs[1:]]


def _drop_first(paragraphs: Sequence[str]) -> list[str]:
    """The text without its first sentence (without its first paragraph if
    that was one sentence)."""
    sentences = _sentences(paragraphs[0])
    if len(sentences) > 1:
        return [" ".join(sentences[1:]), *paragraphs[1:]]
    return list(paragraphs[1:]) or list(paragraphs)


def _copy(
    rng: random.Random,
    prose: Any,
    outlet: Outlet,
    article: Article,
    story: str,
    number: int,
    weights: dict[str, int] = EDITS,
    per_copy: tuple[int, int] = (1, 2),
) -> Item:
    names = list(weights)
    edits = set(rng.choices(names, weights=[weights[n] for n in names], k=rng.randint(*per_copy)))
    title = article.title
    paragraphs = list(article.paragraphs)
    origin = f"{rng.choice(PLACES)} {rng.choice(OUTLET_WORDS)}"
    if "retitle" in edits:
        title = _retitle(rng, title, outlet)
    if "lead-words" in edits:
        paragraphs = _edit_lead(rng, paragraphs)
    start = list(paragraphs)  # what a teaser of this copy starts with
    if "drop-first" in edits:
        paragraphs = _drop_first(paragraphs)
    if "words" in edits:
        paragraphs = _edit_words(rng, paragraphs, rng.uniform(0.03, 0.1))
    if "drop-paragraph" in edits and len(paragraphs) > 2:
        del paragraphs[rng.randrange(1, len(paragraphs))]
    if "trim" in edits and len(paragraphs) > 1:
        paragraphs = paragraphs[: rng.randint(1, len(paragraphs) - 1)]
    if "extend" in edits:
        extra = [
            prose.paragraph(article.frame, rng.randint(2, 4)) for _ in range(rng.randint(1, 3))
        ]
        paragraphs = paragraphs + extra
    if "boilerplate" in edits:
        slots = {"origin": origin, "outlet": outlet.title, "title": title, "author": article.author}
        if rng.random() < 0.5:
            paragraphs.insert(0, rng.choice(BOILERPLATE_BEFORE).format(**slots))
        if rng.random() < 0.7:
            paragraphs.append(rng.choice(BOILERPLATE_AFTER).format(**slots))
    if "intro" in edits:
        intro = rng.choice(INTROS)
        if rng.random() < 0.5:  # a sentence of the outlet's own on the story
            intro = prose.sentence(article.frame)
        if rng.random() < 0.5 and paragraphs:
            paragraphs[0] = f"{intro} {paragraphs[0]}"
        else:
            paragraphs.insert(0, intro)
    if "credit" in edits:
        slots = {
            "origin": origin,
            "author": article.author,
            "editor": f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}",
            "place": rng.choice(PLACES),
            "hour": rng.randint(0, 23),
            "minute": rng.randint(0, 59),
        }
        if rng.random() < 0.5:
            paragraphs.insert(0, rng.choice(CREDITS_BEFORE).format(**slots))
        if rng.random() < 0.7:
            paragraphs.append(rng.choice(CREDITS_AFTER).format(**slots))
    if "teaser" in edits:
        paragraphs = _teaser(start)
    if "title-only" in edits:
        paragraphs = []
        if "retitle" not in edits and rng.random() < 0.5:
            title = f"{title} - {outlet.title}"
    delay = timedelta(minutes=rng.choice((rng.randint(5, 240), rng.randint(5, 1440))))
    return _item(
        rng,
        outlet,
        f"{story}-{number}",
        article,
        story,
        "+".join(sorted(edits)),
        title=title,
        paragraphs=paragraphs,
        published=article.published + delay,
    )


def _same_subject(
    rng: random.Random,
    prose: Any,
    feeds: Sequence[Outlet],
    outlet: Outlet,
    article: Article,
    story: str,
) -> Iterator[Item]:
    """Another story on the same frame, the same day: not a copy."""
    others = [o for o in feeds if o is not outlet]
    for number in range(rng.randint(1, 2)):
        other = Article(
            article.frame,
            prose.title(article.frame),
            [prose.paragraph(article.frame, rng.randint(2, 5)) for _ in range(rng.randint(2, 6))],
            article.published + timedelta(minutes=rng.randint(-600, 600)),
            article.author,
        )
        label = f"{story}-subject{number}"
        item = _item(rng, rng.choice(others), label, other, label, "same-subject")
        if rng.random() < 0.3:
            item.html = _html(_teaser(other.paragraphs))
            item.kind = "same-subject-teaser"
        yield item


UPDATE_TITLES = (
    "{org} confirms {number} more {group} affected as {noun} row deepens",
    "{surname} steps down days after {noun} announcement",
    "{place} reverses course on {noun} after {number}-hour standoff",
    "{noun} talks collapse in {place}; {org} vows to press on",
    "Court halts {noun} plan in {place} pending a review",
    "{org} puts {noun} cost at {amount} euros, {number} times first estimate",
)


def _update(
    rng: random.Random, prose: Any, feeds: Sequence[Outlet], article: Article, story: str
) -> Iterator[Item]:
    """A follow-up with new facts: new headline and lead, old paragraphs as background."""
    frame = article.frame
    title = rng.choice(UPDATE_TITLES).format(
        org=frame.org,
        surname=frame.surname,
        place=frame.place,
        noun=rng.choice(frame.topic),
        number=rng.randint(2, 90),
        group=rng.choice(("households", "workers", "patients", "residents", "firms")),
        amount=f"{rng.randint(2, 900)} million",
    )
    title = title[:1].upper() + title[1:]
    lead = [prose.paragraph(frame, rng.randint(2, 4)) for _ in range(rng.randint(1, 2))]
    kept = rng.randint(1, max(1, len(article.paragraphs) - 1))
    background = rng.sample(article.paragraphs, kept)
    background.sort(key=article.paragraphs.index)
    update = Article(
        frame,
        title,
        [*lead, *background],
        article.published + timedelta(hours=rng.uniform(4, 48)),
        article.author,
    )
    label = f"{story}-update"
    yield _item(rng, rng.choice(feeds), label, update, label, "update")


BRIEFING_STYLES = (
    (
        "Good morning from the {outlet}. It is {day}, and here is what you need to know today.",
        "That is all for this morning. Our next briefing arrives tomorrow at six.",
    ),
    (
        "Hello and welcome to {day}. These are the stories the {outlet} is watching.",
        "Thanks for reading; we will be back with more tomorrow.",
    ),
    (
        "Your {outlet} briefing for {day}: five things to start the day.",
        "Have a good day, and see you tomorrow morning.",
    ),
)
PRICE_ITEMS = (
    "Petrol",
    "Diesel",
    "Heating oil",
    "Natural gas",
    "Electricity (day)",
    "Electricity (night)",
    "Gold",
    "Silver",
    "Wheat",
    "Coffee",
)


def _recurring(rng: random.Random, feeds: Sequence[Outlet], days: float) -> Iterator[Item]:
    """Daily items of a few feeds: the same template, a new date and new numbers."""
    if len(feeds) < 2:
        return
    count = max(1, len(feeds) // 10)
    for kind_index, outlet in enumerate(rng.sample(list(feeds), count)):
        kind = ("briefing", "prices", "weather")[kind_index % 3]
        place = rng.choice(PLACES)
        greeting, closing = rng.choice(BRIEFING_STYLES)
        prices = [rng.uniform(0.5, 2500) for _ in PRICE_ITEMS]
        for day in range(int(days)):
            date = START + timedelta(days=day, hours=6, minutes=rng.randint(0, 30))
            weekday, month = WEEKDAYS[date.weekday()], MONTHS[date.month - 1]
            label = f"{outlet.name}-{kind}-{day}"
            if kind == "briefing":
                title = f"{outlet.title} morning briefing for {weekday}"
                if rng.random() < 0.5:
                    title += f", {month} {date.day}"
                lines = [
                    greeting.format(outlet=outlet.title, day=f"{weekday}, {month} {date.day}"),
                    *(
                        f"{rng.choice(PLACES)}: {rng.choice(SURNAMES)} "
                        f"{rng.choice(('wins', 'loses', 'faces', 'leads'))} "
                        f"{rng.choice(('vote', 'race', 'appeal', 'talks'))}."
                        for _ in range(4)
                    ),
                    closing,
                    "You are receiving this briefing because you subscribed to our updates.",
                ]
            elif kind == "prices":
                title = f"Energy and commodity prices in {place}, {weekday} {date.day} {month}"
                for index in range(len(prices)):
                    prices[index] *= rng.uniform(0.97, 1.03)
                lines = [
                    f"Prices on {weekday} {date.day} {month} {date.year}, as reported at 6 am.",
                    *(f"{n}: {p:,.2f} per unit." for n, p in zip(PRICE_ITEMS, prices, strict=True)),
                    "Prices are indicative and may change during the day.",
                ]
            else:
                title = f"Weather in {place} for {weekday}"
                high = rng.randint(8, 32)
                lines = [
                    f"{weekday} in {place}: a high of {high} degrees and a low of "
                    f"{high - rng.randint(4, 12)}, with winds of {rng.randint(5, 40)} km/h.",
                    f"Chance of rain {rng.randint(0, 100)} per cent in the afternoon.",
                    "Forecasts are updated every morning at six.",
                ]
            article = Article(None, title, lines, date, "Desk")
            item = _item(rng, outlet, label, article, label, f"recurring-{kind}")
            yield item
            if rng.random() < 0.15:  # a partner carries the day's item too: a real copy
                partner = rng.choice([o for o in feeds if o is not outlet])
                later = date + timedelta(minutes=rng.randint(10, 120))
                yield _item(
                    rng, partner, f"{label}-copy", article, label, f"recurring-{kind}-copy",
                    published=later,
                )  # fmt: skip
