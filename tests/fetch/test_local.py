"""Local sources read only inside their own root, only regular files, never past the cap."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from aggregator.errors import FetchError, ResponseTooLarge
from aggregator.fetch.local import read_local, source_root
from aggregator.models import FetchState

CAP = 1_000_000


def read(pattern: Path | str, max_bytes: int = CAP) -> list[str]:
    fetched = read_local("local", str(pattern), FetchState(), max_bytes=max_bytes)
    return [Path(d.location).name for d in fetched.documents]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    articles = tmp_path / "articles"
    (articles / "sub").mkdir(parents=True)
    (articles / "one.txt").write_text("**One**\n\nText.\n")
    (articles / "sub" / "two.md").write_text("# Two\n\nText.\n")
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "passwords.txt").write_text("root:x:0:0\n")
    return tmp_path


def test_roots(tree: Path) -> None:
    articles = tree / "articles"
    assert source_root(str(articles)) == articles
    assert source_root(str(articles / "one.txt")) == articles
    assert source_root(str(articles / "**" / "*.md")) == articles
    assert source_root(str(articles / "s*" / "*.md")) == articles


def test_a_directory_and_a_glob_read_inside(tree: Path) -> None:
    assert read(tree / "articles") == ["one.txt"]
    assert read(tree / "articles" / "**" / "*.md") == ["two.md"]


def test_a_link_out_of_the_directory_is_refused(tree: Path) -> None:
    (tree / "articles" / "leak.txt").symlink_to(tree / "secret" / "passwords.txt")
    with pytest.raises(FetchError) as caught:
        read(tree / "articles")
    message = str(caught.value)
    assert message.startswith("local: refused: ")
    assert "leak.txt" in message and "outside the source's directory" in message


def test_a_link_to_etc_passwd_is_refused(tree: Path) -> None:
    (tree / "articles" / "passwd.txt").symlink_to("/etc/passwd")
    with pytest.raises(FetchError, match="outside the source's directory"):
        read(tree / "articles")


def test_a_linked_directory_out_of_a_glob_is_refused(tree: Path) -> None:
    (tree / "articles" / "elsewhere").symlink_to(tree / "secret", target_is_directory=True)
    with pytest.raises(FetchError, match=r"passwords\.txt .*outside"):
        read(tree / "articles" / "**" / "*.txt")


def test_dot_dot_in_a_glob_does_not_leave_the_root(tree: Path) -> None:
    with pytest.raises(FetchError, match="outside the source's directory"):
        read(f"{tree}/articles/*/../../secret/*.txt")


def test_a_link_inside_the_directory_is_read(tree: Path) -> None:
    (tree / "articles" / "again.md").symlink_to(tree / "articles" / "sub" / "two.md")
    assert read(tree / "articles") == ["again.md", "one.txt"]


def test_a_fifo_is_skipped_in_a_directory_and_refused_by_name(tree: Path) -> None:
    fifo = tree / "articles" / "blocks.txt"
    os.mkfifo(fifo)
    started = time.monotonic()
    assert read(tree / "articles") == ["one.txt"]
    with pytest.raises(FetchError, match="not a regular file"):
        read(fifo)
    assert time.monotonic() - started < 5  # never waited for a writer


def test_a_device_is_refused() -> None:
    with pytest.raises(FetchError, match="not a regular file"):
        read("/dev/zero")


def test_size_cap(tree: Path) -> None:
    (tree / "articles" / "big.txt").write_bytes(b"x" * 2000)
    with pytest.raises(ResponseTooLarge, match="over the 1000 byte cap"):
        read(tree / "articles", max_bytes=1000)


def test_a_link_loop_is_an_error_not_a_hang(tree: Path) -> None:
    (tree / "articles" / "loop.txt").symlink_to(tree / "articles" / "loop.txt")
    assert read(tree / "articles") == ["one.txt"]  # not a file: skipped in a directory
    with pytest.raises(FetchError, match="cannot read"):
        read(tree / "articles" / "loop.txt")
