"""benchmarks/edit.py at a tiny size, so the script does not rot unnoticed.

Not a timing: 50 sources, an OPML file of 5 feeds, one round.  It checks what
the script checks beyond speed: add then remove gives the file back byte for
byte, and the import leaves every source readable.
"""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import REPO


def test_the_edit_benchmark_runs_and_gives_the_file_back() -> None:
    run = subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "edit.py"),
            "--sources",
            "50",
            "--feeds",
            "5",
            "--rounds",
            "1",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    lines = run.stdout.splitlines()
    assert run.returncode == 0, run.stdout + run.stderr
    assert lines[0].startswith("feeds.yaml of 50 sources ")
    assert [line.split()[0] for line in lines[3:6]] == ["add", "remove", "import"]
    assert lines[-1] == "add then remove gave the file back byte for byte: yes"
