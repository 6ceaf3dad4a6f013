"""Retrieve local sources: one file, a directory, or a glob of article or feed files.

Like the HTTP fetcher this only reads bytes.  The caching state is a hash over
every file's name and bytes, so an unchanged set of files is not parsed again.

A source reads only inside its own root: the directory it names, the
directory of the file it names, or the part of a glob before the first
wildcard.  Every file is resolved (symbolic links followed, ``..`` removed)
and checked against that root, so a link dropped into an article directory
cannot publish ``/etc/passwd``.  Only regular files are read (a FIFO would
block, ``/dev/zero`` never ends), and never more than the size cap, whatever
``stat`` said.
"""

from __future__ import annotations

import glob
import hashlib
import os
import stat
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from ..errors import FetchError, ResponseTooLarge
from ..models import Document, Fetched, FetchState

ARTICLE_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".html", ".htm"})
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf", ".json", ".feed"})
_WILDCARDS = "*?["
_READ_CHUNK = 1 << 20


def _has_glob(text: str) -> bool:
    return any(char in text for char in _WILDCARDS)


def source_root(pattern: str) -> Path:
    """The directory a source may read in (resolved)."""
    path = Path(pattern)
    if _has_glob(pattern):
        fixed: list[str] = []
        for part in path.parts:
            if _has_glob(part):
                break
            fixed.append(part)
        root = Path(*fixed) if fixed else Path(".")
    elif path.is_dir():
        root = path
    else:
        root = path.parent
    return root.resolve()


def list_files(pattern: str) -> list[Path]:
    """The files a path names: itself, a directory's readable files, or a glob's matches.

    A directory or a glob yields only regular files; a path naming one file
    yields it whatever it is, for :func:`read_local` to refuse with a reason.
    """
    path = Path(pattern)
    if _has_glob(pattern):
        candidates = [Path(p) for p in glob.glob(pattern, recursive=True)]
    elif path.is_dir():
        candidates = [
            p for p in path.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES | FEED_SUFFIXES
        ]
    else:
        return [path]
    # Sorted so the documents, and the hash over them, do not depend on
    # directory order.
    return sorted(p for p in candidates if p.is_file())


def read_local(source: str, pattern: str, state: FetchState, *, max_bytes: int) -> Fetched:
    root = source_root(pattern)
    files = list_files(pattern)
    if not files:
        raise FetchError(source, f"no files match {pattern}")
    digest = hashlib.sha256()
    documents = []
    for file in files:
        body, modified = _read_confined(source, file, root, max_bytes)
        digest.update(str(file).encode() + b"\0" + body + b"\0")
        # Only the mtime and name go to the parser besides the bytes: the
        # published date of an article without front matter is its mtime.
        digest.update(modified.isoformat().encode())
        documents.append(Document(location=str(file), body=body, modified=modified))
    new_state = FetchState(content_hash=digest.hexdigest())
    if state.content_hash == new_state.content_hash:
        return Fetched(source, (), new_state, not_modified=True)
    return Fetched(source, tuple(documents), new_state)


def _read_confined(source: str, file: Path, root: Path, max_bytes: int) -> tuple[bytes, datetime]:
    """The bytes and mtime of ``file``, if it is a regular file inside ``root``."""
    try:
        real = file.resolve(strict=True)
    except (OSError, RuntimeError) as exc:  # RuntimeError: a symbolic-link loop
        raise FetchError(source, f"cannot read {file}: {_reason(exc)}") from None
    if not real.is_relative_to(root):
        shown = f"{file} (a link to {real})" if real != file else str(file)
        raise FetchError(source, f"refused: {shown} is outside the source's directory {root}")
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; O_NOFOLLOW:
        # the path was resolved, so a link here was swapped in since.
        descriptor = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError as exc:
        raise FetchError(source, f"cannot read {file}: {_reason(exc)}") from None
    with os.fdopen(descriptor, "rb") as stream:
        try:
            info = os.fstat(stream.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise FetchError(source, f"refused: {file} is not a regular file")
            if info.st_size > max_bytes:
                raise ResponseTooLarge(
                    source, f"{file} is {info.st_size} bytes, over the {max_bytes} byte cap"
                )
            body = _read_at_most(stream, max_bytes + 1)
        except OSError as exc:
            raise FetchError(source, f"cannot read {file}: {_reason(exc)}") from None
    if len(body) > max_bytes:
        raise ResponseTooLarge(source, f"{file} is over the {max_bytes} byte cap")
    return body, datetime.fromtimestamp(info.st_mtime, tz=UTC)


def _read_at_most(stream: BinaryIO, limit: int) -> bytes:
    chunks = []
    size = 0
    while size < limit:
        chunk = stream.read(min(_READ_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)
