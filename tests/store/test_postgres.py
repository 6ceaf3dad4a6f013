"""What only the PostgreSQL store has: errors naming a server, and several writers at once.

Errors: an unreachable server, a refused login, a missing database, a lost
connection and a newer schema are each one line naming the URL, its password
masked.  Writers: two processes migrating a fresh database at once, two
pollers claiming due sources at once, two workers storing copies of one
story at the same moment, and two nodes saving the published files at once,
each with its own connection.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest

from aggregator.dedup.merge import merge_copies, prepare_copy
from aggregator.errors import StoreError
from aggregator.models import ParsedItem
from aggregator.store import Store, open_store, postgres
from aggregator.store.items import MergeIntent
from aggregator.store.postgres import MIGRATIONS, PostgresStore
from tests.dedup import stories as s
from tests.postgres import TestServer, with_database
from tests.store import test_items_contract as contract
from tests.store.test_store_paths import run

WHEN = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
_T = TypeVar("_T")


@pytest.fixture
def store(postgres_url: str) -> Iterator[PostgresStore]:
    opened = PostgresStore(postgres_url)
    try:
        yield opened
    finally:
        opened.close()


def one_line_error(url: str) -> str:
    with pytest.raises(StoreError) as raised:
        open_store(url)
    message = str(raised.value)
    assert "\n" not in message
    return message


# -- errors -------------------------------------------------------------------


def waits_on_a_lock(watcher: PostgresStore, waiter: PostgresStore) -> bool:
    """Whether ``waiter``'s connection comes to wait on a lock within about 5
    s, as the server sees it through ``watcher``'s (not a guess from a sleep)."""
    pid = waiter._db.info.backend_pid
    for _ in range(500):
        row = watcher._db.execute(
            "SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", (pid,)
        ).fetchone()
        if row is not None and row[0] == "Lock":
            return True
        threading.Event().wait(0.01)
    return False


def test_an_unreachable_server_is_one_line_with_the_password_masked() -> None:
    message = one_line_error("postgresql://root:hunter22@127.0.0.1:1/x")
    assert message.startswith("cannot open the database postgresql://root:***@127.0.0.1:1/x: ")
    assert "refused" in message.lower() and "hunter22" not in message


def test_a_missing_database_and_a_refused_login_say_so(postgres_server: TestServer) -> None:
    missing = with_database(postgres_server.server, "no_such_database_here")
    assert 'database "no_such_database_here" does not exist' in one_line_error(missing)
    server = urlsplit(postgres_server.server)
    stranger = server._replace(netloc=f"nobody_here:s3cret!@{server.netloc.rpartition('@')[2]}")
    message = one_line_error(urlunsplit(stranger))
    assert "nobody_here:***@" in message and "s3cret" not in message
    assert '"nobody_here"' in message  # the role refused


def test_a_newer_schema_is_refused(postgres_url: str) -> None:
    PostgresStore(postgres_url).close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE schema_version SET version = %s", (len(MIGRATIONS) + 1,))
    message = one_line_error(postgres_url)
    assert f"has schema version {len(MIGRATIONS) + 1}, newer than this program's" in message
    assert message.endswith("upgrade aggregator")


def test_a_connection_lost_mid_use_is_a_store_error(
    store: PostgresStore, postgres_url: str
) -> None:
    store.sync_sources([("a", "https://a.example/feed", "S")])
    pid = store._db.info.backend_pid
    with psycopg.connect(postgres_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with pytest.raises(StoreError) as raised:
        store.source_states()
    message = str(raised.value)
    assert "\n" not in message and message.startswith("the database postgresql://")
    # The next call has a new connection: a long-lived process goes on.
    assert [state.name for state in store.source_states()] == ["a"]
    assert store._db.info.backend_pid != pid


def test_a_transaction_whose_connection_is_lost_fails_whole_and_the_next_reconnects(
    store: PostgresStore, postgres_url: str
) -> None:
    def cut() -> None:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(%s)", (store._db.info.backend_pid,))

    with pytest.raises(StoreError), store.transaction():
        store.set_meta("first", "1")
        cut()
        with pytest.raises(StoreError):
            store.set_meta("lost", "x")  # finds the connection lost
        # Caught (as a batch catches one source's failure), the transaction
        # goes on: never on a new connection, outside the one that failed.
        store.set_meta("second", "2")
    assert [store.get_meta(key) for key in ("first", "lost", "second")] == [None, None, None]
    with store.transaction():
        store.set_meta("third", "3")
    assert store.get_meta("third") == "3"


def test_without_psycopg_a_postgresql_url_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg raises ImportError
    monkeypatch.delitem(sys.modules, "aggregator.store.postgres")
    message = one_line_error("postgresql://me:pw12345@db.example/news")
    assert "pip install 'aggregator[postgres]'" in message
    assert "me:***@db.example" in message


def test_status_and_duplicates_read_a_postgresql_store(tmp_path: Path, postgres_url: str) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "sources:\n  - {name: Harbour, url: 'https://harbour.example/feed', section: S}\n",
        encoding="utf-8",
    )
    for command in (["status"], ["duplicates"]):
        code, stderr = run([*command, "-c", str(config), "--db", postgres_url])
        assert (code, stderr) == (0, "")
    code, stderr = run(["status", "-c", str(config), "--db", "postgresql://u:pw99@127.0.0.1:1/x"])
    assert code == 1 and stderr.count("\n") == 1
    assert "postgresql://u:***@127.0.0.1:1/x" in stderr and "pw99" not in stderr


# -- several writers ----------------------------------------------------------


def at_once(*calls: Callable[[], _T]) -> list[_T]:
    """Run the calls in threads released together; their results, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[_T | BaseException] = [RuntimeError("not run")] * len(calls)

    def run_one(n: int) -> None:
        barrier.wait()
        try:
            results[n] = calls[n]()
        except BaseException as exc:
            results[n] = exc

    threads = [threading.Thread(target=run_one, args=(n,)) for n in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return results  # type: ignore[return-value]


OPEN_WHEN_TOLD = """
import sys
from aggregator.store.postgres import PostgresStore
print("ready", flush=True)
sys.stdin.readline()
PostgresStore(sys.argv[1]).close()
"""


def test_two_processes_migrate_a_fresh_database_at_once(postgres_database_url: str) -> None:
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", OPEN_WHEN_TOLD, postgres_database_url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in processes:
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    for process in processes:
        _, stderr = process.communicate(timeout=60)
        assert process.returncode == 0, stderr
    with psycopg.connect(postgres_database_url) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]


def test_two_pollers_claiming_at_once_never_get_the_same_source(postgres_url: str) -> None:
    names = [f"source {n:04}" for n in range(600)]
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    lease = timedelta(minutes=1)
    try:
        first.sync_sources([(name, f"https://{n}.example/", "S") for n, name in enumerate(names)])
        for tick in range(3):  # each tick after the leases of the one before expired
            now = WHEN + tick * 2 * lease
            claimed = at_once(
                partial(first.claim_due, now, lease=lease, limit=400),
                partial(second.claim_due, now, lease=lease, limit=400),
            )
            assert not set(claimed[0]) & set(claimed[1])
            assert sorted(claimed[0] + claimed[1]) == names  # 800 asked: all 600 handed out
            assert first.claim_due(now, lease=lease, limit=400) == []
    finally:
        first.close()
        second.close()


def test_lock_for_merge_makes_another_transaction_wait_for_a_shared_key(
    postgres_url: str,
) -> None:
    holder, waiter, watcher = (PostgresStore(postgres_url) for _ in range(3))
    try:
        with holder.transaction():
            holder.lock_for_merge([11, 12, 13])
            with waiter.transaction():
                waiter.lock_for_merge([14, 15])  # no key shared: no wait
            done = threading.Event()

            def lock_shared() -> None:
                with waiter.transaction():
                    waiter.lock_for_merge([13, 99])
                    done.set()

            thread = threading.Thread(target=lock_shared)
            thread.start()
            assert waits_on_a_lock(watcher, waiter) and not done.is_set()
        thread.join(timeout=30)
        assert done.is_set()
    finally:
        for opened in (holder, waiter, watcher):
            opened.close()


def test_two_saves_of_the_published_files_at_once_leave_the_last_ones_whole(
    postgres_url: str,
) -> None:
    """Each save writes what differs from the files it finds: the second must
    find the first's, not those from before both (a file of each)."""
    holder, waiter, watcher = (PostgresStore(postgres_url) for _ in range(3))
    try:
        holder.save_published("s0", {"feed.atom": b"0", "sections/a.atom": b"0"})
        with holder.transaction():
            holder.save_published("s1", {"feed.atom": b"1", "sections/a.atom": b"0"})
            done = threading.Event()

            def save() -> None:
                waiter.save_published("s2", {"feed.atom": b"0", "sections/a.atom": b"2"})
                done.set()

            thread = threading.Thread(target=save)
            thread.start()
            assert waits_on_a_lock(watcher, waiter) and not done.is_set()
        thread.join(timeout=30)
        assert done.is_set()
        assert watcher.published_files() == ("s2", {"feed.atom": b"0", "sections/a.atom": b"2"})
    finally:
        for opened in (holder, waiter, watcher):
            opened.close()


def story(source: str, round_: int, same_url: bool) -> ParsedItem:
    """One story as ``source`` carries it: the same address, or the same text elsewhere."""
    link = (
        f"https://news.example/round-{round_}" if same_url else f"https://{source}.example/{round_}"
    )
    return ParsedItem(
        entry_id=f"{source}-{round_}",
        title=f"Round {round_}: {s.TITLE}",
        link=link,
        published=WHEN,
        updated=None,
        content_html=f"<p>Round {round_}. {s.TEXT}</p>",
    )


def store_story(store: Store, source: str, round_: int, same_url: bool) -> Callable[[], object]:
    copy = prepare_copy(story(source, round_, same_url))  # the CPU part, before the race

    def merge() -> object:
        with store.transaction():
            return merge_copies(store, source, "News", [copy], WHEN)

    return merge


def test_two_workers_storing_one_story_at_once_make_one_item_of_both(postgres_url: str) -> None:
    """Without lock_for_merge each would find no item and create one."""
    harbour, wire = PostgresStore(postgres_url), PostgresStore(postgres_url)
    rounds = 50
    try:
        for n in range(rounds):
            same_url = n % 2 == 0
            at_once(
                store_story(harbour, "harbour", n, same_url),
                store_story(wire, "wire", n, same_url),
            )
        items = harbour.latest_items(10 * rounds)
        by_round = {
            n: [i for i in items if i.title.startswith(f"Round {n}:")] for n in range(rounds)
        }
        split = [n for n, found in by_round.items() if len(found) != 1]
        assert split == [], f"{len(split)} of {rounds} stories stored as two items"
        for found in by_round.values():
            assert sorted(ref.name for ref in found[0].sources) == ["harbour", "wire"]
    finally:
        harbour.close()
        wire.close()


def test_merges_writing_the_same_items_in_opposite_orders_do_not_deadlock(
    postgres_url: str,
) -> None:
    """Two sources' copies joining (and showing on) two stored items, one
    source in each order: without locking the items in id order first, each
    would hold one item's copies while waiting for the other's."""
    from tests.store.test_items_contract import apply, join, new

    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    try:
        for round_ in range(20):
            x, y = apply(
                first, "origin", new("origin", f"x{round_}", 0), new("origin", f"y{round_}", 1)
            )
            at_once(
                partial(
                    apply,
                    first,
                    "one",
                    join("one", f"x{round_}", x, show=True),
                    join("one", f"y{round_}", y, show=True),
                ),
                partial(
                    apply,
                    second,
                    "two",
                    join("two", f"y{round_}", y, show=True),
                    join("two", f"x{round_}", x, show=True),
                ),
            )
            shown = first.shown_copies([x, y])
            assert {shown[x].source, shown[y].source} <= {"one", "two"}
    finally:
        first.close()
        second.close()


def test_processes_starting_with_one_configuration_at_once_agree(postgres_url: str) -> None:
    """Each writes the rows the other writes (new sources, moved ones), in
    whatever order its configuration lists them: one waits, none deadlocks."""
    first, second = PostgresStore(postgres_url), PostgresStore(postgres_url)
    try:
        for round_ in range(5):
            sources = [(f"s{n:03}", f"https://{n}.example/{round_}", "S") for n in range(300)]
            at_once(
                partial(first.sync_sources, sources), partial(second.sync_sources, sources[::-1])
            )
            assert [(s.name, s.next_due) for s in first.source_states(counts=False)] == [
                (name, None) for name, _, _ in sources
            ]
    finally:
        first.close()
        second.close()


def store_item(store: PostgresStore, key: str) -> None:
    """A new item of source "one", in a transaction of its own."""
    with store.transaction():
        store.apply_merge(MergeIntent("one", contract.WHEN, (contract.new("one", key, 0),)))


def test_the_tables_a_pass_grows_are_sampled_as_they_double(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A statement planned when the items were few (a scan) would otherwise
    be kept as they grow: a first pass's look-ups then cost the square of
    its items."""
    monkeypatch.setattr(postgres, "ANALYZE_MIN_ITEMS", 3)

    def sampled() -> float:
        row = store._db.execute("SELECT reltuples FROM pg_class WHERE oid = 'items'::regclass")
        return float(row.fetchone()[0])  # type: ignore[index]

    def store_items(keys: range) -> None:
        for key in keys:
            store_item(store, f"k{key}")

    assert sampled() == -1  # never sampled
    store_items(range(2))
    assert sampled() == -1
    store_items(range(2, 3))  # the third item: sampled
    assert sampled() == 3
    store_items(range(3, 5))  # two more: under the three the table held
    assert sampled() == 3
    with store.transaction():  # not inside a transaction: sampled after it
        store_items(range(5, 7))
        assert sampled() == 3
    assert sampled() == 7


def test_a_sample_that_fails_is_a_warning_and_what_was_committed_stays(
    store: PostgresStore, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(postgres, "ANALYZE_MIN_ITEMS", 1)
    monkeypatch.setattr(postgres, "_GROWN_BY_A_PASS", ("items", "no_such_table"))
    with caplog.at_level("WARNING", logger="aggregator.store.postgres"):
        store_item(store, "k")
    [record] = caplog.records
    assert "tables not analyzed" in record.getMessage()
    assert "no_such_table" in record.getMessage()
    assert store.copies_for_merge("one", ["k"])["k"].indexed is not None
