"""benchmarks/pipeline.py at a tiny size, so the script does not rot unnoticed.

Not a timing: five feeds of five items, through the generator, the server and
the three ``aggregate --once`` rounds (a few seconds in all).
"""

from __future__ import annotations

import gzip
import importlib.util
import sys
import urllib.request
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


def test_three_rounds_at_tiny_size(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    exit_code = bench.main(["--feeds", "5", "--items", "5", "--keep", str(tmp_path)])
    output = capsys.readouterr().out
    assert exit_code == 0, output
    assert "warm round: 0 parsed, 0 summarized, 5 of 5 answered 304: ok" in output
    assert (tmp_path / "out" / "feed.atom").is_file()
