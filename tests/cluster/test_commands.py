"""The commands over a PostgreSQL store, through ``aggregate``'s entry point."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from aggregator.cli import main
from aggregator.config import load_config
from aggregator.store import open_store
from tests.cluster.stories import FEEDS, write_config
from tests.feedserver import FeedServer


def run(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def source_lines(output: str) -> list[str]:
    return sorted(line for line in output.splitlines() if re.match(r"^\w+ +feed\d+: ", line))


def test_once_over_postgresql_prints_what_once_over_sqlite_prints(
    feeds: FeedServer, postgres_url: str, tmp_path: Path
) -> None:
    shared = write_config(tmp_path / "pg.yaml", feeds, postgres_url, tmp_path / "pg-out")
    single = write_config(tmp_path / "lite.yaml", feeds, str(tmp_path / "a.db"), tmp_path / "out")

    code, cluster_out, err = run(["--once", "-c", str(shared)])
    assert code == 0, err
    lite_code, lite_out, _ = run(["--once", "-c", str(single)])
    assert lite_code == 0
    assert len(source_lines(cluster_out)) == FEEDS
    # Which copy of a shared story is "new" and which "merged" is whichever
    # was stored first: the totals agree, and every line is a source's.
    assert cluster_out.splitlines()[-2] == lite_out.splitlines()[-2]  # the total line
    assert cluster_out.splitlines()[-1] == f"published to {tmp_path / 'pg-out'}"
    assert (tmp_path / "pg-out" / "feed.atom").is_file()

    # Again: every feed answers 304, nothing changes, nothing is published.
    code, again, err = run(["--once", "-c", str(shared)])
    assert code == 0, err
    assert all("not modified" in line for line in source_lines(again)), again
    assert again.splitlines()[-1].startswith("nothing changed")

    # The run left nothing behind: its results were taken, its jobs ended.
    store = open_store(load_config(shared).store)
    try:
        assert store.take_meta("run:") == {}
        state, files = store.published_files()
        assert state is not None
        assert files["feed.atom"] == (tmp_path / "pg-out" / "feed.atom").read_bytes()
    finally:
        store.close()
    code, status, err = run(["status", "-c", str(shared)])
    assert code == 0, err
    assert re.search(r"^polls +0 +0 +0$", status, re.MULTILINE), status
    assert "workers seen" in status


def test_db_migrate_creates_the_job_queue_once(postgres_url: str, tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"store: '{postgres_url}'\nsources:\n  - {{name: a, url: http://x/, section: S}}\n"
    )
    code, out, err = run(["db", "migrate", "-c", str(config)])
    assert code == 0, err
    assert "job queue created" in out
    code, out, err = run(["db", "migrate", "-c", str(config)])
    assert (code, "job queue up to date" in out) == (0, True), err


def test_an_unreachable_database_is_one_line_with_the_password_masked(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("sources:\n  - {name: a, url: http://x/, section: S}\n")
    url = "postgresql://root:hunter22@127.0.0.1:1/nowhere"
    for command in (["--once"], ["worker"], ["db", "migrate"], ["status"]):
        code, out, err = run([*command, "-c", str(config), "--db", url])
        assert code == 1, (command, out, err)
        assert len(err.strip().splitlines()) == 1, err
        assert "hunter22" not in err and "127.0.0.1:1/nowhere" in err, err
        assert "Traceback" not in err


def test_cluster_commands_refuse_a_sqlite_store(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("sources:\n  - {name: a, url: http://x/, section: S}\n")
    code, _, err = run(["worker", "-c", str(config)])
    assert code == 2
    assert "needs a PostgreSQL store" in err and len(err.strip().splitlines()) == 1
    code, _, err = run(["db", "-c", str(config)])
    assert code == 2 and "migrate" in err


def test_status_counts_the_polls_waiting_not_the_jobs(postgres_url: str, tmp_path: Path) -> None:
    """A poll job polls several sources: what waits is as many polls as they have."""
    import asyncio

    from aggregator.cluster.queue import JobQueue, PollBatch

    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"store: '{postgres_url}'\nsources:\n  - {{name: a, url: http://x/, section: S}}\n"
    )

    async def queue_polls() -> None:
        async with JobQueue.of(load_config(config)) as queue:
            batches = [PollBatch("host:x:0", ("a", "b", "c")), PollBatch("host:y:0", ("d",))]
            await queue.defer_polls(batches, scheduled=True)

    asyncio.run(queue_polls())
    code, status, err = run(["status", "-c", str(config)])
    assert code == 0, err
    assert re.search(r"^polls +4 +0 +0$", status, re.MULTILINE), status
