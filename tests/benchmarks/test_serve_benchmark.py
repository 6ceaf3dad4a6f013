"""benchmarks/serve.py at a tiny size, so the script does not rot unnoticed.

Not a timing: one generated feed, twenty entries published, and (when wrk is
installed) one second of each load.  It checks what the script checks beyond
speed: nothing rewritten when nothing changed, only a removed file written.
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
