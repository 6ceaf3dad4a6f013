"""`aggregate --once` end to end: a real loopback server, a real SQLite file,
real feedparser, sumy and feedgen, through the command's own entry point."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import feedparser
import pytest

from aggregator.cli import main
from aggregator.config import Overrides, SourceConfig, parse_config
from aggregator.decide import PollIntent
from aggregator.errors import StoreError
from aggregator.models import Entry, Fetched, SourceState
from aggregator.pipeline import Pipeline
from aggregator.results import SourceResult
from aggregator.store import StoredItem, open_store
from aggregator.store.sqlite import SqliteStore
from tests.conftest import DATA, REPO
from tests.feedserver import FeedServer, Route

FEEDS = DATA / "feeds"
SEED = REPO / "seeds" / "western-troops-ukraine.txt"
SEED_HEADINGS = [
    "Increased Military Aid Coincides with Renewed Talks",
    "Trump’s Re-Election Plans Spark Concerns",
    "UK and France Discuss Defense Cooperation",
    "French Foreign Minister Leaves Options Open",
    "Private Military Companies May Be Involved",
]
OUTPUTS = ["feed.atom", "feed.rss", "feed.json", "index.html"]


def serve_fixtures(server: FeedServer) -> None:
    server.add("/rss", Route((FEEDS / "rss20.xml").read_bytes()))
    server.add(
        "/atom", Route((FEEDS / "atom10.xml").read_bytes(), content_type="application/atom+xml")
    )
    server.add(
        "/json", Route((FEEDS / "feed11.json").read_bytes(), content_type="application/feed+json")
    )
    server.add("/malformed", Route((FEEDS / "malformed.xml").read_bytes()))
    server.add("/error", Route(b"server error", status=500))
    server.add("/slow", Route((FEEDS / "rss20.xml").read_bytes(), delay=3.0))


def write_config(tmp_path: Path, server: FeedServer, names: list[str]) -> Path:
    articles = tmp_path / "articles"
    articles.mkdir(exist_ok=True)
    shutil.copy(SEED, articles / SEED.name)
    # A fixed mtime: the seed has no date of its own, so this is its date.
    os.utime(articles / SEED.name, (1732000000, 1732000000))
    lines = [
        "title: Test digest",
        "base_url: https://digest.example/",
        "allow_private: true",
        "fetch:",
        "  timeout: 1s",
        "sources:",
        "  - name: Seed",
        "    path: articles",
        "    section: Ukraine",
    ]
    for name in names:
        section = "Europe" if name in ("atom", "json") else "Ukraine"
        lines += [
            f"  - name: {name}",
            f"    url: {server.url('/' + name)}",
            f"    section: {section}",
        ]
    path = tmp_path / "feeds.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _all_items(database: Path) -> list[StoredItem]:
    store = open_store(database)
    try:
        return list(store.iter_items())
    finally:
        store.close()


def run(config: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, list[str]]:
    code = main(["--once", "-c", str(config)])
    return code, capsys.readouterr().out.splitlines()


def snapshot(out: Path) -> dict[str, tuple[bytes, int]]:
    return {
        str(p.relative_to(out)): (p.read_bytes(), p.stat().st_mtime_ns)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.suffix != ".db" and not p.name.startswith("aggregator.db")
    }


def test_full_pass_then_nothing_changed(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_fixtures(feed_server)
    names = ["rss", "atom", "json", "malformed", "error", "slow"]
    config = write_config(tmp_path, feed_server, names)

    code, lines = run(config, capsys)
    assert code == 0
    status = {
        line.split()[1].rstrip(":"): line
        for line in lines
        if line.split()[0] in ("new", "updated", "unchanged", "error")
    }
    assert status["Seed"].startswith("new")
    assert status["rss"].startswith("new")
    assert status["json"].startswith("new")
    assert "merged" in status["atom"]  # the syndicated copy of the rss story
    assert status["malformed"].startswith("error") and "well-formed" in status["malformed"]
    assert status["error"].startswith("error") and "HTTP 500" in status["error"]
    assert status["slow"].startswith("error") and "timed out" in status["slow"]

    out = tmp_path / "out"
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0
    assert {p.name for p in (out / "sections").iterdir()} == {
        f"{section}.{extension}"
        for section in ("ukraine", "europe")
        for extension in ("atom", "rss", "json")
    }

    atom = feedparser.parse((out / "feed.atom").read_bytes())
    assert not atom.bozo
    titles = [e.title for e in atom.entries]
    # One story from two sources under links that differ only in tracking
    # parameters is one entry, naming both sources.
    assert titles.count("Allies weigh new air defence package for Ukraine") == 1
    story = next(e for e in atom.entries if e.title.startswith("Allies weigh"))
    related = [link for link in story.links if link.rel == "related"]
    assert [link.title for link in related] == ["Europe Wire"]
    assert story.source.title == "Kyiv Daily"
    assert "What is on the table" in story.content[0].value

    seed = next(e for e in atom.entries if e.title.startswith("Western Troop Deployment"))
    content = seed.content[0].value
    assert "As the war in Ukraine intensifies" in content
    positions = [
        content.index(heading.replace("’", "&#8217;") if heading not in content else heading)
        for heading in SEED_HEADINGS
    ]
    assert positions == sorted(positions)
    assert "Read More" not in content
    assert seed.link == "https://euromaidanpress.com"
    assert [t.term for t in seed.tags] == ["Ukraine"]

    # Each section feed has a digest per day, whose sentences link to their items.
    for name in ("ukraine", "europe"):
        section_feed = feedparser.parse((out / "sections" / f"{name}.atom").read_bytes())
        digests = [e for e in section_feed.entries if " digest, " in e.title]
        items = [e for e in section_feed.entries if " digest, " not in e.title]
        assert digests, name
        digest_html = digests[0].content[0].value
        linked = [e.link for e in items if f'href="{e.link}"' in digest_html]
        assert linked, digest_html
    assert "Ukraine digest, 2024-11-18" in titles

    # The second pass: nothing parsed, nothing summarized, no file rewritten.
    before = snapshot(out)
    code, lines = run(config, capsys)
    assert code == 0
    assert "0 parsed, 0 summarized; 0 files written" in lines[-2]
    assert snapshot(out) == before

    # A source gains an item: it is in the next pass's feed.
    feed_server.routes["/json"].body = (
        (FEEDS / "feed11.json")
        .read_bytes()
        .replace(
            b'"items": [',
            b'"items": [{"id": "bn-9", "url": "https://baltic-notes.example/new",'
            b' "title": "Fresh Baltic story", "content_text": "Something new happened today.",'
            b' "date_published": "2024-11-20T07:00:00Z"},',
        )
    )
    code, lines = run(config, capsys)
    assert any(line.startswith("new") and "json" in line for line in lines)
    atom = feedparser.parse((out / "feed.atom").read_bytes())
    items = [e for e in atom.entries if " digest, " not in e.title]
    assert items[0].title == "Fresh Baltic story"  # newest first

    stored = _all_items(tmp_path / ".aggregator" / "aggregator.db")
    copies = sum(len(item.sources) for item in stored)
    assert (len(stored), copies) == (7, 8)  # 1 seed + 2 rss + 1 own atom + 3 json; atom's copy


def test_every_source_failing_exits_1(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server, ["error", "malformed"])
    text = config.read_text().replace("path: articles", "path: articles/*.none")
    config.write_text(text)
    code, lines = run(config, capsys)
    assert code == 1
    assert sum(line.startswith("error") for line in lines) == 3
    assert (tmp_path / "out" / "feed.atom").exists()  # still publishes what is stored


def test_status_command(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server, ["rss", "error"])
    run(config, capsys)
    assert main(["status", "-c", str(config)]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[0] == "SOURCE"
    rows = {row.split()[0]: row for row in table[1:]}
    assert "HTTP 500" in rows["error"]
    assert rows["error"].split()[1] == "error"
    assert rows["rss"].split()[1] == "ok"
    assert rows["rss"].split()[-1] == "2"  # items stored, no error
    # The feed's <ttl>60</ttl> asks for an hour between polls: the next one is due then.
    store = open_store(tmp_path / ".aggregator" / "aggregator.db")
    try:
        rss = next(state for state in store.source_states() if state.name == "rss")
    finally:
        store.close()
    assert rss.last_fetch is not None and rss.next_due is not None
    gap = rss.next_due - rss.last_fetch
    assert gap == timedelta(hours=1)


def test_console_script_runs_the_shipped_seed(tmp_path: Path) -> None:
    """The installed `aggregate` command, as the README runs it, on local files only."""
    (tmp_path / "seeds").mkdir()
    shutil.copy(SEED, tmp_path / "seeds" / SEED.name)
    (tmp_path / "feeds.yaml").write_text(
        "sources:\n  - name: Seed\n    path: seeds\n    section: Ukraine\n", encoding="utf-8"
    )
    script = Path(sys.executable).parent / "aggregate"
    result = subprocess.run(
        [str(script), "--once"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("new")
    for name in OUTPUTS:
        assert (tmp_path / "out" / name).exists()


def test_local_feed_files_merge_a_story_linked_with_tracking_parameters(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds = tmp_path / "feeds"
    feeds.mkdir()
    story = "https://outlet.example/world/story-1"

    def rss(title: str, items: list[tuple[str, str]]) -> str:
        body = "".join(
            f"<item><title>{headline}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>Mon, 18 Nov 2024 0{i}:00:00 +0000</pubDate>"
            f"<description>Text of {headline}.</description></item>"
            for i, (headline, link) in enumerate(items)
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
            f"<link>https://{title.lower()}.example/</link><description>d</description>"
            f"{body}</channel></rss>"
        )

    (feeds / "a.xml").write_text(
        rss("Alpha", [("Summit ends", story + "?utm_source=alpha&amp;utm_medium=rss")])
    )
    (feeds / "b.xml").write_text(
        rss("Beta", [("Summit ends", story + "?fbclid=XYZ"), ("Other", "https://b.example/2")])
    )
    (feeds / "c.xml").write_text(rss("Gamma", [("Unrelated", "https://c.example/3")]))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "sources:\n"
        + "".join(f"  - {{name: {n}, path: feeds/{n}.xml, section: World}}\n" for n in "abc"),
        encoding="utf-8",
    )
    code, lines = run(config, capsys)
    assert code == 0
    assert [line.split()[0] for line in lines[:3]] == ["new", "new", "new"]
    atom = feedparser.parse((tmp_path / "out" / "feed.atom").read_bytes())
    titles = sorted(e.title for e in atom.entries)
    assert titles == ["Other", "Summit ends", "Unrelated", "World digest, 2024-11-18"]
    summit = next(e for e in atom.entries if e.title == "Summit ends")
    assert summit.source.title == "Alpha"
    assert [link.title for link in summit.links if link.rel == "related"] == ["Beta"]
    assert "Also reported by" in summit.content[0].value
    page = (tmp_path / "out" / "index.html").read_text()
    assert "Also reported by" in page
    # Published links lose their tracking parameters: the lead's and the others'.
    assert summit.link == story
    assert [link.href for link in summit.links if link.rel == "related"] == [story]
    assert "utm_" not in page and "fbclid" not in page

    # Unless the configuration keeps them.
    config.write_text(config.read_text() + "output: {keep_tracking: true}\n", encoding="utf-8")
    assert run(config, capsys)[0] == 0
    atom = feedparser.parse((tmp_path / "out" / "feed.atom").read_bytes())
    summit = next(e for e in atom.entries if e.title == "Summit ends")
    assert summit.link == story + "?utm_source=alpha&utm_medium=rss"
    assert [link.href for link in summit.links if link.rel == "related"] == [story + "?fbclid=XYZ"]


def test_unchanged_store_skips_publishing_but_a_settings_change_republishes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "seeds").mkdir()
    shutil.copy(SEED, tmp_path / "seeds" / SEED.name)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "title: First title\nsources:\n  - {name: Seed, path: seeds, section: Ukraine}\n",
        encoding="utf-8",
    )
    assert run(config, capsys)[1][-1].startswith("published to")
    code, lines = run(config, capsys)
    assert code == 0 and lines[-1].startswith("nothing changed")
    config.write_text(config.read_text().replace("First title", "Second title"))
    assert run(config, capsys)[1][-1].startswith("published to")
    assert b"Second title" in (tmp_path / "out" / "feed.atom").read_bytes()
    # A deleted output file is written again even though nothing else changed.
    (tmp_path / "out" / "feed.rss").unlink()
    assert run(config, capsys)[1][-1].startswith("published to")
    assert (tmp_path / "out" / "feed.rss").exists()


def test_dates_far_in_the_future_become_the_time_seen(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "feeds").mkdir()
    (tmp_path / "feeds" / "f.xml").write_text(
        '<?xml version="1.0"?><rss version="2.0"><channel><title>T</title>'
        "<link>https://t.example/</link><description>d</description>"
        "<item><title>From the future</title><link>https://t.example/1</link>"
        "<pubDate>Fri, 31 Dec 9998 00:00:00 +0000</pubDate></item>"
        "<item><title>Ordinary</title><link>https://t.example/2</link>"
        "<pubDate>Mon, 18 Nov 2024 09:00:00 +0000</pubDate></item></channel></rss>",
        encoding="utf-8",
    )
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "digest: {sentences: 0}\nsources:\n  - {name: f, path: feeds/f.xml, section: S}\n",
        encoding="utf-8",
    )
    assert run(config, capsys)[0] == 0
    atom = feedparser.parse((tmp_path / "out" / "feed.atom").read_bytes())
    future = next(e for e in atom.entries if e.title == "From the future")
    assert future.published_parsed.tm_year < 9998
    assert abs(datetime(*future.published_parsed[:6], tzinfo=UTC) - datetime.now(UTC)) < timedelta(
        hours=1
    )


def test_a_pass_in_which_nothing_changed_imports_no_parser_or_summarizer(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """Importing them is most of the time of such a pass: 0.35 s of 0.55 s."""
    feed_server.add("/rss", Route((FEEDS / "rss20.xml").read_bytes()))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "allow_private: true\nsources:\n"
        f"  - name: rss\n    url: {feed_server.url('/rss')}\n    section: News\n",
        encoding="utf-8",
    )
    heavy = ["aggregator.parse", "feedparser", "numpy", "punkt", "sumy", "feedgen", "jinja2"]
    script = (
        "import sys\n"
        "from aggregator.cli import main\n"
        f"code = main(['--once', '-c', {str(config)!r}])\n"
        f"print(code, [m for m in {heavy!r} if m in sys.modules])\n"
    )
    passes = [
        subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, check=True
        ).stdout.splitlines()[-1]
        for _ in range(2)
    ]
    assert passes[0] != "0 []"  # the first pass parsed and published: the check can fail
    assert passes[1] == "0 []"
    assert feed_server.routes["/rss"].requests == 2


def _growing_feed(numbers: list[int], stamp: int) -> bytes:
    items = "".join(
        f"<item><title>Story {n}</title><link>https://grow.example/{n}</link>"
        f"<description>Story number {n} of the growing feed.</description>"
        f"<pubDate>Mon, 18 Nov 2024 0{n}:00:00 +0000</pubDate></item>"
        for n in numbers
    )
    return (
        '<?xml version="1.0"?><rss version="2.0"><channel><title>Grow</title>'
        f"<lastBuildDate>Mon, 18 Nov 2024 0{stamp}:00:00 +0000</lastBuildDate>"
        f"{items}</channel></rss>"
    ).encode()


def test_a_feed_that_gained_an_item_reads_only_that_item(
    tmp_path: Path, feed_server: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.add("/grow", Route(_growing_feed([3, 2, 1], 1)))
    config = tmp_path / "feeds.yaml"
    source = f"  - {{name: grow, url: {feed_server.url('/grow')}, section: S}}\n"
    config.write_text(f"allow_private: true\nsources:\n{source}", encoding="utf-8")

    def status() -> str:
        code, lines = run(config, capsys)
        assert code == 0
        return next(line for line in lines if "grow:" in line)

    assert "3 new" in status()
    feed_server.routes["/grow"].body = _growing_feed([4, 3, 2, 1], 2)
    assert status().endswith("grow: 1 new, 0 updated, 3 unchanged")
    store = open_store(tmp_path / ".aggregator" / "aggregator.db")
    try:
        digests = store.entry_digests("grow")
        assert digests is not None and len(digests.entries) == 4
    finally:
        store.close()

    # The source's language goes to entries that declare none: a change of
    # it reads every entry again, and they take it.
    config.write_text(config.read_text().replace("section: S}", "section: S, language: de}"))
    feed_server.routes["/grow"].body = _growing_feed([5, 4, 3, 2, 1], 3)
    assert status().endswith("grow: 1 new, 4 updated, 0 unchanged")
    languages = {item.language for item in _all_items(tmp_path / ".aggregator" / "aggregator.db")}
    assert languages == {"de"}


def _pass_over_long_feeds(
    tmp_path: Path,
    feed_server: FeedServer,
    names: list[str],
    *,
    settings: str = "",
    delays: dict[str, float] | None = None,
) -> list[tuple[str, str]]:
    """One pass over feeds of twenty long articles, one source per batch.

    Returns the order of events: ("fetched", name) when the server answers,
    ("stored", name) when the pass has stored the source.  Working on one
    such feed (summarizing twenty articles) takes longer than fetching one.
    """
    from aggregator import pipeline
    from aggregator.config import load_config

    events: list[tuple[str, str]] = []
    paragraph = " ".join(
        f"Sentence {n} of a long article about the harbour works." for n in range(40)
    )
    items = "".join(
        f"<item><title>Article {n}</title><link>https://long.example/{n}</link>"
        f"<description>&lt;p&gt;{paragraph} {n}&lt;/p&gt;</description></item>"
        for n in range(20)
    )
    body = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>L</title>{items}</channel></rss>'
    )
    lines = ["allow_private: true", settings, "sources:"]
    for name in names:

        def answer(name: str = name) -> list[bytes]:
            events.append(("fetched", name))
            return [body.replace("long.example", f"{name}.example").encode()]

        feed_server.add(f"/{name}", Route(stream=answer, delay=(delays or {}).get(name, 0.0)))
        lines.append(f"  - {{name: {name}, url: {feed_server.url('/' + name)}, section: S}}")
    config_path = tmp_path / "feeds.yaml"
    config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_config(config_path, Overrides(out=tmp_path / "out", db=tmp_path / "a.db"))
    report = pipeline.run_once(config, progress=lambda source: events.append(("stored", source)))
    assert [(r.error, r.new + r.merged) for r in report.results] == [(None, 20)] * len(names)
    return events


def test_the_next_batches_are_fetched_while_one_is_worked_on(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Fetching runs ahead of parsing and storing, so no stage waits for the others."""
    from aggregator import ingesting

    monkeypatch.setattr(ingesting, "BATCH_SOURCES", 1)
    events = _pass_over_long_feeds(tmp_path, feed_server, ["f0", "f1", "f2"])
    assert events.index(("fetched", "f1")) < events.index(("stored", "f0"))
    assert events.index(("fetched", "f2")) < events.index(("stored", "f1"))


def test_a_slow_source_does_not_hold_up_the_requests_after_it(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Requests are kept going across batches, not a batch at a time."""
    from aggregator import ingesting

    monkeypatch.setattr(ingesting, "BATCH_SOURCES", 1)
    monkeypatch.setattr(ingesting, "_MAX_BATCHES_AHEAD", 4)  # each source a batch, all ahead
    names = ["slow", "f1", "f2", "f3"]
    events = _pass_over_long_feeds(
        tmp_path, feed_server, names, settings="fetch: {concurrency: 4}", delays={"slow": 0.5}
    )
    assert events.index(("fetched", "slow")) > events.index(("fetched", "f3"))
    assert [name for what, name in events if what == "stored"] == names  # in order all the same


def test_fetching_stops_ahead_when_the_bodies_waiting_to_be_stored_fill_the_budget(
    tmp_path: Path, feed_server: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aggregator import ingesting

    monkeypatch.setattr(ingesting, "BATCH_SOURCES", 1)
    monkeypatch.setattr(ingesting, "_AHEAD_BYTES", 1)  # one body is over it
    names = ["f0", "f1", "f2", "f3"]
    events = _pass_over_long_feeds(tmp_path, feed_server, names, settings="fetch: {concurrency: 2}")
    # Two requests at once; then nothing more until a body is stored.
    assert events.index(("fetched", "f2")) > events.index(("stored", "f0"))
    assert events.index(("fetched", "f3")) > events.index(("stored", "f1"))


class _CountingFetcher:
    """A fetcher fake: every source answers "not modified" at once; calls are counted."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def __aenter__(self) -> _CountingFetcher:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        pass

    async def fetch(self, source: SourceConfig, state: SourceState) -> Fetched:
        self.calls.append(source.name)
        await asyncio.sleep(0)  # an answer takes a turn of the loop
        return Fetched(source.name, (), state.fetch_state, not_modified=True, status=304)


class _GoneStore(SqliteStore):
    """A store whose database goes away when the first poll is stored."""

    def apply_poll(self, intent: PollIntent) -> None:
        raise StoreError("the database is gone")


def test_a_pass_that_fails_starts_no_more_requests(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from aggregator import ingesting, pipeline

    monkeypatch.setattr(ingesting, "BATCH_SOURCES", 1)
    monkeypatch.setattr(ingesting, "_MAX_BATCHES_AHEAD", 100)  # only the failure stops it
    lines = ["fetch: {concurrency: 1}", "store: a.db", "sources:"]
    lines += [f"  - {{name: f{n}, url: 'https://f{n}.example/', section: S}}" for n in range(12)]
    config = parse_config("\n".join(lines) + "\n", tmp_path / "feeds.yaml")
    fetcher = _CountingFetcher()

    async def update_then_run_on() -> int:
        store = _GoneStore(config.store)
        try:
            async with pipeline.Pipeline(config, store, fetcher=fetcher) as stages:
                with pytest.raises(StoreError, match="the database is gone"):
                    await stages.update(config.sources, datetime.now(UTC))
                after_failure = len(fetcher.calls)
                for _turn in range(50):  # a request still being started would be made now
                    await asyncio.sleep(0)
                return after_failure
        finally:
            store.close()

    after_failure = asyncio.run(update_then_run_on())
    # The one that failed, and the one under way then (one at a time); none after.
    assert 1 <= after_failure <= 2
    assert len(fetcher.calls) == after_failure


# -- one source's bug is that source's error, at every stage ------------------


def _isolation_config(tmp_path: Path, server: FeedServer) -> Path:
    server.add("/grow", Route(_growing_feed([2, 1], 1)))
    server.add("/rss", Route((FEEDS / "rss20.xml").read_bytes()))
    server.add("/json", Route((FEEDS / "feed11.json").read_bytes()))
    lines = ["allow_private: true", "store: state.db", "sources:"]
    for name in ("grow", "rss", "json"):
        lines.append(f"  - {{name: {name}, url: {server.url('/' + name)}, section: S}}")
    config = tmp_path / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


def _status_lines(lines: list[str]) -> dict[str, str]:
    return {
        line.split()[1].rstrip(":"): line
        for line in lines
        if line.split() and line.split()[0] in ("new", "updated", "unchanged", "error")
    }


def _stored_titles(tmp_path: Path) -> dict[str, set[str]]:
    """Each source's stored items' titles, through the store."""
    store = open_store(tmp_path / "state.db")
    try:
        titles: dict[str, set[str]] = {}
        for item in store.iter_items():
            for ref in item.sources:
                titles.setdefault(ref.name, set()).add(item.title)
        return titles
    finally:
        store.close()


def test_a_bug_while_storing_or_fetching_one_source_is_its_error_and_the_pass_goes_on(
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from aggregator.dedup.crowded import CrowdedKeys
    from aggregator.dedup.decide import MergeDecider
    from aggregator.fetch.http import HttpFetcher

    caplog.set_level("DEBUG", logger="aggregator.storing")
    config = _isolation_config(tmp_path, feed_server)
    code, lines = run(config, capsys)
    assert code == 0 and _status_lines(lines)["grow"].startswith("new")
    before = _stored_titles(tmp_path)
    assert before["grow"] == {"Story 1", "Story 2"}

    real_decide, real_fetch = MergeDecider.decide, HttpFetcher.fetch

    def decide_with_a_bug(self: MergeDecider, *args: object, **kwargs: object) -> object:
        if self.source == "grow":
            raise OverflowError("a bug on this item")
        return real_decide(self, *args, **kwargs)  # type: ignore[arg-type]

    async def fetch_with_a_bug(
        self: HttpFetcher, source: str, *args: object, **kw: object
    ) -> object:
        if source == "rss":
            raise KeyError("a bug while fetching")
        return await real_fetch(self, source, *args, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(MergeDecider, "decide", decide_with_a_bug)
    monkeypatch.setattr(HttpFetcher, "fetch", fetch_with_a_bug)
    # The crowded keys learned are forgotten with the batch undone.
    cleared: list[CrowdedKeys] = []
    real_clear = CrowdedKeys.clear
    monkeypatch.setattr(CrowdedKeys, "clear", lambda self: cleared.append(self) or real_clear(self))
    feed_server.routes["/grow"].body = _growing_feed([3, 2, 1], 2)
    feed_server.routes["/json"].body = (
        (FEEDS / "feed11.json").read_bytes().replace(b"new energy link", b"a new energy link")
    )
    code, lines = run(config, capsys)

    assert code == 0
    status = _status_lines(lines)
    assert status["grow"].startswith("error")
    assert "storing failed on item 'link:https://grow.example/3'" in status["grow"]
    assert "OverflowError: a bug on this item" in status["grow"]
    assert status["rss"].startswith("error") and "fetching failed: KeyError" in status["rss"]
    assert status["json"].startswith(("new", "updated")), status["json"]
    assert cleared
    # What the failing source had stored is untouched; its new item is not half-stored.
    after = _stored_titles(tmp_path)
    assert after["grow"] == before["grow"] and after["rss"] == before["rss"]
    # The traceback is in the log, at debug level only.
    tracebacks = [r for r in caplog.records if "Traceback" in r.getMessage()]
    assert tracebacks and all(r.levelname == "DEBUG" for r in tracebacks)
    # The stored error shows in status, as any failure does.
    assert main(["status", "-c", str(config)]) == 0
    rows = {row.split()[0]: row for row in capsys.readouterr().out.splitlines()[1:]}
    assert "OverflowError" in rows["grow"] and rows["grow"].split()[1] == "error"

    # Once the bug is gone, the next pass stores the new item.
    monkeypatch.setattr(MergeDecider, "decide", real_decide)
    code, lines = run(config, capsys)
    assert _status_lines(lines)["grow"].startswith("new")
    assert _stored_titles(tmp_path)["grow"] == {"Story 1", "Story 2", "Story 3"}


class _DepthStore(SqliteStore):
    """A real store that records how deep each transaction it opens is (2: a savepoint)."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.depth = 0
        self.depths: list[int] = []

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.depth += 1
        self.depths.append(self.depth)
        try:
            with super().transaction():
                yield
        finally:
            self.depth -= 1


def test_a_batch_takes_savepoints_only_once_a_source_of_it_failed(
    tmp_path: Path, feed_server: FeedServer, caplog: pytest.LogCaptureFixture
) -> None:
    """Every source's writes are undone alone when one fails, but a batch in
    which none fails is stored without a savepoint per source; the sources
    before the failing one are stored once, and logged once."""
    from aggregator.dedup.decide import MergeDecider

    config = parse_config(_isolation_config(tmp_path, feed_server).read_text(), tmp_path / "f.yaml")
    now = datetime(2024, 11, 18, 12, tzinfo=UTC)

    def one_pass(store: _DepthStore) -> dict[str, SourceResult]:
        async def update() -> dict[str, SourceResult]:
            async with Pipeline(config, store) as pipeline:
                report = await pipeline.update(config.sources, now)
            return {result.source: result for result in report.results}

        return asyncio.run(update())

    store = _DepthStore(config.store)
    try:
        results = one_pass(store)
        assert all(r.error is None and r.new for r in results.values()), results
        # The sources' names, then the batch; the store's own steps (a poll,
        # the summaries) nest one deeper, in the batch, not in a savepoint of
        # each source (which would put them at depth 3).
        assert store.depths.count(1) == 2 and max(store.depths) == 2, store.depths

        real_decide = MergeDecider.decide

        def decide_with_a_bug(self: MergeDecider, *args: object, **kwargs: object) -> object:
            if self.source == "json":  # the last of the batch
                raise OverflowError("a bug on this item")
            return real_decide(self, *args, **kwargs)  # type: ignore[arg-type]

        feed_server.routes["/grow"].body = _growing_feed([3, 2, 1], 2)
        feed_server.routes["/json"].body = (
            (FEEDS / "feed11.json").read_bytes().replace(b"new energy link", b"a link")
        )
        store.depths.clear()
        caplog.set_level("WARNING", logger="aggregator.storing")
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(MergeDecider, "decide", decide_with_a_bug)
            results = one_pass(store)
        assert results["grow"].new == 1 and results["grow"].error is None
        assert results["json"].error is not None and "OverflowError" in str(results["json"].error)
        # The batch, then the batch again (the names were stored before):
        # each source in a savepoint (depth 2), the store's own steps inside it.
        assert store.depths.count(1) == 2 and max(store.depths) == 3, store.depths
        warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
        assert len([w for w in warnings if "OverflowError" in w]) == 1, warnings
        titles = [
            item.title for item in store.iter_items() if item.link == "https://grow.example/3"
        ]
        assert titles == ["Story 3"]  # stored once
    finally:
        store.close()


def test_an_entry_that_cannot_be_published_is_left_out_and_the_rest_published(
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import aggregator.publish as publishing

    real_render = publishing.render_rss

    def render_with_a_bug(entries: list[Entry], *args: object, **kwargs: object) -> bytes:
        if any(e.title == "Story 2" for e in entries):
            raise ValueError("a bug on this entry")
        return real_render(entries, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(publishing, "render_rss", render_with_a_bug)
    config = _isolation_config(tmp_path, feed_server)
    code, _lines = run(config, capsys)
    assert code == 0
    titles = {
        i["title"] for i in json.loads((tmp_path / "out" / "feed.json").read_bytes())["items"]
    }
    assert "Story 1" in titles and "Story 2" not in titles
    assert len(titles) > 2  # the other sources' entries too
    left_out = [r for r in caplog.records if "publishing failed on item" in r.getMessage()]
    assert len(left_out) == 1 and left_out[0].getMessage().startswith("grow: ")


def test_a_failed_fetch_keeps_no_traceback_until_its_batch_is_stored(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A traceback's frames would hold the response's buffers for the rest of the pass."""
    feed_server.add("/gone", Route(b"x" * 100_000, status=500))
    config = parse_config(
        f"allow_private: true\nstore: a.db\nsources:\n"
        f"  - {{name: gone, url: {feed_server.url('/gone')}, section: S}}\n",
        tmp_path / "feeds.yaml",
    )

    async def update() -> SourceResult:
        store = open_store(config.store)
        try:
            async with Pipeline(config, store) as stages:
                return (await stages.update(config.sources, datetime.now(UTC))).results[0]
        finally:
            store.close()

    result = asyncio.run(update())
    assert result.error is not None and "HTTP 500" in str(result.error)
    assert result.error.__traceback__ is None


# -- where a poll's parsing runs -----------------------------------------------


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_a_small_poll_is_parsed_in_a_thread_unless_the_store_waits_on_a_server(
    kind: str,
    tmp_path: Path,
    feed_server: FeedServer,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """A feed of a few kilobytes is parsed in a thread beside a SQLite store,
    and in the worker processes beside PostgreSQL, where a thread would hold
    the interpreter's lock the event loop needs at each of the server's answers."""
    from aggregator.workers import Workers

    feed_server.add("/rss", Route((FEEDS / "rss20.xml").read_bytes()))
    location = "state.db" if kind == "sqlite" else request.getfixturevalue("postgres_url")
    lines = ["allow_private: true", f"store: '{location}'", "sources:"]
    lines.append(f"  - {{name: rss, url: {feed_server.url('/rss')}, section: S}}")
    config = parse_config("\n".join(lines) + "\n", tmp_path / "feeds.yaml")
    pooled: list[tuple[str, bool]] = []
    real_map = Workers.map

    async def recording_map(self: Workers, function, jobs, *, heavy: bool, **kwargs):  # type: ignore[no-untyped-def]
        pooled.append((function.__name__, heavy))
        return await real_map(self, function, jobs, heavy=heavy, **kwargs)

    monkeypatch.setattr(Workers, "map", recording_map)

    async def update() -> SourceResult:
        store = open_store(config.store)
        try:
            async with Pipeline(config, store) as pipeline:
                report = await pipeline.update(config.sources, datetime.now(UTC))
                return report.results[0]
        finally:
            store.close()

    result = asyncio.run(update())
    assert result.error is None and result.new > 0
    assert (FEEDS / "rss20.xml").stat().st_size < 50_000
    assert pooled == [("ingest", kind == "postgresql")]


# -- a worker process killed during a pass ---------------------------------------


def _long_feed(name: str, items: int = 36) -> bytes:
    """About 900 KB of RSS (under the size a job runs alone at): a tenth of a
    second to a second of work in a worker, by the machine."""
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>https://{name}.example/</link><description>x</description>"
    ]
    for item in range(items):
        text = "".join(
            f"<p>Paragraph {p} of {name}'s story {item}: officials in city {p * 7 % 13} met "
            f"on day {p} about matter {item * 31 + p} and agreed on nothing at all.</p>"
            for p in range(200)
        )
        parts.append(
            f"<item><title>{name} story {item}</title><link>https://{name}.example/{item}</link>"
            f"<pubDate>Mon, 18 Nov 2024 09:30:00 +0000</pubDate>"
            f"<description><![CDATA[{text}]]></description></item>"
        )
    return ("".join(parts) + "</channel></rss>").encode()


def _pool_workers(root: int) -> list[int]:
    """The pids of the workers that ``root``'s fork server forked."""
    from tests import processes

    servers = [
        p.pid
        for p in processes.tree(root)
        if b"forkserver" in (Path("/proc") / str(p.pid) / "cmdline").read_bytes()
    ]
    return [p.pid for server in servers for p in processes.tree(server) if p.pid != server]


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_a_worker_killed_during_a_pass_costs_no_source(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The kernel's out-of-memory killer ends a worker process while
    `aggregate --once` parses: what it and its pool held runs again, and the
    pass stores every source."""
    from tests import processes

    names = [f"long{n}" for n in range(8)]
    lines = ["allow_private: true", "sources:"]
    for name in names:
        feed_server.add(f"/{name}", Route(_long_feed(name)))
        lines.append(f"  - {{name: {name}, url: {feed_server.url('/' + name)}, section: S}}")
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    run = subprocess.Popen(
        [sys.executable, "-m", "aggregator.cli", "--once"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        victim = None
        used: dict[int, float] = {}
        deadline = time.monotonic() + 60
        while victim is None and run.poll() is None and time.monotonic() < deadline:
            # A worker that is parsing now: its CPU time grew since the last
            # look, and is past what starting takes (none to speak of: the
            # fork server imported the parser).  Not one that has parsed for
            # long: on a fast machine, that one is done with its last job,
            # and killing it loses no job and leaves the pass nothing to say.
            for pid in _pool_workers(run.pid):
                seconds = processes.cpu_seconds(processes.tree(pid))
                if seconds >= 0.05 and seconds > used.get(pid, seconds):
                    victim = pid
                    break
                used[pid] = seconds
            time.sleep(0.02)
        assert victim is not None, "no worker parsed for long enough"
        os.kill(victim, signal.SIGKILL)
        out, err = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    assert run.returncode == 0, err
    assert "a worker process ended abruptly" in err, out
    assert "Traceback" not in err, err
    total = out.strip().splitlines()[-2]
    assert total.startswith(f"{len(names)} sources, 0 failed;"), out
    assert f"; {len(names)} parsed," in total, out  # each source's 36 items new or merged
    for name in names:
        assert re.search(rf"^new +{name}: \d+ new, ", out, re.M), out


def test_an_unreadable_file_of_a_directory_source_is_left_out_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    articles = tmp_path / "articles"
    articles.mkdir()
    for n in (1, 2):
        (articles / f"story-{n}.md").write_text(
            f"# Story {n}\n\nThe council of town {n} met on Monday. It voted on the budget.\n",
            encoding="utf-8",
        )
    (articles / "junk.html").write_bytes(b"\xff\xfe\x00\x00garbage\x00\x01")
    (articles / "broken.xml").write_bytes(b"<rss version='2.0'><channel><item>")
    config = tmp_path / "feeds.yaml"
    config.write_text("sources:\n  - {name: desk, path: articles, section: S}\n", "utf-8")

    code, lines = run(config, capsys)
    assert code == 0, lines
    (line,) = [line for line in lines if " desk: " in line]
    assert line.startswith("new        desk: 2 new"), line
    assert "2 of 4 files left out: broken.xml: " in line, line
    assert "junk.html: binary file, not an article" in line, line

    # Every file unreadable: the source's error, naming each.
    for n in (1, 2):
        (articles / f"story-{n}.md").unlink()
    code, lines = run(config, capsys)
    assert code == 1, lines  # its only source failed
    (line,) = [line for line in lines if " desk: " in line]
    assert line.startswith("error      desk: none of its 2 files reads: broken.xml: "), line
    assert "; junk.html: binary file, not an article" in line, line


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            b'{"version": "https://jsonfeed.org/version/1.1",\n "items": [{"id": "1" "x": 2}]}',
            "application/feed+json",
            "not valid JSON: Expecting ',' delimiter: line 2 column 23",
        ),
        (
            b"Down for maintenance.",
            "application/json",
            "not valid JSON: Expecting value: line 1 column 1",
        ),
        (
            b'{"status": "ok"}',
            "application/json",
            "JSON document is not a JSON Feed (no jsonfeed.org version)",
        ),
    ],
    ids=["broken", "text", "other-json"],
)
def test_a_json_feed_that_stops_reading_is_its_error_and_keeps_its_items(
    tmp_path: Path,
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    body: bytes,
    content_type: str,
    message: str,
) -> None:
    serve_fixtures(feed_server)
    config = write_config(tmp_path, feed_server, ["rss", "json"])
    code, _lines = run(config, capsys)
    assert code == 0
    feed_server.routes["/json"] = Route(body, content_type=content_type)
    code, lines = run(config, capsys)
    assert code == 0
    # The problem and where, in one short line: none of the bytes.
    assert [line for line in lines if line.startswith("error")] == [f"error      json: {message}"]
    assert "unchanged  rss: not modified" in lines
    published = json.loads((tmp_path / "out" / "feed.json").read_bytes())
    titles = {item["title"] for item in published["items"]}
    assert {"Estonia and Finland test new energy link", "Ferry strike ends"} <= titles
