"""What is published follows feeds.yaml: a removed source leaves the feeds (its
items stay stored), a paused one stays, and out/sources.opml lists the sources.

Through ``aggregate --once`` and ``aggregate remove``, against a loopback server.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

from aggregator.cli import main
from aggregator.store import StatesInOrder, open_store
from tests.conftest import DATA
from tests.feedserver import FeedServer, Route

FEEDS = DATA / "feeds"


@pytest.fixture
def setup(tmp_path: Path, feed_server: FeedServer) -> tuple[Path, dict[str, Route]]:
    routes = {
        "kyiv": feed_server.add("/kyiv", Route((FEEDS / "rss20.xml").read_bytes())),
        "rdf": feed_server.add("/rdf", Route((FEEDS / "rss10.rdf").read_bytes())),
        # Carries one story of /kyiv too: the two copies are one published item.
        "wire": feed_server.add("/wire", Route((FEEDS / "atom10.xml").read_bytes())),
    }
    lines = ["# kept by every edit", "allow_private: true", "sources:"]
    for name in routes:
        lines += [
            f"  - name: {name}",
            f"    url: {feed_server.url('/' + name)}",
            "    section: News",
        ]
    config = tmp_path / "feeds.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config, routes


def _once(config: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["--once", "-c", str(config)])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def _stored_titles(config: Path) -> set[str]:
    store = open_store(config.parent / ".aggregator" / "aggregator.db")
    try:
        return {item.title or "" for item in store.iter_items()}
    finally:
        store.close()


def test_removed_source_leaves_the_published_feeds(
    setup: tuple[Path, dict[str, Route]],
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
) -> None:
    config, _routes = setup
    out = config.parent / "out"
    _once(config, capsys)
    atom = (out / "feed.atom").read_text()
    assert "Parliament debates budget" in atom and "Grain corridor" in atom
    opml = (out / "sources.opml").read_text()
    assert all(feed_server.url(f"/{name}") in opml for name in ("kyiv", "rdf", "wire"))

    assert main(["remove", "rdf", "-c", str(config)]) == 0
    assert main(["remove", "kyiv", "-c", str(config)]) == 0
    assert "published to" in _once(config, capsys)

    atom = (out / "feed.atom").read_text()
    assert "Parliament debates budget" not in atom and "Grain corridor" not in atom
    # The story /wire carries too stays, credited to /wire alone.
    assert "Allies weigh new air defence package" in atom
    assert "Kyiv Daily" not in atom and "Europe Wire" in atom
    json_feed = (out / "feed.json").read_text()
    assert "Parliament debates budget" not in json_feed
    opml = (out / "sources.opml").read_text()
    assert feed_server.url("/rdf") not in opml and feed_server.url("/wire") in opml
    # Kept in the store all the same.
    assert {"Parliament debates budget", "Grain corridor traffic rises for third month"} <= (
        _stored_titles(config)
    )
    assert config.read_text().startswith("# kept by every edit\n")


def test_paused_source_is_not_polled_and_stays_published(
    setup: tuple[Path, dict[str, Route]], capsys: pytest.CaptureFixture[str]
) -> None:
    config, routes = setup
    out = config.parent / "out"
    _once(config, capsys)
    polls = routes["rdf"].requests
    config.write_text(
        config.read_text().replace(
            "    section: News\n  - name: wire",
            "    enabled: false\n    section: News\n  - name: wire",
        )
    )

    printed = _once(config, capsys)

    assert routes["rdf"].requests == polls
    assert routes["kyiv"].requests > 1
    assert not any(line.startswith("rdf") for line in printed.splitlines())  # not polled
    assert "Parliament debates budget" in (out / "feed.atom").read_text()
    assert main(["status", "-c", str(config)]) == 0
    status = {line.split()[0]: line.split()[1] for line in capsys.readouterr().out.splitlines()}
    assert status["rdf"] == "paused" and status["kyiv"] == "ok"


def test_sources_opml_reads_states_a_few_at_a_time_and_keeps_the_configured_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aggregator.publishing as publishing
    from aggregator.config import parse_config
    from aggregator.decide import PollIntent
    from aggregator.models import FetchState, ParsedFeed

    names = ["e", "c", "a", "d", "b"]  # not in the store's (name) order
    config = parse_config(
        "allow_private: true\nsources:\n"
        + "".join(
            f"  - {{name: {n}, url: 'https://{n}.example/feed', section: S{i % 2}}}\n"
            for i, n in enumerate(names)
        ),
        tmp_path / "feeds.yaml",
    )
    store = open_store(tmp_path / "db.sqlite")
    try:
        store.sync_sources((s.name, s.location, s.section) for s in config.sources)
        when = datetime(2026, 12, 3, tzinfo=UTC)
        feed = ParsedFeed("T", "https://site.example/d", None, ())
        store.apply_poll(PollIntent("d", when, when, fetch_state=FetchState(), feed=feed))
        store.apply_poll(
            PollIntent("a", when, when, fetch_state=FetchState(), move_to="https://moved.example/a")
        )
        monkeypatch.setattr(StatesInOrder, "CHUNK", 2)
        root = ET.fromstring(publishing.sources_opml(config, store))
    finally:
        store.close()

    outlines = {
        group.get("text"): [dict(o.attrib) for o in group.findall("outline")]
        for group in root.findall("body/outline")
    }
    assert [[o["text"] for o in outlines[s]] for s in ("S0", "S1")] == [["e", "a", "b"], ["c", "d"]]
    urls = {
        o["text"]: (o["xmlUrl"], o.get("htmlUrl")) for group in outlines.values() for o in group
    }
    assert urls["a"] == ("https://moved.example/a", None)  # where it now lives
    assert urls["d"] == ("https://d.example/feed", "https://site.example/d")
    assert urls["e"] == ("https://e.example/feed", None)
