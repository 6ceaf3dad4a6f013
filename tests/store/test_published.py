"""Which published files a save writes: those new or changed, by digest."""

from __future__ import annotations

from aggregator.store.published import file_digest, published_changes


def test_only_new_and_changed_files_are_written_and_the_rest_deleted() -> None:
    stored = {"feed.atom": file_digest(b"old"), "same.atom": file_digest(b"same"), "gone": "x"}
    changes = published_changes(
        stored, {"feed.atom": b"new", "same.atom": b"same", "added.atom": b"added"}
    )
    assert changes.written == [
        ("feed.atom", b"new", file_digest(b"new")),
        ("added.atom", b"added", file_digest(b"added")),
    ]
    assert changes.deleted == ["gone"]


def test_a_file_saved_without_a_digest_is_written_again() -> None:
    """Saved by a version that kept no digests: its bytes are not known to match."""
    changes = published_changes({"feed.atom": None}, {"feed.atom": b"same"})
    assert [name for name, _body, _digest in changes.written] == ["feed.atom"]
    assert changes.deleted == []
