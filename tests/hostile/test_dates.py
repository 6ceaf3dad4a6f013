"""Dates out of any sane range, in every kind of source, through ``aggregate --once``.

Every entry date is clamped once, on entry (no earlier than 1970, no later
than a day past when it was seen), so nothing downstream (dedup windows,
digests, the feeds) can overflow on it.  A date that names no moment
(February 30th, a -25:00 offset) is no date, in every format, with one
warning for the source.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

from aggregator.cli import main
from tests.feedserver import FeedServer, Route
from tests.hostile.corpus import CASES, serve
from tests.hostile.test_hostile_pass import status_lines

ARTICLE = """---
title: {title}
date: {date}
---
The article starts here. It has a few sentences about the harbour.

## A heading

The harbour opened again after a long winter. Ships came back.
"""


def test_dates_out_of_range_are_clamped_in_every_kind_of_source(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for name, date in [("year-one", "0001-01-01"), ("year-9999", "9999-12-31T23:59:59Z")]:
        text = ARTICLE.format(title=f"Local {name}", date=date)
        (articles / f"{name}.md").write_text(text, encoding="utf-8")

    cases = tuple(c for c in CASES if c.name.startswith("year-one"))
    serve(feed_server, cases)
    lines = ["allow_private: true", "store: state.db", "sources:"]
    lines.append("  - {name: local, path: articles, section: S}")
    lines += [f"  - {{name: {c.name}, url: {feed_server.url(c.path)}, section: S}}" for c in cases]
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    before = datetime.now(UTC).replace(microsecond=0)
    output = io.StringIO()
    with redirect_stdout(output):
        code = main(["--once", "-c", str(tmp_path / "feeds.yaml")])
    assert code == 0
    status = status_lines(output.getvalue().splitlines())
    assert all(line.startswith("new") for line in status.values()), status
    assert len(status) == 1 + len(cases)

    items = json.loads((tmp_path / "out" / "feed.json").read_bytes())["items"]
    dates = {item["title"]: datetime.fromisoformat(item["date_published"]) for item in items}
    for title in ("Local year-one", "Year one in RSS", "Year one in Atom", "Year one in JSON Feed"):
        assert dates[title] == datetime(1970, 1, 1, tzinfo=UTC), title
    assert before <= dates["Local year-9999"] <= datetime.now(UTC)


# Golden pairs: an entry date as a feed writes it, and the date it is stored
# and published with; None for a date that names no moment (no such day, an
# offset of a day or more, year 0 or 99999), which is no date at all: the
# entry is dated when it was first seen, never moved to another real date.
GOLDEN: list[tuple[str, datetime | None]] = [
    ("2026-02-30T10:00:00Z", None),  # feedparser: March 2
    ("2026-02-28T10:00:00-25:00", None),  # feedparser: a day later
    ("2026-02-28T10:00:00+99:99", None),
    ("0000-01-01T00:00:00Z", None),
    ("99999-01-01T00:00:00Z", None),  # feedparser: 9999-12-01
    ("2026-13-01T00:00:00Z", None),  # feedparser: January 2027
    ("Sun, 31 Nov 2026 10:00:00 GMT", None),
    ("Sat, 28 Feb 2026 10:00:00 -2500", None),
    ("Sat, 28 Feb 0000 10:00:00 GMT", None),  # email.utils: the year 2000
    ("2024-02-29T10:00:00+14:00", datetime(2024, 2, 28, 20, tzinfo=UTC)),
    ("Thu, 29 Feb 2024 10:00:00 +0100", datetime(2024, 2, 29, 9, tzinfo=UTC)),
]


def golden_feed(kind: str) -> bytes:
    """Every golden date in one feed of ``kind``, entry ``<kind> <n>`` dated by the n-th."""
    if kind == "json":
        items = [
            {"id": f"{kind}-{n}", "title": f"{kind} {n}", "date_published": text}
            | {"url": f"http://dates.example/{kind}/{n}", "content_text": "Dated oddly."}
            for n, (text, _expected) in enumerate(GOLDEN)
        ]
        return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": items}).encode()
    if kind == "atom":
        entries = "".join(
            f"<entry><title>{kind} {n}</title><id>urn:{kind}:{n}</id>"
            f'<link href="http://dates.example/{kind}/{n}"/>'
            f"<published>{text}</published><updated>{text}</updated>"
            "<summary>Dated oddly.</summary></entry>"
            for n, (text, _expected) in enumerate(GOLDEN)
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Atom dates</title><id>urn:{kind}</id>"
            f"<updated>2024-06-03T12:00:00Z</updated>{entries}</feed>"
        ).encode()
    items = "".join(
        f"<item><title>{kind} {n}</title><link>http://dates.example/{kind}/{n}</link>"
        f"<pubDate>{text}</pubDate><description>Dated oddly.</description></item>"
        for n, (text, _expected) in enumerate(GOLDEN)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>RSS dates</title>{items}</channel></rss>"
    ).encode()


def test_impossible_dates_are_no_date_in_every_format_with_one_warning_per_source(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    kinds = ("rss", "atom", "json")
    for kind in kinds:
        feed_server.add(f"/{kind}", Route(golden_feed(kind)))
    lines = ["allow_private: true", "store: state.db", "output:", "  max_entries: 500"]
    lines += ["sources:"]
    lines += [
        f"  - {{name: {kind}, url: {feed_server.url('/' + kind)}, section: S}}" for kind in kinds
    ]
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    before = datetime.now(UTC).replace(microsecond=0)
    output = io.StringIO()
    with redirect_stdout(output):
        code = main(["--once", "-c", str(tmp_path / "feeds.yaml")])
    after = datetime.now(UTC)
    assert code == 0
    status = status_lines(output.getvalue().splitlines())
    impossible = sum(expected is None for _text, expected in GOLDEN)
    for kind in kinds:
        # One warning in the source's status line, naming the first entry.
        assert status[kind].startswith(f"new        {kind}: {len(GOLDEN)} new,"), status[kind]
        assert status[kind].endswith(
            f"(warning: {impossible} entries with an impossible or unreadable date, taken as"
            f" undated (first: '{kind} 0' dated '{GOLDEN[0][0]}'))"
        ), status[kind]

    items = json.loads((tmp_path / "out" / "feed.json").read_bytes())["items"]
    dates = {item["title"]: datetime.fromisoformat(item["date_published"]) for item in items}
    for kind in kinds:
        for n, (text, expected) in enumerate(GOLDEN):
            got = dates[f"{kind} {n}"]
            if expected is None:
                assert before <= got <= after, (kind, text, got)  # first seen
            else:
                assert got == expected, (kind, text, got)
