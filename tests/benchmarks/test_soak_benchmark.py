"""benchmarks/soak.py at a tiny size, so the script does not rot unnoticed.

Not a soak: four feeds of three items, eight passes of the real daemon (a
second each), compared three against three, over SQLite and over PostgreSQL
with a worker (skipped, saying so, where no PostgreSQL server is reachable:
see tests/postgres.py).  It checks the plumbing: passes are detected from the
logs, every figure is measured, the reader is answered, the processes stop
with 0, and the verdict says so.  The growth criterion itself is checked on
made-up samples.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import REPO


def _load_soak() -> ModuleType:
    # benchmarks/ is not a package; load the script by path under its own name.
    spec = importlib.util.spec_from_file_location("benchmark_soak", REPO / "benchmarks" / "soak.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


soak = _load_soak()


def _tiny_soak(
    tmp_path: Path, *options: str, timeout: float
) -> tuple[list[str], set[str], list[dict[str, str]]]:
    """Eight passes over four feeds of three items: the output's lines, the
    figures it names, the CSV's rows.  Asserted on the way, in both stores'
    runs: it exits 0, every pass is a row, and the passes after the first
    store what each changes (two feeds, a story and its copy: a change that
    comes after its feed's poll is stored in the next pass)."""
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "soak.py"),
            *("--feeds", "4", "--items", "3", "--passes", "8", "--window", "3"),
            *("--every", "4", "--keep", str(tmp_path)),
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    figures = {line.split()[0] for line in lines if line.split()[:1]}
    with (tmp_path / "soak.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [int(row["pass"]) for row in rows] == list(range(1, 9))
    assert sum(int(row["new_polls"]) for row in rows[1:]) >= len(rows) - 1, rows
    assert sum(int(row["merged"]) for row in rows[1:]) >= 1, rows
    return lines, figures, rows


def test_the_soak_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    lines, figures, rows = _tiny_soak(tmp_path, timeout=120)
    assert lines[-1] == "ok: nothing grows beyond its slack; the daemon stopped with 0", lines
    assert set(soak.FIGURES) <= figures, lines
    assert all(float(row["pss_daemon_mb"]) > 0 and int(row["threads"]) > 0 for row in rows)


def test_the_soak_benchmark_runs_at_a_tiny_size_over_postgresql(
    tmp_path: Path, postgres_database_url: str
) -> None:
    """``--store URL --workers 1``: the cluster's daemon and a worker over an empty database."""
    lines, figures, rows = _tiny_soak(
        tmp_path, "--store", postgres_database_url, "--workers", "1", timeout=180
    )
    assert lines[-1] == (
        "ok: nothing grows beyond its slack; the daemon and 1 worker stopped with 0"
    ), lines
    assert set(soak.cluster_figures(workers=1)) <= figures, lines
    assert "wal_mb" not in figures
    for row in rows:
        assert float(row["pss_daemon_mb"]) > 0 and float(row["w1_pss_own_mb"]) > 0, row
        assert int(row["w1_threads"]) > 0 and int(row["connections"]) > 0, row
        # The daemon's and the worker's heartbeats, and the jobs' table made.
        assert int(row["queue_workers"]) == 2 and float(row["queue_mb"]) > 0, row
    assert "running jobs from" in (tmp_path / "worker-1.log").read_text()
    assert not (tmp_path / "aggregator.db").exists()


def test_a_database_that_is_not_empty_is_refused(
    tmp_path: Path, postgres_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import psycopg

    with psycopg.connect(postgres_database_url, autocommit=True) as connection:
        connection.execute("CREATE TABLE left_over (id integer)")
    exit_code = soak.main(["--store", postgres_database_url, "--keep", str(tmp_path)])
    assert exit_code == 1
    assert "is not empty (1 tables, public.left_over among them)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--workers", "1"], "--workers needs --store"),
        (["--store", "aggregator.db"], "--store takes a postgresql:// URL"),
        (["--store", "postgresql://h/db", "--workers", "-1"], "--workers must be at least 0"),
    ],
)
def test_store_and_workers_are_checked(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        soak.parse_args(argv)
    assert exit_.value.code == 2
    assert message in capsys.readouterr().err


def _sample(**figures: int) -> Any:
    """A made-up pass, its figures 0 but those given (``more`` over PostgreSQL)."""
    names = [f.name for f in soak.fields(soak.Sample) if f.name != "more"]
    base = soak.Sample(*([1] + [0] * (len(names) - 1)))
    return replace(base, **{k: v for k, v in figures.items() if k in names})


def test_a_count_grows_when_its_last_window_exceeds_the_first_by_more_than_its_slack() -> None:
    base = _sample()
    steady = [replace(base, pass_=n, threads=5 + n % 2, fds_other=10) for n in range(1, 21)]
    assert soak.growing(steady, window=5) == []
    # One thread more than the slack, in one pass of the last five.
    grown = [*steady[:-1], replace(steady[-1], threads=6 + 3)]
    assert soak.growing(grown, window=5) == [
        "threads: at most 6 in the first 5 passes, 9 in the last"
    ]
    # A descriptor a pass.
    leaking = [replace(s, fds_other=10 + s.pass_) for s in steady]
    assert soak.growing(leaking, window=5) == [
        "fds_other: at most 15 in the first 5 passes, 30 in the last"
    ]
    # Too short a run to judge.
    assert soak.growing(leaking[:9], window=5) == []
    assert soak.slope([float(n) for n in range(10)]) == 100.0


def test_over_postgresql_each_worker_and_the_queue_are_judged_too() -> None:
    slack = soak.cluster_slack(workers=1, sources=10)
    assert slack["w1_threads"] == soak.SLACK["threads"] and slack["jobs"] == 10
    steady = {"w1_threads": 4, "w1_sockets": 8, "w1_fds_other": 16, "w1_children": 4}
    steady |= {"connections": 13, "queue_workers": 2}
    samples = [replace(_sample(pass_=n), more={**steady, "jobs": n % 3}) for n in range(1, 21)]
    assert soak.growing(samples, window=5, slack=slack) == []
    # Polls piling up in the queue, a worker's thread a pass, a connection kept.
    piling = [replace(s, more={**s.more, "jobs": 10 * s.pass_}) for s in samples]
    assert soak.growing(piling, window=5, slack=slack) == [
        "jobs: at most 50 in the first 5 passes, 200 in the last"
    ]
    leaking = [replace(s, more={**s.more, "w1_threads": 4 + s.pass_}) for s in samples]
    assert soak.growing(leaking, window=5, slack=slack) == [
        "w1_threads: at most 9 in the first 5 passes, 24 in the last"
    ]
    held = [replace(s, more={**s.more, "connections": 13 + s.pass_ // 3}) for s in samples]
    assert soak.growing(held, window=5, slack=slack) == [
        "connections: at most 14 in the first 5 passes, 19 in the last"
    ]
