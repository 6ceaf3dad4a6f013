"""Near-duplicates through the real path: feeds on a loopback server,
``aggregate --once``, the published Atom feed's alternate and related links.

This is how the clusters are judged from outside: each entry of feed.atom is
one cluster, made of its own link and its ``rel="related"`` links.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from types import ModuleType
from xml.sax.saxutils import escape

import feedparser
import pytest

from aggregator.cli import main
from aggregator.dedup.keys import without_tracking
from tests.conftest import REPO
from tests.dedup import stories as s
from tests.feedserver import FeedServer, Route


def _load(name: str, file: str) -> ModuleType:
    # benchmarks/ is not a package; load its scripts by path.
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "benchmarks" / file)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


corpus_module = _load("dedup_corpus", "dedup_corpus.py")  # the name benchmarks/dedup.py imports
bench = _load("benchmark_dedup", "dedup.py")

T0 = datetime(2024, 6, 3, 7, 0, tzinfo=UTC)


def rss(title: str, items: Sequence[tuple[str, str, str, str, datetime]]) -> bytes:
    """RSS 2.0 of (guid, title, link, html, published)."""
    body = "".join(
        f"<item><title>{escape(headline)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="false">{escape(guid)}</guid>'
        f"<pubDate>{format_datetime(when, usegmt=True)}</pubDate>"
        f"<description>{escape(html)}</description></item>"
        for guid, headline, link, html, when in items
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://{title.lower().replace(' ', '-')}.example/"
        f"</link><description>news</description>{body}</channel></rss>"
    ).encode()


def write_config(tmp_path: Path, server: FeedServer, names: Sequence[str]) -> Path:
    lines = [
        "title: Test digest",
        "base_url: https://digest.example/",
        "allow_private: true",
        "output:",
        "  max_entries: 5000",
        "sources:",
    ]
    for name in names:
        lines += [f"  - name: {name}", f"    url: {server.url('/' + name)}", "    section: News"]
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def clusters(atom_path: Path, known: set[str]) -> list[set[str]]:
    """Each published entry as the set of item links it shows: its own and its
    related ones.  Entries of no item (a digest, say) are left out."""
    feed = feedparser.parse(atom_path.read_bytes())
    assert not feed.bozo
    found = []
    for entry in feed.entries:
        links = {link.href for link in entry.links if link.rel in ("alternate", "related")}
        if links & known:
            assert links <= known, links - known
            found.append(links)
    return found


def test_copies_become_one_entry_and_recurring_items_do_not(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    def p(text: str) -> str:
        return f"<p>{text}</p>" if text else ""

    story = "https://harbour.example/rotterdam-terminal"
    wire = "https://wire.example/2024/06/03/rotterdam-port-expansion?utm_source=rss"
    daily = "https://daily.example/a/9921"
    monday = "https://harbour.example/briefing/monday"
    tuesday = "https://harbour.example/briefing/tuesday"
    strike = "https://other.example/strike"
    feed_server.add(
        "/harbour",
        Route(
            rss(
                "Harbour News",
                [
                    ("h1", s.TITLE, story, p(s.TEXT), T0),
                    ("h2", s.MONDAY[0], monday, p(s.MONDAY[1]), T0 - timedelta(hours=1)),
                    ("h3", s.TUESDAY[0], tuesday, p(s.TUESDAY[1]), T0 + timedelta(hours=23)),
                ],
            )
        ),
    )
    feed_server.add(
        "/wire",
        Route(rss("Wire", [("w1", s.RETITLED, wire, p(s.WITH_BOILERPLATE), T0 + timedelta(1))])),
    )
    feed_server.add(
        "/daily",
        Route(rss("Daily", [("d1", s.TITLE + " - Daily", daily, p(s.TEASER), T0)])),
    )
    feed_server.add(
        "/other",
        Route(rss("Other", [("o1", s.SAME_SUBJECT_TITLE, strike, p(s.SAME_SUBJECT_TEXT), T0)])),
    )
    config = write_config(tmp_path, feed_server, ["harbour", "wire", "daily", "other"])

    assert main(["--once", "-c", str(config)]) == 0
    lines = capsys.readouterr().out.splitlines()
    status = {line.split()[1].rstrip(":"): line for line in lines if line.startswith("new ")}
    assert "1 merged into other sources' entries" in status["wire"]
    assert "1 merged into other sources' entries" in status["daily"]

    # Published without its tracking parameter (output.keep_tracking is off).
    wire_shown = wire.removesuffix("?utm_source=rss")
    known = {story, wire_shown, daily, monday, tuesday, strike}
    found = clusters(tmp_path / "out" / "feed.atom", known)
    assert {frozenset(c) for c in found} == {
        frozenset({story, wire_shown, daily}),
        frozenset({monday}),
        frozenset({tuesday}),
        frozenset({strike}),
    }
    feed = feedparser.parse((tmp_path / "out" / "feed.atom").read_bytes())
    entry = next(e for e in feed.entries if e.get("link") == story)
    assert entry.title == s.TITLE and entry.source.title == "Harbour News"
    assert [link.title for link in entry.links if link.rel == "related"] == ["Daily", "Wire"]
    assert "Also reported by" in entry.content[0].value

    # A second run changes nothing: the same entries, the same ids.
    ids = sorted(e.id for e in feed.entries)
    assert main(["--once", "-c", str(config)]) == 0
    capsys.readouterr()
    again = feedparser.parse((tmp_path / "out" / "feed.atom").read_bytes())
    assert sorted(e.id for e in again.entries) == ids

    assert main(["duplicates", "-c", str(config)]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("1 story from 3 copies")
    assert "near-duplicate" in listing and s.RETITLED in listing
    assert "briefing" not in listing


def test_a_generated_corpus_through_the_feed(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Pairwise precision and recall of the clusters the Atom feed shows."""
    corpus = corpus_module.generate(160, outlets=12, days=4, seed=5)
    by_feed: dict[str, list[tuple[str, str, str, str, datetime]]] = {}
    for item in corpus.items:
        by_feed.setdefault(item.source, []).append(
            (item.entry_id, item.title, item.link, item.html, item.published)
        )
    for name, items in by_feed.items():
        feed_server.add("/" + name, Route(rss(name, items)))
    config = write_config(tmp_path, feed_server, sorted(by_feed))
    assert main(["--once", "-c", str(config)]) == 0
    capsys.readouterr()

    cluster_of = {}
    # Links are published without their tracking parameters (output.keep_tracking).
    shown = {item.link: without_tracking(item.link) for item in corpus.items}
    known = set(shown.values())
    for number, links in enumerate(clusters(tmp_path / "out" / "feed.atom", known)):
        for link in links:
            cluster_of[link] = number
    assert len(cluster_of) == len(corpus.items)  # every copy is shown, once
    truth = [item.story for item in corpus.items]
    predicted = [cluster_of[shown[item.link]] for item in corpus.items]
    scores = bench.pairwise(truth, predicted)
    assert scores.true_pairs > 100
    assert scores.precision >= 0.98
    assert scores.recall >= 0.9


def test_duplicates_shows_titles_and_links_as_published(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Stored text is the feed's: `aggregate duplicates` masks a source's
    credentials in it (a feed that repeats its own token), drops user info
    from links, and prints no character that would drive the terminal."""
    token = "S3CRETTOKEN1"
    headline = f"Harbour \u202eopens {token} gate"
    link = f"http://reader:pw1234@example.com/harbour?token={token}"
    text = f"<p>{s.TEXT}</p>"
    feed_server.add(f"/wire?token={token}", Route(rss("Wire", [("w1", headline, link, text, T0)])))
    feed_server.add("/daily", Route(rss("Daily", [("d1", headline, link, text, T0)])))
    config = write_config(tmp_path, feed_server, ["wire", "daily"])
    config.write_text(
        config.read_text().replace("/wire\n", f"/wire?token={token}\n"), encoding="utf-8"
    )
    assert main(["--once", "-c", str(config)]) == 0
    passed = capsys.readouterr().out
    assert "1 merged" in passed, passed

    assert main(["duplicates", "-c", str(config)]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("1 story from 2 copies"), listing
    assert "Harbour opens *** gate" in listing, listing
    assert "http://example.com/harbour?token=***" in listing, listing
    assert token not in listing and "pw1234" not in listing and "\u202e" not in listing

    # Removed from feeds.yaml, a source's copies are still masked by its stored URL.
    write_config(tmp_path, feed_server, ["daily"])
    assert main(["duplicates", "-c", str(config)]) == 0
    again = capsys.readouterr().out
    assert again.startswith("1 story from 2 copies") and token not in again, again
