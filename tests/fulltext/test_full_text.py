"""Full text for truncated feeds, end to end: ``aggregate --once`` against a
loopback server whose feed carries one-sentence teasers of its article pages."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest
from aiohttp.compression_utils import HAS_BROTLI

from aggregator.cli import main
from aggregator.config import load_config
from aggregator.fulltext.decide import RETRY_FIRST
from aggregator.pipeline import run_once
from aggregator.store import open_store
from tests.feedserver import FeedServer, Route

TEASER = "A one-sentence teaser of the story {n}."


def article_page(n: int, title: str) -> bytes:
    """A web page: navigation, an article with its own headings, a footer."""
    paragraphs = {
        "Background": (
            f"The harbour council of town {n} voted on Tuesday to rebuild the old pier. "
            "Engineers had warned for years that the wooden piles were rotting. "
            "The vote followed a long debate about the cost of the work."
        ),
        "What happens next": (
            f"Construction in town {n} starts in the spring and lasts two summers. "
            "Ferries will dock at a temporary pontoon during the works. "
            "Local shops expect fewer visitors while the pier is closed."
        ),
    }
    sections = "".join(
        f"<h2>{heading}</h2><p>{text}</p><p>{text.replace('.', ' again.', 1)}</p>"
        for heading, text in paragraphs.items()
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title} - Harbour News</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/sports'>Sports</a> "
        "<a href='/weather'>Weather</a></nav>"
        f"<article><h1>{title}</h1>"
        f"<p>The town {n} has decided to rebuild its pier after years of debate and delay.</p>"
        f"{sections}</article>"
        "<footer>Copyright Harbour News. All rights reserved.</footer></body></html>"
    ).encode()


def rss(server: FeedServer, items: list[tuple[int, str, str]]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>{server.url(f'/articles/{n}')}</link>"
        f"<guid>story-{n}</guid><description>{text}</description>"
        f"<pubDate>Mon, 30 Nov 2026 0{n}:00:00 GMT</pubDate></item>"
        for n, title, text in items
    )
    return f"<rss version='2.0'><channel><title>Harbour</title>{entries}</channel></rss>".encode()


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(argv)
    return code, out.getvalue()


def published(out: Path) -> dict[str, str]:
    """Title -> the entry's published summary (HTML)."""
    feed = feedparser.parse((out / "feed.atom").read_bytes())
    return {entry.title: entry.summary for entry in feed.entries}


def write_config(tmp_path: Path, server: FeedServer, full_text: str, extra: str = "") -> Path:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "allow_private: true\ndigest: {sentences: 0}\n"
        f"fetch: {{timeout: 2, read_timeout: 1, max_bytes: 200000}}\n{extra}"
        f"sources:\n  - name: harbour\n    url: {server.url('/feed.xml')}\n    section: S\n"
        f"    full_text: {full_text}\n"
    )
    return config


def serve(server: FeedServer, count: int) -> list[Route]:
    items = [(n, f"Story {n}", TEASER.format(n=n)) for n in range(1, count + 1)]
    server.add("/feed.xml", Route(body=rss(server, items)))
    return [
        server.add(
            f"/articles/{n}", Route(body=article_page(n, f"Story {n}"), content_type="text/html")
        )
        for n in range(1, count + 1)
    ]


def test_summaries_come_from_the_article_with_its_headings_and_pages_are_fetched_once(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    pages = serve(feed_server, 2)
    config = write_config(tmp_path, feed_server, "true")
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert "full text: 2 pages" in output, output
    summaries = published(tmp_path / "out")
    assert set(summaries) == {"Story 1", "Story 2"}
    for n in (1, 2):
        summary = summaries[f"Story {n}"]
        assert "teaser" not in summary, summary
        assert "Background" in summary and "What happens next" in summary, summary
        assert f"town {n}" in summary, summary
        assert "Copyright" not in summary and "Weather" not in summary, summary
    assert [page.requests for page in pages] == [1, 1]

    # Nothing changed: the pages are not asked for again.
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert [page.requests for page in pages] == [1, 1]
    assert "Background" in published(tmp_path / "out")["Story 1"]

    # Story 2 changes in the feed: its page is asked for again, conditionally,
    # and the article stored for it is kept when the page did not change.
    items = [(1, "Story 1", TEASER.format(n=1)), (2, "Story 2", "An edited teaser of story 2.")]
    feed_server.add("/feed.xml", Route(body=rss(feed_server, items)))
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert "1 updated" in output, output
    assert [page.requests for page in pages] == [1, 2]
    assert pages[1].last_headers.get("If-None-Match") == pages[1].etag_value
    assert "What happens next" in published(tmp_path / "out")["Story 2"]

    code, status = run(["status", "-c", str(config)])
    assert code == 0, status
    assert "harbour: full text: 0 of 2 pages failed" in status, status


@pytest.mark.parametrize(
    ("route", "reason"),
    [
        (Route(status=404, content_type="text/plain", body=b"gone"), "HTTP 404"),
        (Route(body=b"<p>x</p>" * 40_000, content_type="text/html"), "byte cap"),
        (Route(body=b"<html>slow</html>", content_type="text/html", delay=3), "timed out"),
        (Route(body=b"\x89PNG\r\n\x1a\n" + b"\0" * 64, content_type="image/png"), "not an HTML"),
        (Route(body=b"<html><body></body></html>", content_type="text/html"), "no main text"),
    ],
    ids=["404", "huge", "slow", "not-html", "empty"],
)
def test_a_page_without_an_article_leaves_the_teaser_and_says_why(
    feed_server: FeedServer, tmp_path: Path, route: Route, reason: str
) -> None:
    pages = serve(feed_server, 2)
    feed_server.add("/articles/2", route)
    config = write_config(tmp_path, feed_server, "true")
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert "new" in output and "error" not in output.split("full text")[0], output
    assert "full text: 2 pages, 1 failed" in output, output
    summaries = published(tmp_path / "out")
    assert "teaser of the story 2" in summaries["Story 2"], summaries
    assert "Background" in summaries["Story 1"], summaries

    code, status = run(["status", "-c", str(config)])
    assert code == 0, status
    line = next(line for line in status.splitlines() if "full text:" in line)
    again = " (1 to be fetched again)" if reason == "timed out" else ""  # may pass
    assert line.startswith(f"harbour: full text: 1 of 2 pages failed{again}, last: "), status
    assert feed_server.url("/articles/2") in line and reason in line, line
    assert "ok" in status.splitlines()[1], status  # the source itself succeeded
    assert pages[0].requests == 1


def test_auto_fetches_only_the_pages_of_short_items(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    long_text = " ".join(f"word{i}" for i in range(60)) + "."
    items = [(1, "Story 1", TEASER.format(n=1)), (2, "Story 2", long_text)]
    feed_server.add("/feed.xml", Route(body=rss(feed_server, items)))
    pages = [
        feed_server.add(
            f"/articles/{n}", Route(body=article_page(n, f"Story {n}"), content_type="text/html")
        )
        for n in (1, 2)
    ]
    config = write_config(tmp_path, feed_server, "auto", "full_text_min_words: 50\n")
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert [page.requests for page in pages] == [1, 0]
    summaries = published(tmp_path / "out")
    assert "Background" in summaries["Story 1"]
    assert "word1" in summaries["Story 2"]
    # The long item is decided once: a second pass asks for nothing.
    code, output = run(["--once", "-c", str(config)])
    assert [page.requests for page in pages] == [1, 0]


def test_without_full_text_no_page_is_fetched(feed_server: FeedServer, tmp_path: Path) -> None:
    pages = serve(feed_server, 1)
    config = write_config(tmp_path, feed_server, "false")
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert pages[0].requests == 0
    assert "teaser" in published(tmp_path / "out")["Story 1"]


@pytest.mark.parametrize(
    ("yaml", "where"),
    [
        ("full_text: sometimes\n", "full_text: expected true, false or auto"),
        ("full_text_min_words: 0\n", "full_text_min_words: expected a whole number"),
        ("full_text_max_pages: many\n", "full_text_max_pages: expected a whole number"),
        ("", "sources[0].full_text: expected true, false or auto"),
    ],
)
def test_a_bad_full_text_value_is_a_configuration_error_naming_its_key(
    tmp_path: Path, yaml: str, where: str
) -> None:
    from aggregator.config import parse_config
    from aggregator.errors import ConfigError

    per_source = "    full_text: 3\n" if not yaml else ""
    text = f"{yaml}sources:\n  - name: a\n    url: 'http://x/'\n    section: S\n{per_source}"
    with pytest.raises(ConfigError) as raised:
        parse_config(text, tmp_path / "feeds.yaml")
    assert where in str(raised.value)
    assert str(raised.value).startswith(f"{tmp_path / 'feeds.yaml'}:")


def test_full_text_defaults_from_the_top_level_and_a_source_may_differ(tmp_path: Path) -> None:
    from aggregator.config import parse_config

    config = parse_config(
        "full_text: auto\nfull_text_min_words: 80\nsources:\n"
        "  - {name: a, url: 'http://x/a', section: S}\n"
        "  - {name: b, url: 'http://x/b', section: S, full_text: false}\n"
        "  - {name: c, url: 'http://x/c', section: S, full_text: true, full_text_min_words: 9}\n",
        tmp_path / "feeds.yaml",
    )
    assert [(s.full_text, s.full_text_min_words) for s in config.sources] == [
        ("auto", 80),
        ("off", 80),
        ("on", 9),
    ]
    assert config.full_text_max_pages == 100


def test_full_text_through_the_postgresql_store(
    feed_server: FeedServer, tmp_path: Path, postgres_database_url: str
) -> None:
    pages = serve(feed_server, 1)
    config = write_config(tmp_path, feed_server, "true", f"store: '{postgres_database_url}'\n")
    for _ in range(2):
        code, output = run(["--once", "-c", str(config)])
        assert code == 0, output
    assert pages[0].requests == 1
    assert "What happens next" in published(tmp_path / "out")["Story 1"]
    code, status = run(["status", "-c", str(config)])
    assert "harbour: full text: 0 of 1 pages failed" in status, status


def test_a_page_that_failed_for_now_is_fetched_again_later_and_one_gone_is_not(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    serve(feed_server, 3)
    busy = Route(status=503, content_type="text/plain", body=b"busy")
    gone = Route(status=404, content_type="text/plain", body=b"gone")
    feed_server.add("/articles/2", busy)
    feed_server.add("/articles/3", gone)
    config = load_config(write_config(tmp_path, feed_server, "true"))
    start = datetime(2026, 11, 30, 12, tzinfo=UTC)  # after the feed's items

    (result,) = run_once(config, now=start).results
    assert (result.pages, result.pages_failed) == (3, 2)
    code, status = run(["status", "-c", str(tmp_path / "feeds.yaml")])
    assert code == 0, status
    assert "harbour: full text: 2 of 3 pages failed (1 to be fetched again), last: " in status

    # Before the first wait is over, neither is asked for again.
    run_once(config, now=start + RETRY_FIRST - timedelta(minutes=1))
    assert (busy.requests, gone.requests) == (1, 1)

    # The site is back: once the wait is over, the page gives its article.
    back = feed_server.add(
        "/articles/2", Route(body=article_page(2, "Story 2"), content_type="text/html")
    )
    (result,) = run_once(config, now=start + RETRY_FIRST).results
    assert (result.pages, result.pages_failed) == (1, 0)
    assert (back.requests, gone.requests) == (1, 1)
    assert "What happens next" in published(tmp_path / "out")["Story 2"]
    assert "teaser of the story 3" in published(tmp_path / "out")["Story 3"]

    run_once(config, now=start + timedelta(days=2))
    assert (back.requests, gone.requests) == (1, 1)
    code, status = run(["status", "-c", str(tmp_path / "feeds.yaml")])
    assert code == 0, status
    assert "harbour: full text: 1 of 3 pages failed" in status, status


@pytest.mark.parametrize(
    ("coding", "reason"),
    [
        (b"compress", "cannot decode its Content-Encoding (compress)"),
        pytest.param(
            b"br",
            "cannot decode its Content-Encoding (br, which needs a package that is not installed)",
            marks=pytest.mark.skipif(HAS_BROTLI, reason="brotli is installed: br is decoded"),
        ),
    ],
    ids=["compress", "br-without-brotli"],
)
def test_a_page_in_a_content_encoding_that_cannot_be_decoded_waits_for_its_item_to_change(
    feed_server: FeedServer, tmp_path: Path, coding: bytes, reason: str
) -> None:
    """The server will answer in the same coding next time: the page is
    answered for good, like a 404, and not asked for again on a timer."""
    serve(feed_server, 2)
    page = article_page(2, "Story 2")  # the article as it is, whatever the header says
    head = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: %s\r\n" % coding
    coded = feed_server.add(
        "/articles/2", Route(raw=head + b"Content-Length: %d\r\n\r\n" % len(page) + page)
    )
    config = load_config(write_config(tmp_path, feed_server, "true"))
    start = datetime(2026, 11, 30, 12, tzinfo=UTC)  # after the feed's items

    (result,) = run_once(config, now=start).results
    assert result.error is None
    assert (result.pages, result.pages_failed) == (2, 1)
    assert coded.requests == 1
    code, status = run(["status", "-c", str(tmp_path / "feeds.yaml")])
    assert code == 0, status
    line = next(line for line in status.splitlines() if "full text:" in line)
    assert line == (
        f"harbour: full text: 1 of 2 pages failed, last: {feed_server.url('/articles/2')}: "
        + reason
    ), status

    # Past every wait of a page that failed for now: not asked for again.
    for later in (RETRY_FIRST, timedelta(hours=3), timedelta(hours=11), timedelta(days=2)):
        run_once(config, now=start + later)
    assert coded.requests == 1
    assert "teaser of the story 2" in published(tmp_path / "out")["Story 2"]

    # The item changes: its page is asked for again.
    items = [(1, "Story 1", TEASER.format(n=1)), (2, "Story 2", "An edited teaser of story 2.")]
    feed_server.add("/feed.xml", Route(body=rss(feed_server, items)))
    run_once(config, now=start + timedelta(days=3))
    assert coded.requests == 2


def two_block_page(n: int, title: str, story: bool = True) -> bytes:
    """A page whose long block (earlier coverage, in <article>) is what
    trafilatura takes for the article, and whose story is a shorter block
    beside it, section.story-body (left out when ``story`` is false)."""
    earlier = "".join(
        f"<p>From the archive, part {i}: the harbour council of town {n} debated the cost "
        "of the pier for a long evening, and the engineers answered every question.</p>"
        for i in range(10)
    )
    body = (
        "<section class='story-body'>"
        f"<p class='byline'>By Ann Smith in town {n}</p>"
        f"<h2>The pontoon</h2><p>The temporary pontoon of town {n} floats on steel drums. "
        "The pontoon holds two ferries at once in calm weather.</p>"
        f"<h2>The timetable</h2><p>The first ferry of town {n} leaves at seven. "
        "The last one leaves at nine in the evening.</p>"
        "<script>document.write('tracking pixel')</script></section>"
    )
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<title>{title} - Harbour News</title></head><body>"
        "<nav><a href='/'>Home</a> <a href='/sports'>Sports</a></nav>"
        f"<article><h1>{title}</h1><h2>Earlier coverage</h2>{earlier}</article>"
        f"{body if story else ''}"
        "<footer>Copyright Harbour News.</footer></body></html>"
    ).encode()


def test_a_full_text_selector_takes_the_article_from_what_it_matches(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The selector's elements are the article, in place of trafilatura's
    guess; a page where it matches nothing keeps the feed's text and says
    why; changing the selector has the pages extracted again."""
    from aggregator.fulltext.extract import extract_article

    items = [(n, f"Story {n}", TEASER.format(n=n)) for n in (1, 2)]
    feed_server.add("/feed.xml", Route(body=rss(feed_server, items)))
    pages = [
        feed_server.add(
            f"/articles/{n}",
            Route(body=two_block_page(n, f"Story {n}", story=n == 1), content_type="text/html"),
        )
        for n in (1, 2)
    ]
    # The premise: left to itself, trafilatura takes the other block.
    guess = extract_article(pages[0].body, feed_server.url("/articles/1"), "text/html")
    assert "Earlier coverage" in guess and "pontoon" not in guess, guess

    selector = "full_text_selector: '.byline, section.story-body h2, section.story-body p'\n"
    config = write_config(tmp_path, feed_server, "true", selector)
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert "full text: 2 pages, 1 failed" in output, output
    summaries = published(tmp_path / "out")
    story = summaries["Story 1"]
    assert "The pontoon" in story and "The timetable" in story, story  # its sections
    assert "pontoon of town 1" in story and "first ferry of town 1" in story, story
    assert "Earlier coverage" not in story and "archive" not in story, story
    assert "teaser" not in story and "tracking pixel" not in story, story
    # No element matches on page 2: no article, the feed's text, and why.
    assert "teaser of the story 2" in summaries["Story 2"], summaries
    assert "archive" not in summaries["Story 2"], summaries
    code, status = run(["status", "-c", str(config)])
    assert code == 0, status
    assert (
        "harbour: full text: 1 of 2 pages failed, last: "
        f"{feed_server.url('/articles/2')}: no element on the page matches full_text_selector"
    ) in status, status

    # Nothing changed: no page is asked for again.
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert [page.requests for page in pages] == [1, 1]

    # The selector is taken out: each page is fetched again, in full (a
    # "not modified" would keep the selector's article), for trafilatura.
    config = write_config(tmp_path, feed_server, "true")
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert "harbour: not modified; full text: 2 pages\n" in output, output  # none failed
    assert [page.requests for page in pages] == [2, 2]
    assert "If-None-Match" not in pages[0].last_headers, pages[0].last_headers
    summaries = published(tmp_path / "out")
    assert "Earlier coverage" in summaries["Story 1"], summaries
    assert "Earlier coverage" in summaries["Story 2"], summaries
    code, status = run(["status", "-c", str(config)])
    assert "harbour: full text: 0 of 2 pages failed" in status, status


def linking_page(n: int, base: str | None) -> bytes:
    """An article page whose links and image are relative, with ``<base
    href="base">`` in its head (none when ``base`` is None)."""
    head = "" if base is None else f"<base href='{base}'>"
    return (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'>{head}"
        f"<title>Story {n} - Harbour News</title></head><body>"
        f"<article><h1>Story {n}</h1>"
        f"<p>The pier of town {n} is rebuilt, as the <a href='report.html'>council's report</a> "
        "and the <a href='../maps/pier.html'>map of the works</a> show.</p>"
        f"<p><img src='img/pier.jpg' alt='The pier of town {n}'></p>"
        "<p>Ferries will dock at a temporary pontoon while the works go on.</p>"
        "</article></body></html>"
    ).encode()


def test_relative_links_of_an_article_resolve_against_its_base_and_final_url(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A page's ``<base href>`` is what its relative links and images resolve
    against (itself resolved against where the page was found after
    redirects); without one, that final URL is.

    The published feeds carry the summaries' sentences, not the article's
    markup: the links are read where the pass keeps the article, the item's
    text in the store, which the summaries are made from."""
    items = [(n, f"Story {n}", TEASER.format(n=n)) for n in (1, 2, 3)]
    feed_server.add("/feed.xml", Route(body=rss(feed_server, items)))
    # Story 1: a base in another directory.  Story 2: redirected, no base.
    # Story 3: redirected, and a relative base, read from where it ended.
    elsewhere = linking_page(1, feed_server.url("/static/2026/pier/"))
    feed_server.add("/articles/1", Route(body=elsewhere, content_type="text/html"))
    for n, base in ((2, None), (3, "media/")):
        moved = Route(status=302, etag=False, headers={"Location": f"/archive/2026/story-{n}"})
        feed_server.add(f"/articles/{n}", moved)
        feed_server.add(
            f"/archive/2026/story-{n}", Route(body=linking_page(n, base), content_type="text/html")
        )
    config_path = write_config(tmp_path, feed_server, "true", "full_text_selector: article\n")
    code, output = run(["--once", "-c", str(config_path)])
    assert code == 0, output
    assert "full text: 3 pages\n" in output, output  # none failed
    assert "pontoon" in published(tmp_path / "out")["Story 1"]  # from the article
    config = load_config(config_path)
    store = open_store(config.store)
    try:
        articles = {item.title: item.content_html for item in store.latest_items(10)}
    finally:
        store.close()

    def resolved(directory: str, parent: str) -> list[str]:
        return [
            f'href="{feed_server.url(directory + "report.html")}"',
            f'href="{feed_server.url(parent + "maps/pier.html")}"',
            f'src="{feed_server.url(directory + "img/pier.jpg")}"',
        ]

    expected = {
        "Story 1": resolved("/static/2026/pier/", "/static/2026/"),
        "Story 2": resolved("/archive/2026/", "/archive/"),
        "Story 3": resolved("/archive/2026/media/", "/archive/2026/"),
    }
    for title, attributes in expected.items():
        for attribute in attributes:
            assert attribute in articles[title], articles[title]
