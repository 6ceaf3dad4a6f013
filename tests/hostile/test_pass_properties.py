"""Whatever a source sends, the pass completes and publishes valid feeds (hypothesis).

Each example serves a few generated HTTP responses on a real loopback server:
any status, odd headers (Retry-After, Cache-Control, Expires, ETag, content
type), and RSS, Atom or JSON Feed documents with arbitrary dates, ids,
titles, lengths, encodings and nesting.  ``aggregate --once`` runs over them
(the real fetch, ingest, store and publish) twice, and every time:

* it exits 0 (a local source always succeeds beside them);
* every source gets exactly one status line;
* every published file parses (XML or JSON), and the local article is in it.
"""

from __future__ import annotations

import io
import json
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import redirect_stdout
from pathlib import Path
from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.cli import main
from tests.feedserver import FeedServer, Route

_YEARS = st.integers(min_value=1, max_value=9999)
_RFC822 = st.builds(
    lambda y, d, h, z: f"Mon, {d:02d} Jan {y:04d} {h:02d}:00:00 {z}",
    _YEARS,
    st.integers(1, 31),
    st.integers(0, 29),
    st.sampled_from(["GMT", "+2400", "-1200", "Z", "XYZ", ""]),
)
_ISO = st.builds(
    lambda y, m, d, z: f"{y:04d}-{m:02d}-{d:02d}T12:00:00{z}",
    _YEARS,
    st.integers(0, 13),
    st.integers(0, 32),
    st.sampled_from(["Z", "+14:00", "-23:59", "", "+99:99"]),
)
DATES = st.one_of(_RFC822, _ISO, st.text(max_size=20), st.just(""))
# Any text a feed might carry: controls, bidi marks, non-BMP, surrogates
# (which no encoding can carry: they are written as replacement bytes).
TEXT = st.text(
    st.characters(min_codepoint=0, max_codepoint=0x10FFFF, blacklist_categories=()),
    max_size=40,
)
HEADER_VALUE = st.one_of(
    st.text(st.characters(min_codepoint=0x21, max_codepoint=0xFF), max_size=30),
    st.integers(min_value=0, max_value=10**30).map(str),
    st.just("9" * 4400),
)


@st.composite
def items(draw: st.DrawFn) -> list[dict[str, str]]:
    count = draw(st.integers(min_value=0, max_value=4))
    return [
        {
            "id": draw(st.one_of(TEXT, st.just(""), st.just("same"))),
            "title": draw(TEXT),
            "date": draw(DATES),
            "updated": draw(DATES),
            "body": draw(TEXT) * draw(st.sampled_from([1, 50])),
            "depth": draw(st.sampled_from([0, 3, 60])),
            "link": draw(st.one_of(st.just("https://odd.example/a"), TEXT)),
        }
        for _ in range(count)
    ]


def _xml_text(text: str) -> str:
    return escape(text)


def _nested(body: str, depth: int) -> str:
    return "<div>" * depth + escape(body) + "</div>" * depth


def document(kind: str, entries: list[dict[str, str]]) -> str:
    if kind == "json":
        return json.dumps(
            {
                "version": "https://jsonfeed.org/version/1.1",
                "title": "Generated",
                "items": [
                    {
                        "id": e["id"],
                        "title": e["title"],
                        "url": e["link"],
                        "date_published": e["date"],
                        "date_modified": e["updated"],
                        "content_html": _nested(e["body"], int(e["depth"])),
                    }
                    for e in entries
                ],
            }
        )
    if kind == "atom":
        body = "".join(
            f"<entry><id>{_xml_text(e['id'])}</id><title>{_xml_text(e['title'])}</title>"
            f'<link href="{_xml_text(e["link"])}"/><published>{_xml_text(e["date"])}</published>'
            f"<updated>{_xml_text(e['updated'])}</updated>"
            f'<content type="html">{escape(_nested(e["body"], int(e["depth"])))}</content></entry>'
            for e in entries
        )
        return (
            '<feed xmlns="http://www.w3.org/2005/Atom"><title>Generated</title>'
            f"<id>urn:generated</id><updated>2026-01-01T00:00:00Z</updated>{body}</feed>"
        )
    body = "".join(
        f"<item><guid>{_xml_text(e['id'])}</guid><title>{_xml_text(e['title'])}</title>"
        f"<link>{_xml_text(e['link'])}</link><pubDate>{_xml_text(e['date'])}</pubDate>"
        f"<dc:date>{_xml_text(e['updated'])}</dc:date>"
        f"<description>{escape(_nested(e['body'], int(e['depth'])))}</description></item>"
        for e in entries
    )
    return (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>Generated</title><link>https://odd.example/</link>{body}</channel></rss>"
    )


@st.composite
def responses(draw: st.DrawFn) -> Route:
    kind = draw(st.sampled_from(["rss", "atom", "json"]))
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16", "cp1252"]))
    text = document(kind, draw(items()))
    declare = kind != "json" and draw(st.booleans())
    prolog = f'<?xml version="1.0" encoding="{encoding}"?>\n' if declare else ""
    body = (prolog + text).encode(encoding, errors="replace")
    headers = {
        name: draw(HEADER_VALUE)
        for name in draw(
            st.sets(st.sampled_from(["Retry-After", "Cache-Control", "Expires", "Date"]))
        )
    }
    if "Cache-Control" in headers:
        headers["Cache-Control"] = "max-age=" + headers["Cache-Control"]
    return Route(
        body,
        status=draw(st.sampled_from([200] * 6 + [404, 410, 429, 500, 503])),
        content_type=draw(
            st.sampled_from(["application/xml", "application/json", "text/html", "", "x/y"])
        ),
        headers=headers,
        etag=draw(st.booleans()),
    )


@pytest.fixture(scope="module")
def server() -> Iterator[FeedServer]:
    started = FeedServer().start()
    try:
        yield started
    finally:
        started.stop()


def _status_lines(output: str) -> list[str]:
    statuses = ("new", "updated", "unchanged", "error", "deferred", "disabled")
    return [
        line for line in output.splitlines() if line.split()[:1] and line.split()[0] in statuses
    ]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(responses(), min_size=1, max_size=3))
def test_every_pass_completes_and_publishes_valid_feeds(
    server: FeedServer, routes: list[Route]
) -> None:
    directory = Path(tempfile.mkdtemp(prefix="aggregator-property-"))
    try:
        articles = directory / "articles"
        articles.mkdir()
        (articles / "anchor.md").write_text(
            "# The anchor article\n\nIt is always there. It always publishes.\n",
            encoding="utf-8",
        )
        lines = ["allow_private: true", "store: state.db", "fetch: {timeout: 2s}", "sources:"]
        lines.append("  - {name: anchor, path: articles, section: Local}")
        for index, route in enumerate(routes):
            path = f"/generated-{id(routes)}-{index}"
            server.add(path, route)
            lines.append(f"  - {{name: g{index}, url: {server.url(path)}, section: Odd}}")
        config = directory / "feeds.yaml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        for _second in (False, True):
            output = io.StringIO()
            with redirect_stdout(output):
                code = main(["--once", "-c", str(config)])
            assert code == 0, output.getvalue()
            assert len(_status_lines(output.getvalue())) == 1 + len(routes), output.getvalue()
            out = directory / "out"
            for name in ("feed.atom", "feed.rss"):
                ET.fromstring((out / name).read_bytes())
            feed = json.loads((out / "feed.json").read_bytes())
            assert "The anchor article" in {item["title"] for item in feed["items"]}
            assert (out / "index.html").read_bytes().startswith(b"<!DOCTYPE html>")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
