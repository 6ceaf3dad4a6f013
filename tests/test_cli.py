"""What the ``aggregate`` command prints is safe for a terminal."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

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


def _exit_of(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse's --help, --version and usage errors
            code = int(exit.code or 0)
    return code, out.getvalue(), err.getvalue()


def test_version() -> None:
    import aggregator

    assert _exit_of(["--version"]) == (0, f"aggregate {aggregator.__version__}\n", "")


def test_each_commands_help_lists_its_own_options() -> None:
    own = {
        "status": {"--config", "--db", "--log-level"},
        "duplicates": {"--config", "--db", "--log-level"},
        "worker": {"--config", "--db", "--concurrency", "--stop-grace", "--log-level"},
        "db": {"--config", "--db", "--log-level"},
        "filters": {"--config", "--db", "--source", "--log-level"},
        "import": {"--config", "--section"},
        "add": {"--config", "--section", "--name"},
        "remove": {"--config"},
        "summarize": {"--sentences", "--algorithm", "--jsonl", "--allow-private"},
    }
    every = {"--once", "--out", "--host", "--port", "--stop-grace", "--concurrency", "--db"}
    every |= {"--config", "--log-level", "--section", "--name", "--sentences", "--jsonl"}
    every |= {"--source"}
    for command, options in own.items():
        code, out, _ = _exit_of([command, "--help"])
        assert code == 0 and out.startswith(f"usage: aggregate {command} "), out
        listed = {word.rstrip(",") for word in out.split() if word.startswith("--")}
        assert options <= listed, command
        assert not (every - options - {"--help"}) & listed, command


def test_a_command_refuses_an_option_it_does_not_take(tmp_path: Path) -> None:
    code, _, err = _exit_of(["status", "--port", "3", "-c", str(tmp_path / "feeds.yaml")])
    assert code == 2
    assert err == "aggregate status: error: unrecognized arguments: --port 3\n"


def test_the_command_runs_its_pass_with_the_collector_on_and_start_up_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import gc
    import sys

    import aggregator.pipeline
    from aggregator.cli import command
    from aggregator.results import PassReport

    (tmp_path / "good").mkdir()
    (tmp_path / "good" / "a.md").write_text("# A title\n\nSome text.\n", encoding="utf-8")
    config = tmp_path / "feeds.yaml"
    config.write_text("sources:\n  - name: Good\n    path: good\n    section: One\n")
    seen: list[tuple[bool, int]] = []

    def run_once(*args: object, **kwargs: object) -> PassReport:
        seen.append((gc.isenabled(), gc.get_freeze_count()))
        return PassReport()

    monkeypatch.setattr(aggregator.pipeline, "run_once", run_once)
    monkeypatch.setattr(sys, "argv", ["aggregate", "--once", "-c", str(config)])
    frozen_before = gc.get_freeze_count()
    try:
        with redirect_stdout(io.StringIO()):
            assert command() == 0
    finally:
        gc.unfreeze()
        gc.enable()
    ((collector_on, frozen),) = seen
    assert collector_on and frozen > frozen_before + 10_000


def test_reading_commands_leave_a_missing_database_unmade(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "sources:\n  - {name: one, url: 'https://one.example/feed', section: S}\n",
        encoding="utf-8",
    )
    typo = tmp_path / "agregator.db"  # a mistyped --db
    for command in ("status", "duplicates"):
        code, _out, err = _exit_of([command, "-c", str(config), "--db", str(typo)])
        assert code == 0, err
        assert err == f"aggregate: no database at {typo} yet: nothing polled\n"
    assert not typo.exists() and not list(tmp_path.glob("agregator.db*"))
    code, status, _err = _exit_of(["status", "-c", str(config), "--db", str(typo)])
    assert re.search(r"^one +new +never +never +now ", status, re.MULTILINE), status
