"""The in-memory file cache: one load per version, a new load per replacement."""

from __future__ import annotations

import asyncio
import gzip
import os
from pathlib import Path

import pytest

from aggregator.serve import files
from aggregator.serve.files import FileCache, Representation, represent


def test_represent_tags_each_variant_by_its_own_bytes() -> None:
    data = b"<feed>" + b"<entry/>" * 100 + b"</feed>"
    first = represent(data, modified=1_700_000_000)
    again = represent(data, modified=1_700_000_000)
    assert first == again  # deterministic: no clock in the gzip header
    assert first.gzip is not None
    assert gzip.decompress(first.gzip.body) == data
    assert first.gzip.etag != first.identity.etag
    assert first.last_modified_header == "Tue, 14 Nov 2023 22:13:20 GMT"
    assert represent(data + b" ").identity.etag != first.identity.etag


def test_tiny_bodies_have_no_gzip_variant() -> None:
    assert represent(b"ok").gzip is None


def test_unchanged_file_is_not_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "feed.atom"
    path.write_bytes(b"<feed>" + b"x" * 1000 + b"</feed>")
    reads: list[str] = []
    real_read = files._read

    def counting_read(name: str) -> files._Cached:
        reads.append(name)
        return real_read(name)

    monkeypatch.setattr(files, "_read", counting_read)

    async def scenario() -> list[Representation | None]:
        cache = FileCache()
        together = await asyncio.gather(*(cache.get(str(path)) for _ in range(5)))
        later = await cache.get(str(path))
        temporary = tmp_path / "new.tmp"
        temporary.write_bytes(b"<feed>" + b"y" * 1000 + b"</feed>")
        os.replace(temporary, path)
        replaced = await cache.get(str(path))
        path.unlink()
        gone = await cache.get(str(path))
        return [*together, later, replaced, gone]

    *together, later, replaced, gone = asyncio.run(scenario())
    assert all(result is together[0] for result in together)  # one load shared by all five
    assert later is together[0]
    assert replaced is not None and replaced.identity.body.startswith(b"<feed>y")
    assert gone is None
    assert len(reads) == 2
