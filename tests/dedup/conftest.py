"""The dedup stage's tests run over every store, with the storage contract's
own fixture (test_merge.py keeps a SQLite one of its own)."""

from __future__ import annotations

from tests.store.conftest import store as store  # the fixture, over every store
