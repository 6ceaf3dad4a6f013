"""A full disk or an unwritable output: one clear error, and the previous files kept.

Three ways to fail a write, since root ignores a read-only ``chmod``: the
output path is a file, ``os.replace`` or ``fsync`` fails (monkeypatched, as a
full disk makes them fail), and a real full file system (a tiny tmpfs,
skipped where this process may not mount one).
"""

from __future__ import annotations

import errno
import io
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from aggregator.cli import main
from aggregator.publish import writer
from tests.conftest import REPO

SEED = REPO / "seeds" / "western-troops-ukraine.txt"


def setup(tmp_path: Path, out: Path) -> Path:
    articles = tmp_path / "articles"
    articles.mkdir(exist_ok=True)
    shutil.copy(SEED, articles / SEED.name)
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"store: {tmp_path / 'db' / 'aggregator.db'}\n"
        f"output:\n  dir: {out}\n"
        "sources:\n  - name: Seed\n    path: articles\n    section: News\n",
        encoding="utf-8",
    )
    return config


def add_article(tmp_path: Path, index: int, paragraphs: int = 3) -> None:
    text = "\n\n".join(
        f"Paragraph {p} of article {index} reports that the council met again today."
        for p in range(paragraphs)
    )
    (tmp_path / "articles" / f"extra-{index}.md").write_text(
        f"# Extra article {index}\n\n{text}\n", encoding="utf-8"
    )


def run(config: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["--once", "-c", str(config)])
    return code, out.getvalue(), err.getvalue()


def snapshot(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def test_output_path_is_a_file(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("not a directory")
    code, _stdout, stderr = run(setup(tmp_path, out))
    assert code == 1
    assert stderr.count("\n") == 1 and stderr.startswith("aggregate: ")
    assert str(out) in stderr and "cannot create directory" in stderr
    assert out.read_text() == "not a directory"


@pytest.mark.parametrize("failing", ["replace", "fsync"])
def test_failed_write_keeps_the_previous_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    out = tmp_path / "out"
    config = setup(tmp_path, out)
    assert run(config)[0] == 0
    before = snapshot(out)
    add_article(tmp_path, 1)

    def full(*args: object, **kwargs: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(writer.os, failing, full)
    code, _stdout, stderr = run(config)
    assert code == 1
    assert stderr.count("\n") == 1 and "No space left on device" in stderr
    assert stderr.startswith("aggregate: ") and str(out) in stderr
    assert snapshot(out) == before  # the old files, and no temporary file left behind

    monkeypatch.undo()
    assert run(config)[0] == 0  # space again: the next run publishes
    assert "Extra article 1" in (out / "feed.json").read_text(encoding="utf-8")


@pytest.fixture
def tiny_filesystem(tmp_path: Path) -> Iterator[Path]:
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    try:
        mounted = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
            capture_output=True,
        )
    except OSError:
        pytest.skip("no mount command here")
    if mounted.returncode != 0:
        pytest.skip("cannot mount a tmpfs here (not root, or no CAP_SYS_ADMIN)")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def test_full_file_system_keeps_the_previous_files(tmp_path: Path, tiny_filesystem: Path) -> None:
    out = tiny_filesystem / "out"
    config = setup(tmp_path, out)
    assert run(config)[0] == 0
    before = snapshot(out)
    # Fill what is left, then ask for more: many new articles, bigger files.
    filler = tiny_filesystem / "filler"
    with filler.open("wb", buffering=0) as stream:
        try:
            while True:
                stream.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    for index in range(20):
        add_article(tmp_path, index, paragraphs=6)
    code, _stdout, stderr = run(config)
    assert code == 1
    assert stderr.count("\n") == 1 and "No space left on device" in stderr
    assert snapshot(out) == before
    filler.unlink()
    assert run(config)[0] == 0
    assert "Extra article 19" in (out / "feed.json").read_text(encoding="utf-8")


def damage(database: Path, how: str) -> None:
    """Damage the SQLite file as a failing disk or a stray write does."""
    import sqlite3

    if how == "not-a-database":
        database.write_bytes(b"this was overwritten by something else\n" * 200)
        return
    with sqlite3.connect(database) as db:
        (page_size,) = db.execute("PRAGMA page_size").fetchone()
        (root,) = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'sources'").fetchone()
    db.close()
    data = bytearray(database.read_bytes())
    pages = [root] if how == "one-table" else range(2, len(data) // page_size + 1)
    for page in pages:  # numbered from 1; the first holds the header and schema
        data[(page - 1) * page_size : page * page_size] = b"\xab" * page_size
    database.write_bytes(bytes(data))


@pytest.mark.parametrize("how", ["one-table", "all-but-the-schema", "not-a-database"])
def test_a_damaged_database_is_one_line_saying_what_to_do(tmp_path: Path, how: str) -> None:
    """Reads outside a transaction (the sources' states, first thing in a
    pass and in status) raised SQLite's error with a traceback."""
    config = setup(tmp_path, tmp_path / "out")
    assert run(config)[0] == 0
    database = tmp_path / "db" / "aggregator.db"
    damage(database, how)
    published = snapshot(tmp_path / "out")

    for command in (["--once"], ["status"]):
        stderr = io.StringIO()
        with redirect_stdout(io.StringIO()), redirect_stderr(stderr):
            code = main([*command, "-c", str(config)])
        text = stderr.getvalue()
        assert code == 1 and text.count("\n") == 1 and "Traceback" not in text, (command, text)
        assert str(database) in text and "the file is damaged: restore it from a backup" in text
    assert snapshot(tmp_path / "out") == published  # what readers have is left as it was
