"""What the ``aggregate`` command prints is safe for a terminal."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

from aggregator.cli import main

CONTROLS = "\x1b\x07\x9b\u202e"


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(argv)
    return code, out.getvalue()


def test_control_characters_in_errors_never_reach_the_terminal(tmp_path: Path) -> None:
    # A file name is the one part of an error line that anyone who can drop a
    # file into the articles directory controls.
    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "a.md").write_text("# A title\n\nSome text.\n", encoding="utf-8")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "bad\x1b]0;owned\x07\x1b[2J\u202e.txt").write_text("", encoding="utf-8")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "sources:\n  - name: Good\n    path: good\n    section: One\n"
        "  - name: Bad\n    path: bad\n    section: One\n",
        encoding="utf-8",
    )
    code, once = run(["--once", "-c", str(config)])
    assert code == 0 and "bad]0;owned[2J.txt" in once, once
    code, status = run(["status", "-c", str(config)])
    assert code == 0 and "bad]0;owned[2J.txt" in status, status
    for text in (once, status):
        assert not any(char in text for char in CONTROLS), repr(text)
