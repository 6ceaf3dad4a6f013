"""Golden pairs: each fixture feed beside the ParsedFeed we expect from it.

Set UPDATE_GOLDEN=1 to rewrite the expectations after a deliberate change,
then read the diff before committing it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

import pytest

from aggregator.models import Document, ParsedFeed
from aggregator.parse import parse_document
from tests.conftest import DATA

FEEDS = DATA / "feeds"
EXPECTED = DATA / "parse"
CONTENT_TYPES = {".json": "application/feed+json", ".rdf": "application/rdf+xml"}
FIXTURES = sorted(p for p in FEEDS.iterdir() if p.name != "malformed.xml")


def as_json(feed: ParsedFeed) -> str:
    def default(value: object) -> str:
        assert isinstance(value, datetime)
        return value.isoformat()

    fields = asdict(feed)
    # The hashes depend on the program's version; how many entries they
    # cover (None: not remembered) is what the fixture decides.
    digests = feed.digests
    fields["digests"] = len(digests.entries) if digests is not None else None
    return json.dumps(fields, indent=2, ensure_ascii=False, default=default) + "\n"


def parse_fixture(path: Path) -> ParsedFeed:
    document = Document(
        location=f"https://fixtures.example/{path.name}",
        body=path.read_bytes(),
        content_type=CONTENT_TYPES.get(path.suffix, "application/xml"),
    )
    return parse_document(document, "fixture", local=False)


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_parsed_feed_matches_golden(path: Path) -> None:
    actual = as_json(parse_fixture(path))
    expected_path = EXPECTED / f"{path.name}.expected.json"
    if os.environ.get("UPDATE_GOLDEN"):
        expected_path.write_text(actual, encoding="utf-8")
    assert actual == expected_path.read_text(encoding="utf-8")
