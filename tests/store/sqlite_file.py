"""What only a look at the SQLite file itself can tell, for the tests that kill or probe it.

Every other test reads the store through its protocol (``open_store``); these
two questions are about the file: is it intact, and what bytes does it hold.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def integrity(path: Path) -> str:
    """SQLite's own check of the file: "ok" when it is intact."""
    # closing(): a connection's own "with" ends a transaction, not the
    # connection, which Python 3.13 reports when the collector finds it open.
    with closing(sqlite3.connect(path)) as connection:
        return str(connection.execute("PRAGMA integrity_check").fetchone()[0])


def dump(path: Path) -> str:
    """Everything the file holds, as SQL text."""
    with closing(sqlite3.connect(path)) as connection:
        return "\n".join(connection.iterdump())
