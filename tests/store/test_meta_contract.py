"""Small named values, the files last published, and states by name: over every store."""

from __future__ import annotations

from aggregator.store import Store


def test_take_meta_removes_and_returns_the_keys_of_one_prefix(store: Store) -> None:
    with store.transaction():
        store.set_meta("run:1:a", "A")
        store.set_meta("run:1:b", "B")
        store.set_meta("run:10:a", "other run")
        store.set_meta("run:2:a", "other run")
    assert store.take_meta("run:1:") == {"run:1:a": "A", "run:1:b": "B"}
    assert store.take_meta("run:1:") == {}  # taken
    assert store.get_meta("run:10:a") == "other run"
    assert store.get_meta("run:2:a") == "other run"
    assert store.get_meta("generation") is not None  # not a prefix of it: kept


def test_read_meta_returns_the_keys_of_one_prefix_and_keeps_them(store: Store) -> None:
    with store.transaction():
        store.set_meta("run:1:a", "A")
        store.set_meta("run:2:b", "B")
        store.set_meta("run_3", "not the prefix")
    assert store.read_meta("run:") == {"run:1:a": "A", "run:2:b": "B"}
    assert store.read_meta("run:") == {"run:1:a": "A", "run:2:b": "B"}  # kept
    assert store.read_meta("run:9") == {}


def test_take_meta_treats_like_wildcards_as_text(store: Store) -> None:
    with store.transaction():
        store.set_meta("a_b", "1")
        store.set_meta("axb", "2")
    assert store.take_meta("a_") == {"a_b": "1"}
    assert store.get_meta("axb") == "2"


def test_published_files_are_those_of_the_last_save(store: Store) -> None:
    assert store.published_files() == (None, {})
    store.save_published("s1", {"feed.atom": b"<feed/>", "sections/a.atom": b"\x00\xff"})
    assert store.published_files() == (
        "s1",
        {"feed.atom": b"<feed/>", "sections/a.atom": b"\x00\xff"},
    )
    store.save_published("s2", {"feed.atom": b"<feed>2</feed>"})
    assert store.published_files() == ("s2", {"feed.atom": b"<feed>2</feed>"})
    # A daemon whose copy is of s2 is told so, without the bytes.
    assert store.published_files(unless="s2") == ("s2", {})
    assert store.published_files(unless="s1") == ("s2", {"feed.atom": b"<feed>2</feed>"})


def test_source_states_by_name(store: Store) -> None:
    store.sync_sources([("b", "http://b/", "S"), ("a", "http://a/", "S"), ("c", "http://c/", "T")])
    assert [s.name for s in store.source_states(names=["c", "a", "zz"])] == ["a", "c"]
    assert [s.name for s in store.source_states(counts=False, names=[])] == []
    assert [s.name for s in store.source_states()] == ["a", "b", "c"]
