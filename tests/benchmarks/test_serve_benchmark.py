"""benchmarks/serve.py at a tiny size, so the script does not rot unnoticed.

Not a timing: one generated feed, twenty entries published, and (when wrk is
installed) one second of each load.  It checks what the script checks beyond
speed: nothing rewritten when nothing changed, only a removed file written.
Then ``--abuse`` with a few dozen connections held for a second.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

from tests.conftest import REPO


def test_the_serve_benchmark_runs_and_rewrites_nothing_unchanged() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "serve.py"),
            "--entries",
            "20",
            "--seconds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    assert any(line.startswith("publish 20 entries into ") for line in lines), lines
    assert "publish with nothing changed: 0 files rewritten (target 0)" in lines
    assert "publish after removing feed.atom: wrote ['feed.atom'] (target ['feed.atom'])" in lines
    serving = [line for line in lines if line.startswith("serve ")]
    if shutil.which("wrk") is None:
        assert any("serving skipped" in line for line in lines)
    else:
        assert len(serving) == 3 and all("no errors" in line for line in serving), serving


def test_the_abuse_benchmark_runs_at_a_tiny_size() -> None:
    # The daemon itself, twice (its own descriptor limit, then 200), with a
    # few dozen connections for a second: the load test's plumbing, not its figures.
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "serve.py"),
            "--abuse",
            "--idle",
            "40",
            "--slow",
            "10",
            "--hold",
            "1",
            "--feed-mb",
            "0.5",
            "--status-requests",
            "50",
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines[-1] == "all goals met", lines
    assert any(line.startswith("/healthz while held: asked, failed") for line in lines), lines
    too_many = next(line for line in lines if line.startswith("log: 'Too many open files'"))
    assert too_many.split()[-2:] == ["0", "0"], too_many
