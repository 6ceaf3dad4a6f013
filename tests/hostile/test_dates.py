"""Dates out of any sane range, in every kind of source, through ``aggregate --once``.

Every entry date is clamped once, on entry (no earlier than 1970, no later
than a day past when it was seen), so nothing downstream (dedup windows,
digests, the feeds) can overflow on it.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

from aggregator.cli import main
from tests.feedserver import FeedServer
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
