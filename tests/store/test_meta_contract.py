"""Small named values, the files last published, and states by name: over every store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aggregator.store import SqliteStore, Store


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
    assert store.published_state() is None
    store.save_published("s1", {"feed.atom": b"<feed/>", "sections/a.atom": b"\x00\xff"})
    assert store.published_files() == (
        "s1",
        {"feed.atom": b"<feed/>", "sections/a.atom": b"\x00\xff"},
    )
    store.save_published("s2", {"feed.atom": b"<feed>2</feed>"})
    assert store.published_files() == ("s2", {"feed.atom": b"<feed>2</feed>"})
    assert store.published_state() == "s2"
    # A daemon whose copy is of s2 is told so, without the bytes.
    assert store.published_files(unless="s2") == ("s2", {})
    assert store.published_files(unless="s1") == ("s2", {"feed.atom": b"<feed>2</feed>"})


@contextmanager
def rows_written(store: Store) -> Iterator[list[tuple[str, str]]]:
    """Each row of ``published_files`` the store inserts, updates or deletes
    inside, as (name, operation), seen by triggers on the table."""
    written: list[tuple[str, str]] = []
    db = store._db  # type: ignore[attr-defined]
    if isinstance(store, SqliteStore):
        db.execute("CREATE TEMP TABLE written (name TEXT, operation TEXT)")
        for operation, row in (("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old")):
            db.execute(
                f"CREATE TEMP TRIGGER written_{operation} AFTER {operation} "
                f"ON main.published_files BEGIN "
                f"INSERT INTO written VALUES ({row}.name, '{operation}'); END"
            )
    else:
        db.execute("CREATE TABLE written (name text, operation text)")
        db.execute(
            "CREATE FUNCTION note_written() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "INSERT INTO written VALUES "
            "(CASE TG_OP WHEN 'DELETE' THEN OLD.name ELSE NEW.name END, TG_OP); "
            "RETURN NULL; END $$"
        )
        db.execute(
            "CREATE TRIGGER note_written AFTER INSERT OR UPDATE OR DELETE ON published_files "
            "FOR EACH ROW EXECUTE FUNCTION note_written()"
        )
    yield written
    written += [(str(name), str(op)) for name, op in db.execute("SELECT * FROM written")]


def test_a_save_writes_only_the_files_that_changed(store: Store) -> None:
    store.save_published(
        "s1", {"feed.atom": b"<feed/>", "sections/a.atom": b"same", "sections/b.atom": b"b"}
    )
    with rows_written(store) as written:
        store.save_published(
            "s2", {"feed.atom": b"<feed>2</feed>", "sections/a.atom": b"same", "c.atom": b"c"}
        )
    # Not sections/a.atom: its bytes are those saved before.
    assert sorted(written) == [
        ("c.atom", "INSERT"),
        ("feed.atom", "UPDATE"),
        ("sections/b.atom", "DELETE"),
    ]
    assert store.published_files() == (
        "s2",
        {"c.atom": b"c", "feed.atom": b"<feed>2</feed>", "sections/a.atom": b"same"},
    )


def test_a_save_of_the_same_files_writes_only_their_state(store: Store) -> None:
    files = {"feed.atom": b"<feed/>", "sections/a.atom": b"\x00\xff"}
    store.save_published("s1", files)
    with rows_written(store) as written:
        store.save_published("s2", dict(files))
    assert written == []
    assert store.published_files() == ("s2", files)
    assert store.published_files(unless="s1") == ("s2", files)  # a daemon's copy of s1: stale


def test_another_connection_sees_the_files_of_one_save_whole(
    store: Store, other_connection: Store
) -> None:
    """A daemon's mirror reads them while a node saves: never some of each."""
    before = {"feed.atom": b"1", "sections/a.atom": b"a", "sections/b.atom": b"b1"}
    after = {"feed.atom": b"2", "sections/a.atom": b"a", "sections/c.atom": b"c"}
    store.save_published("s1", before)
    with store.transaction():
        store.save_published("s2", after)
        assert other_connection.published_files() == ("s1", before)
    assert other_connection.published_files() == ("s2", after)


def test_source_states_by_name(store: Store) -> None:
    store.sync_sources([("b", "http://b/", "S"), ("a", "http://a/", "S"), ("c", "http://c/", "T")])
    assert [s.name for s in store.source_states(names=["c", "a", "zz"])] == ["a", "c"]
    assert [s.name for s in store.source_states(counts=False, names=[])] == []
    assert [s.name for s in store.source_states()] == ["a", "b", "c"]
