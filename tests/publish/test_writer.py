from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.errors import PublishError
from aggregator.publish import write_if_changed


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_writes_new_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.atom"
    assert write_if_changed(path, b"one") is True
    assert path.read_bytes() == b"one"
    assert _leftovers(tmp_path) == []


def test_equal_bytes_leave_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "feed.atom"
    path.write_bytes(b"same")
    os.utime(path, ns=(1_000_000_000, 1_000_000_000))
    inode = path.stat().st_ino
    assert write_if_changed(path, b"same") is False
    assert path.stat().st_mtime_ns == 1_000_000_000
    assert path.stat().st_ino == inode


def test_changed_bytes_replace_file(tmp_path: Path) -> None:
    path = tmp_path / "feed.atom"
    path.write_bytes(b"old")
    assert write_if_changed(path, b"new") is True
    assert path.read_bytes() == b"new"
    assert _leftovers(tmp_path) == []


def test_new_file_is_readable_by_others_under_usual_umask(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        write_if_changed(tmp_path / "index.html", b"x")
    finally:
        os.umask(previous)
    assert stat.S_IMODE((tmp_path / "index.html").stat().st_mode) == 0o644


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    directory = tmp_path / "out"
    directory.mkdir()
    (directory / "feed.atom").write_bytes(b"old")
    directory.chmod(0o555)
    try:
        if os.access(directory, os.W_OK):
            pytest.skip("this user can write to a read-only directory (root?)")
        yield directory
    finally:
        directory.chmod(0o755)


def test_read_only_directory_raises_and_keeps_old_file(read_only_dir: Path) -> None:
    path = read_only_dir / "feed.atom"
    with pytest.raises(PublishError, match=r"feed\.atom"):
        write_if_changed(path, b"new")
    assert path.read_bytes() == b"old"
    assert _leftovers(read_only_dir) == []


def test_failed_rename_keeps_old_file_and_removes_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Works as root too, unlike the read-only directory.
    path = tmp_path / "feed.atom"
    path.write_bytes(b"old")

    def refuse(source: object, target: object) -> None:
        raise PermissionError("simulated")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(PublishError, match=r"feed\.atom.*simulated") as caught:
        write_if_changed(path, b"new")
    assert isinstance(caught.value.__cause__, PermissionError)
    assert path.read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_missing_directory_raises(tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="nowhere"):
        write_if_changed(tmp_path / "nowhere" / "feed.atom", b"x")


def test_directory_in_the_way_raises_and_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "feed.atom").mkdir()
    with pytest.raises(PublishError):
        write_if_changed(tmp_path / "feed.atom", b"x")
    assert _leftovers(tmp_path) == []


def test_publish_sweeps_temporaries_left_by_a_killed_writer(tmp_path: Path) -> None:
    from aggregator.publish import publish
    from tests.publish.sample import ENTRIES, META

    (tmp_path / "sections").mkdir()
    orphans = [tmp_path / ".feed.atom.0a1b2c.tmp", tmp_path / "sections" / ".x.atom.ffff.tmp"]
    for orphan in orphans:
        orphan.write_bytes(b"half a file")
    keep = tmp_path / "notes.tmp"  # not one of ours: no leading dot
    keep.write_bytes(b"mine")
    publish(ENTRIES, META, tmp_path)
    assert not any(orphan.exists() for orphan in orphans)
    assert keep.exists()
