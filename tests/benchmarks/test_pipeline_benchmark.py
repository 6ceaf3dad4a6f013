"""benchmarks/pipeline.py at a tiny size, so the script does not rot unnoticed.

Not a timing: five feeds of five items, through the generator, the server and
the three ``aggregate --once`` rounds, then (when the ``reader`` library is
installed) the same three rounds of benchmarks/reader_round.py against the
restored feeds (a few seconds each).
"""

from __future__ import annotations

import contextlib
import gzip
import importlib.util
import io
import sys
import urllib.request
from datetime import timedelta
from email.utils import format_datetime
from pathlib import Path
from types import ModuleType
from urllib.error import HTTPError

import feedparser
import pytest

from tests.conftest import REPO


def _load_benchmark() -> ModuleType:
    # benchmarks/ is not a package; load the script by path under its own name.
    spec = importlib.util.spec_from_file_location(
        "benchmark_pipeline", REPO / "benchmarks" / "pipeline.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()


def _get(url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


def test_generator_is_deterministic_and_served_conditionally() -> None:
    corpus = bench.generate(5, 5, seed=7)
    again = bench.generate(5, 5, seed=7)
    assert [f.render() for f in corpus.feeds] == [f.render() for f in again.feeds]
    assert {f.kind for f in corpus.feeds} == {"rss", "atom"}

    with bench.FeedServer(compress=True) as server:
        for feed in corpus.feeds:
            document = server.put(feed)
            url = server.url(feed.path)
            status, headers, body = _get(url, {"Accept-Encoding": "identity"})
            assert (status, body) == (200, document.body)
            parsed = feedparser.parse(body)
            assert not parsed.bozo and len(parsed.entries) == len(feed.stories)

            status, headers, body = _get(url, {"Accept-Encoding": "gzip"})
            assert headers["Content-Encoding"] == "gzip"
            assert gzip.decompress(body) == document.body

            assert _get(url, {"If-None-Match": headers["ETag"]})[0] == 304
            since = format_datetime(document.last_modified, usegmt=True)
            assert _get(url, {"If-Modified-Since": since})[0] == 304

        # New items change the body, so the old ETag no longer matches.
        feed = bench.add_new_stories(corpus, seed=7)[0]
        before = server.documents[feed.path].etag
        document = server.put(feed)
        status, headers, _ = _get(server.url(feed.path), {"If-None-Match": before})
        assert status == 200 and headers["ETag"] == document.etag != before


def test_spread_dates_each_block_of_feeds_before_the_block_before_it() -> None:
    plain = bench.generate(6, 4, seed=7)
    spread = bench.generate(6, 4, seed=7, spread_days=8, spread_every=2)
    # One block is the plain corpus, byte for byte (--feeds 1000 times the same work).
    one_block = bench.generate(2, 4, seed=7, spread_days=8, spread_every=2)
    assert [f.render() for f in one_block.feeds] == [
        f.render() for f in bench.generate(2, 4, seed=7).feeds
    ]
    for feed, same in zip(spread.feeds, plain.feeds, strict=True):
        shift = timedelta(days=8 * (feed.index // 2))
        # Each story of a later block: the same story, that many days earlier
        # (a syndicated copy keeps its original's date, so the feed it came from says).
        own = [s for s in feed.stories if ":from-" not in s.guid]
        assert [s.title for s in own] == [s.title for s in same.stories if ":from-" not in s.guid]
        assert [s.published + shift for s in own] == [
            s.published for s in same.stories if ":from-" not in s.guid
        ]
    assert spread.items == plain.items
    newest = [max(s.published for s in f.stories if ":from-" not in s.guid) for f in spread.feeds]
    assert newest[0] - newest[4] > timedelta(days=15)


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[int, str, Path]:
    """One real run at five feeds, shared: with reader's rounds when it is installed."""
    directory = tmp_path_factory.mktemp("pipeline")
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        exit_code = bench.main(["--feeds", "5", "--items", "5", "--keep", str(directory)])
    return exit_code, output.getvalue(), directory


def test_three_rounds_at_tiny_size(tiny_run: tuple[int, str, Path]) -> None:
    exit_code, output, directory = tiny_run
    assert exit_code == 0, output
    assert "warm round: 0 parsed, 0 summarized, 5 of 5 answered 304: ok" in output
    assert (directory / "out" / "feed.atom").is_file()


@pytest.mark.skipif(not bench.reader_available(), reason="the reader library is not installed")
def test_reader_rounds_at_tiny_size(tiny_run: tuple[int, str, Path]) -> None:
    exit_code, output, directory = tiny_run
    assert exit_code == 0, output
    assert "reader warm round: 5 not modified, 5 of 5 answered 304: ok" in output
    # The same answers for both tools, round by round: each pair saw the same bytes.
    assert (
        "server answers, aggregate vs reader: cold 5 200 vs 5 200, warm 5 304 vs 5 304, "
        "changed 1 200/4 304 vs 1 200/4 304: ok"
    ) in output
    rows: dict[tuple[str, ...], list[str]] = {}
    for line in output.splitlines():
        # The table's rows come before the "reader warm round: ..." verdict.
        if line.startswith(("aggregate ", "reader ")):
            rows.setdefault(tuple(line.split()[:2]), line.split())
    for name in ("cold", "warm", "changed"):
        # Marked "?" when the machine's speed changed within the pair.
        wall_x, cpu_x = (ratio.rstrip("?") for ratio in rows["aggregate", name][10:12])
        assert float(wall_x) > 0 and float(cpu_x) > 0
    assert "5 feeds, 0 failed; 27 new entries" in " ".join(rows["reader", "cold"])
    assert "3 new entries" in " ".join(rows["reader", "changed"])
    assert (directory / "reader.db").is_file()


TOTAL = (
    "3 sources, 0 failed; 0 new items, 0 merged, 0 updated; 0 parsed, 0 summarized; "
    "0 files written\npublished to out\n"
)
ANSWERS = {"cold": {200: 3}, "warm": {304: 3}, "changed": {200: 1, 304: 2}}


def _round(tool: str, name: str, wall: float = 1.0, cpu: float = 1.0) -> object:
    return bench.Round(
        tool=tool,
        name=name,
        wall=wall,
        cpu=cpu,
        other_cpu=0.0,
        peak_hwm_mb=1.0,
        peak_pss_mb=1.0,
        largest_process_mb=1.0,
        probe_ms=5.0,
        answers=dict(ANSWERS[name]),
        exit_code=0,
        stdout=TOTAL,
        stderr="",
    )


@pytest.mark.parametrize(
    ("argv", "available", "note"),
    [
        (["--no-reader"], True, "reader rounds skipped: --no-reader"),
        ([], False, "reader rounds skipped: the reader library is not importable"),
    ],
)
def test_reader_rounds_skipped_with_a_note(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    available: bool,
    note: str,
) -> None:
    """Without reader, or with --no-reader: our rounds only, a note, exit 0.

    The rounds are stubbed; the real ones run in the tests above."""
    tools: list[str] = []

    def fake_round(name: str, *args: object, tool: str = "aggregate", **kwargs: object) -> object:
        tools.append(tool)
        return _round(tool, name)

    monkeypatch.setattr(bench, "reader_available", lambda: available)
    monkeypatch.setattr(bench, "run_round", fake_round)
    exit_code = bench.main(["--feeds", "3", "--items", "2", "--keep", str(tmp_path), *argv])
    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert tools == ["aggregate"] * 3
    assert note in output


def test_ratios_and_checks(capsys: pytest.CaptureFixture[str]) -> None:
    rounds = [
        _round("aggregate", "cold", wall=6.0, cpu=9.0),
        _round("reader", "cold", wall=2.0, cpu=4.0),
        _round("aggregate", "warm"),
        _round("reader", "warm", wall=0.5, cpu=0.25),
        _round("aggregate", "changed"),
        _round("reader", "changed"),
    ]
    bench.print_table(rounds)
    table = [line.split() for line in capsys.readouterr().out.splitlines()]
    ratios = {row[1]: row[10:12] for row in table if row[:1] == ["aggregate"]}
    assert ratios == {"cold": ["3.00", "2.25"], "warm": ["2.00", "4.00"], "changed": ["1.00"] * 2}
    reader_warm = rounds[3]
    reader_warm.stdout = "3 feeds, 0 failed; 0 new entries, 0 modified; 0 updated, 3 not modified"
    assert bench.check(rounds, 3) == 0
    # reader seeing other answers than aggregate did makes the comparison void.
    rounds[5].answers = {200: 3}
    assert bench.check(rounds, 3) == 1
    assert "server answers, aggregate vs reader:" in capsys.readouterr().out


def test_ratios_of_a_pair_whose_probes_differ_are_marked(
    capsys: pytest.CaptureFixture[str],
) -> None:
    rounds = [_round(tool, name) for name in ("cold", "warm") for tool in ("aggregate", "reader")]
    rounds[1].probe_ms = 5.0 * bench.PROBE_DRIFT * 1.1  # reader's cold round, on a slower machine
    rounds[3].probe_ms = 5.0 * bench.PROBE_DRIFT * 0.9  # reader's warm round, within the drift
    bench.print_table(rounds)
    output = capsys.readouterr().out
    ratios = {
        row[1]: row[10:12]
        for row in map(str.split, output.splitlines())
        if row[:1] == ["aggregate"]
    }
    assert ratios == {"cold": ["1.00?", "1.00?"], "warm": ["1.00", "1.00"]}
    assert (
        "changed between the two rounds of the pair, by their probes: cold (5.0 against" in output
    )


def test_three_rounds_at_tiny_size_on_postgresql(
    tmp_path: Path, postgres_database_url: str
) -> None:
    """``--store URL``: the same rounds against an empty PostgreSQL database."""
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        arguments = ["--feeds", "5", "--items", "5", "--no-reader", "--keep", str(tmp_path)]
        exit_code = bench.main([*arguments, "--store", postgres_database_url])
    assert exit_code == 0, output.getvalue()
    assert "warm round: 0 parsed, 0 summarized, 5 of 5 answered 304: ok" in output.getvalue()
    assert not (tmp_path / "aggregator.db").exists()


def test_the_speed_probe_measures_cpu_and_is_in_the_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert 0 < bench.machine_speed_probe() < 10_000
    bench.print_table([_round("aggregate", "cold")])
    header, row = capsys.readouterr().out.splitlines()[1:3]
    assert header.split()[14] == "probe" and row.split()[8] == "5.0"
