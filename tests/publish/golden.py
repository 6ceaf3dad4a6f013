"""Golden-file comparison: rendered bytes against ``tests/data/publish/<name>``.

Run with ``UPDATE_GOLDEN=1`` to rewrite the expected files from the current
output; then read the diff before committing it, that diff is the review.
"""

from __future__ import annotations

import os
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data" / "publish"


def assert_golden(name: str, actual: bytes) -> None:
    path = DATA / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
    expected = path.read_bytes()
    # Compare as text first so a failure shows a readable diff.
    assert actual.decode("utf-8") == expected.decode("utf-8"), f"{path} differs"
    assert actual == expected
