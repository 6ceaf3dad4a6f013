"""Atomic, change-only file writes.

A reader of the output directory (a web server, a feed reader polling the
files) sees either the old file or the new one, never half of one, and an
unchanged file keeps its mtime, so HTTP Last-Modified and ETags stay valid.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

from aggregator.errors import PublishError


def write_if_changed(path: Path, data: bytes) -> bool:
    """Put ``data`` at ``path`` unless it already holds exactly those bytes.

    Returns True when the file was written, False when it was left alone.
    Writes a temporary file next to ``path``, fsyncs it and renames it over
    ``path``.  On failure raises :class:`PublishError` naming ``path``; the
    previous file is untouched and the temporary file removed.  It does not
    fsync the directory: a rename lost to a power cut is redone by the next
    publish, which finds the old bytes.
    """
    if _current_bytes(path) == data:
        return False
    # A name of our own rather than tempfile's: tempfile creates files 0600,
    # and the output must stay readable by the web server (the umask decides).
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise PublishError(f"{path}: cannot write: {error}") from error
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, path)
    except OSError as error:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise PublishError(f"{path}: cannot write: {error}") from error
    return True


def sweep_temporaries(directory: Path) -> int:
    """Remove temporary files that a killed writer left behind; how many.

    Only one writer works on an output directory at a time (the store's
    writer lock), so any temporary file found before publishing is an orphan.
    """
    removed = 0
    for orphan in directory.glob(".*.tmp"):
        with contextlib.suppress(OSError):
            orphan.unlink()
            removed += 1
    return removed


def _current_bytes(path: Path) -> bytes | None:
    """The file's bytes, or None when there is no readable file to compare with.

    An unreadable file is not an error here: the write that follows either
    replaces it or reports why it cannot.
    """
    try:
        return path.read_bytes()
    except OSError:
        return None
