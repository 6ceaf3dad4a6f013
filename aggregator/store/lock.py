"""One writer per database: the daemon and ``--once`` take an exclusive lock.

SQLite itself would let two writers take turns, but two schedulers polling the
same sources would fetch everything twice and publish over each other, so a
second writer refuses to start with a message naming the first one.  Readers
(``aggregate status``) take no lock: WAL lets them read while the writer works.

The lock is ``flock`` on ``<database>.lock``; the kernel releases it when the
process dies, however it dies, so a crash never leaves a stale lock behind.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from ..errors import StoreError
from .sqlite import why_unusable


class WriterLock:
    def __init__(self, database: Path, role: str):
        self.path = database.with_name(database.name + ".lock")
        self.role = role
        self._fd: int | None = None

    def __enter__(self) -> WriterLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            # The lock is the first thing made beside the database: name the
            # database, not a bare "Read-only file system".
            database = self.path.with_suffix("")
            raise StoreError(
                f"cannot use the database {database}: {why_unusable(database, exc)}"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            database = self.path.with_suffix("")
            raise StoreError(
                f"{holder} is already using {database}; stop it first, or give this run "
                "its own --db"
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, f"aggregate {self.role} (pid {os.getpid()})".encode())
        self._fd = fd
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._fd is not None:
            os.ftruncate(self._fd, 0)
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None
