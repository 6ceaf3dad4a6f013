"""Waiting for something another thread or process does: polled, with a deadline.

Tests inject time where they can; this is for what they cannot (a daemon
in a subprocess, a server thread, worker processes).  Returns whether the
condition came to hold, so the caller asserts with its own message.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(
    condition: Callable[[], object], timeout: float = 10.0, *, every: float = 0.02
) -> bool:
    """Poll ``condition`` every ``every`` seconds until it is true or
    ``timeout`` seconds have passed; it is asked once more at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(every)
