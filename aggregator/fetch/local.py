"""Retrieve local sources: one file, a directory, or a glob of article or feed files.

Like the HTTP fetcher this only reads bytes.  The caching state is a hash over
every file's name and bytes, so an unchanged set of files is not parsed again.
"""

from __future__ import annotations

import glob
import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

from ..errors import FetchError, ResponseTooLarge
from ..models import Document, Fetched, FetchState

ARTICLE_SUFFIXES = frozenset({".txt", ".text", ".md", ".markdown", ".html", ".htm"})
FEED_SUFFIXES = frozenset({".xml", ".rss", ".atom", ".rdf", ".json", ".feed"})


def list_files(pattern: str) -> list[Path]:
    """The files a path names: itself, a directory's readable files, or a glob's matches."""
    path = Path(pattern)
    if path.is_dir():
        candidates = [
            p for p in path.iterdir() if p.suffix.lower() in ARTICLE_SUFFIXES | FEED_SUFFIXES
        ]
    elif any(char in pattern for char in "*?["):
        candidates = [Path(p) for p in glob.glob(pattern, recursive=True)]
    else:
        candidates = [path]
    # Sorted so the documents, and the hash over them, do not depend on
    # directory order.
    return sorted(p for p in candidates if p.is_file() or not p.exists())


def read_local(source: str, pattern: str, state: FetchState, *, max_bytes: int) -> Fetched:
    files = list_files(pattern)
    if not files:
        raise FetchError(source, f"no files match {pattern}")
    digest = hashlib.sha256()
    documents = []
    for file in files:
        try:
            size = file.stat().st_size
            if size > max_bytes:
                raise ResponseTooLarge(
                    source, f"{file} is {size} bytes, over the {max_bytes} byte cap"
                )
            body = file.read_bytes()
            modified = datetime.fromtimestamp(os.stat(file).st_mtime, tz=UTC)
        except OSError as exc:
            raise FetchError(source, f"cannot read {file}: {exc.strerror or exc}") from None
        digest.update(str(file).encode() + b"\0" + body + b"\0")
        # Only the mtime and name go to the parser besides the bytes: the
        # published date of an article without front matter is its mtime.
        digest.update(modified.isoformat().encode())
        documents.append(Document(location=str(file), body=body, modified=modified))
    new_state = FetchState(content_hash=digest.hexdigest())
    if state.content_hash == new_state.content_hash:
        return Fetched(source, (), new_state, not_modified=True)
    return Fetched(source, tuple(documents), new_state)
