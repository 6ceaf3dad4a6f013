"""benchmarks/soak.py at a tiny size, so the script does not rot unnoticed.

Not a soak: four feeds of three items, eight passes of the real daemon (a
second each), compared three against three.  It checks the plumbing: passes
are detected from the log, every figure is measured, the reader is answered,
the daemon stops with 0, and the verdict says so.  The growth criterion
itself is checked on made-up samples.
"""

from __future__ import annotations

import csv
import importlib.util
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from types import ModuleType

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


def test_the_soak_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "soak.py"),
            *("--feeds", "4", "--items", "3", "--passes", "8", "--window", "3"),
            *("--every", "4", "--keep", str(tmp_path)),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines[-1] == "ok: nothing grows beyond its slack; the daemon stopped with 0", lines
    figures = {line.split()[0] for line in lines if line.split()[:1]}
    assert set(soak.FIGURES) <= figures, lines
    with (tmp_path / "soak.csv").open() as file:
        rows = list(csv.DictReader(file))
    assert [int(row["pass"]) for row in rows] == list(range(1, 9))
    assert all(float(row["pss_daemon_mb"]) > 0 and int(row["threads"]) > 0 for row in rows)
    # Each pass after the first changes two feeds (a story and its copy): a
    # change that comes after its feed's poll is stored in the next pass.
    assert sum(int(row["new_polls"]) for row in rows[1:]) >= len(rows) - 1, rows
    assert sum(int(row["merged"]) for row in rows[1:]) >= 1, rows


def test_a_count_grows_when_its_last_window_exceeds_the_first_by_more_than_its_slack() -> None:
    base = soak.Sample(*([1] + [0] * (len(soak.fields(soak.Sample)) - 1)))
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
