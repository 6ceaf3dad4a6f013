"""A store that cannot be opened: one line naming the database and why, exit code 1.

Through the real command, for ``--once`` (which first takes the writer lock
beside the database) and ``status`` (which does not).  Root ignores a
read-only ``chmod``, so the read-only case is a real read-only tmpfs,
skipped where this process may not mount one.
"""

from __future__ import annotations

import io
import subprocess
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from aggregator.cli import main


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        code = main(argv)
    return code, err.getvalue()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "a.md").write_text("# A title\n\nSome text.\n", encoding="utf-8")
    path = tmp_path / "feeds.yaml"
    path.write_text(
        "sources:\n  - name: Local\n    path: articles\n    section: One\n", encoding="utf-8"
    )
    return path


@pytest.fixture
def read_only_mount(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "read-only"
    mount_point.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(mount_point)],
            capture_output=True,
        )
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.mark.parametrize("command", [["--once"], ["status"]], ids=["once", "status"])
def test_a_store_under_a_file(tmp_path: Path, config: Path, command: list[str]) -> None:
    (tmp_path / "plain-file").write_text("not a directory")
    database = tmp_path / "plain-file" / "state" / "aggregator.db"
    code, stderr = run([*command, "-c", str(config), "--db", str(database)])
    assert code == 1
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert str(database) in stderr
    assert f"{tmp_path / 'plain-file'} is not a directory" in stderr


@pytest.mark.parametrize("command", [["--once"], ["status"]], ids=["once", "status"])
def test_a_store_in_proc(config: Path, command: list[str]) -> None:
    database = Path("/proc/aggregator-test/aggregator.db")
    code, stderr = run([*command, "-c", str(config), "--db", str(database)])
    assert code == 1
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert str(database) in stderr


@pytest.mark.parametrize("command", [["--once"], ["status"]], ids=["once", "status"])
def test_a_store_on_a_read_only_mount(
    config: Path, read_only_mount: Path, command: list[str]
) -> None:
    database = read_only_mount / "aggregator.db"
    code, stderr = run([*command, "-c", str(config), "--db", str(database)])
    assert code == 1
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert str(database) in stderr
    assert "read-only file system" in stderr.lower()
