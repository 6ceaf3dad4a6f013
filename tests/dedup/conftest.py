"""The dedup stage's tests over every store (test_merge.py keeps a SQLite one of its own)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.store import Store
from tests.store.conftest import STORES, open_fresh


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    opened = open_fresh(request.param, request, tmp_path)
    try:
        yield opened
    finally:
        opened.close()
