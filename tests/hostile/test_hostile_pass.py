"""Every hostile case of :mod:`tests.hostile.corpus` in one ``aggregate --once`` pass.

The pass completes, each case gets the status line it should, the good
sources publish beside them, every published file parses, and nothing of
``/etc/passwd`` is read or published anywhere.  (Memory and time of the same
configuration: ``benchmarks/hostile.py``.)
"""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout
from pathlib import Path

import pytest

from aggregator.cli import main
from aggregator.publish import MAX_DOCUMENT_CHARS
from tests.conftest import DATA
from tests.feedserver import FeedServer, Route
from tests.hostile.corpus import CASES, SECRET_MARK, Case, config_lines, serve
from tests.store.sqlite_file import dump

GOOD = {"good-rss": "rss20.xml", "good-atom": "atom10.xml", "good-json": "feed11.json"}


def status_lines(lines: list[str]) -> dict[str, str]:
    status = {}
    for line in lines:
        words = line.split(maxsplit=2)
        if len(words) >= 2 and words[0] in ("new", "updated", "unchanged", "error"):
            status[words[1].rstrip(":")] = line
    return status


@pytest.fixture(scope="module")
def hostile_pass(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict[str, str], Path]:
    tmp_path = tmp_path_factory.mktemp("hostile")
    server = FeedServer().start()
    try:
        for name, file in GOOD.items():
            server.add("/" + name, Route((DATA / "feeds" / file).read_bytes()))
        routes = serve(server)
        lines = [
            "title: Hostile",
            "base_url: https://digest.example/",
            "allow_private: true",
            "output:",
            "  max_entries: 5000",  # every entry, so each case's can be looked for
            "fetch:",
            "  timeout: 2s",
            "sources:",
        ]
        for name in GOOD:
            lines += [
                f"  - name: {name}",
                f"    url: {server.url('/' + name)}",
                "    section: Good",
            ]
        lines += config_lines(server)
        config = tmp_path / "feeds.yaml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        buffer = io.StringIO()
        with redirect_stdout(buffer):
            code = main(["--once", "-c", str(config)])
        # The refused private addresses were never connected to.
        assert routes["private-address"].requests == 0
        assert routes["private-via-dns"].requests == 0
    finally:
        server.stop()
    return code, status_lines(buffer.getvalue().splitlines()), tmp_path / "out"


def test_the_pass_completes(hostile_pass: tuple[int, dict[str, str], Path]) -> None:
    code, status, _out = hostile_pass
    assert code == 0
    assert len(status) == len(CASES) + len(GOOD)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_each_case_gets_its_outcome(
    hostile_pass: tuple[int, dict[str, str], Path], case: Case
) -> None:
    _code, status, _out = hostile_pass
    line = status[case.name]
    assert "\n" not in line
    if case.outcome == "error":
        assert line.startswith("error"), line
    else:
        assert line.split()[0] in ("new", "updated", "unchanged"), line
    assert case.expect in line


def test_good_sources_publish_beside_them(
    hostile_pass: tuple[int, dict[str, str], Path],
) -> None:
    _code, status, out = hostile_pass
    for name in GOOD:
        assert status[name].startswith("new"), status[name]
    titles = {item["title"] for item in json.loads((out / "feed.json").read_bytes())["items"]}
    assert "Allies weigh new air defence package for Ukraine" in titles
    for case in CASES:
        for title in case.published:
            assert title in titles, (case.name, title)


def test_every_published_file_parses_and_holds_no_secret(
    hostile_pass: tuple[int, dict[str, str], Path],
) -> None:
    _code, _status, out = hostile_pass
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"feed.atom", "feed.rss", "feed.json", "index.html"} <= {p.name for p in files}
    for path in files:
        data = path.read_bytes()
        assert SECRET_MARK.encode() not in data, path
        if path.suffix in (".atom", ".rss"):
            ET.fromstring(data)
        elif path.suffix == ".json":
            json.loads(data)
    assert not [p for p in files if ".db" in p.name]  # the store is not published
    database = out.parent / ".aggregator" / "aggregator.db"
    assert SECRET_MARK not in dump(database)


def test_published_files_stay_bounded(hostile_pass: tuple[int, dict[str, str], Path]) -> None:
    # Markup and escaping are about the same for every entry, so twice the
    # bound on a document's text leaves them room; five feeds of 1 MB titles
    # had made files of 10 MB each.
    _code, _status, out = hostile_pass
    sizes = {p.name: p.stat().st_size for p in out.rglob("*") if p.suffix != ".db"}
    assert sizes and max(sizes.values()) <= 2 * MAX_DOCUMENT_CHARS, sizes
