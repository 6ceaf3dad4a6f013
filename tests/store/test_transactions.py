"""What a store's transaction covers, run over every store (see conftest.py).

One source's failure inside a pass's batch undoes that source's writes only;
the database failing is the pass's :class:`StoreError`; an error caused by
the data written is left as it is, for the caller to treat as that data's.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.errors import StoreError
from aggregator.store import Store
from aggregator.store.index import IndexedCopy
from aggregator.store.items import CopyStep, MergeIntent

WHEN = datetime(2026, 12, 1, tzinfo=UTC)


def merge_into(item_id: int) -> MergeIntent:
    """One copy merged into the item ``item_id``."""
    index = IndexedCopy("src", "key", item_id, "Title", WHEN, b"", (1,), "content-hash")
    step = CopyStep("key", None, "hash", item_id, None, None, None, index, None, show=False)
    return MergeIntent("src", WHEN, (step,))


def test_a_failed_inner_transaction_undoes_only_its_own_writes(store: Store) -> None:
    with store.transaction():
        store.set_meta("batch", "kept")
        with pytest.raises(RuntimeError), store.transaction():
            store.set_meta("source", "undone")
            store.set_meta("batch", "overwritten")
            raise RuntimeError("one source's bug")
        with store.transaction():
            store.set_meta("next source", "kept")
    assert store.get_meta("batch") == "kept"
    assert store.get_meta("source") is None
    assert store.get_meta("next source") == "kept"


def test_a_failed_outer_transaction_undoes_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        with store.transaction():
            store.set_meta("inner", "done")
        store.set_meta("outer", "done")
        raise RuntimeError("the pass failed")
    assert store.get_meta("inner") is None and store.get_meta("outer") is None


def test_an_error_of_the_data_written_is_left_as_it_is(store: Store) -> None:
    with store.transaction():
        store.set_meta("before", "kept")
        # A copy of an item that does not exist: the data's fault, not the database's.
        with pytest.raises(Exception) as raised, store.transaction():
            store.apply_merge(merge_into(424242))
        assert not isinstance(raised.value, StoreError)
    assert store.get_meta("before") == "kept"


def test_the_database_failing_inside_a_transaction_is_a_store_error(store: Store) -> None:
    with pytest.raises(StoreError), store.transaction(), store.transaction():
        store.close()  # the database is gone under the pass
        store.set_meta("lost", "yes")
