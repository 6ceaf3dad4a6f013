"""Records that cross between processes pickle to equal copies."""

from __future__ import annotations

import pickle
from dataclasses import fields
from datetime import UTC, datetime

from aggregator.ingest import Ingested, IngestJob, ingest
from aggregator.models import Document, Fetched, FetchState, Record
from tests.conftest import DATA

NOW = datetime(2026, 11, 24, tzinfo=UTC)


def test_a_workers_result_pickles_to_an_equal_copy() -> None:
    document = Document(
        "https://example.org/feed", (DATA / "feeds" / "rss20.xml").read_bytes(), "text/xml"
    )
    job = IngestJob(Fetched("Example", (document,), FetchState(etag='"x"')), NOW)
    job = IngestJob(job.fetched, NOW, stored={"id:1": "hash"})
    assert pickle.loads(pickle.dumps(job)) == job
    result = ingest(job)
    assert isinstance(result, Ingested) and result.copies
    copy = pickle.loads(pickle.dumps(result))
    assert copy.feed == result.feed
    for before, after in zip(result.copies, copy.copies, strict=True):
        assert (after.item, after.entry_key, after.content_hash) == (
            before.item,
            before.entry_key,
            before.content_hash,
        )
        assert before.facts is not None and after.facts is not None
        assert after.facts.signature == before.facts.signature
        assert after.facts.bands == before.facts.bands


def test_every_record_field_is_an_init_field() -> None:
    """Record.__reduce__ calls the constructor with the fields in slot order."""
    records = [c for c in _subclasses(Record) if "__slots__" in vars(c)]
    # (dataclass(slots=True) makes a new class; the one it replaced has none.)
    assert len(records) >= 12
    for record in records:
        names = tuple(f.name for f in fields(record) if f.init)  # type: ignore[arg-type]
        assert names == record.__slots__, record


def _subclasses(cls: type) -> list[type]:
    found = []
    for sub in cls.__subclasses__():
        found += [sub, *_subclasses(sub)]
    return found
