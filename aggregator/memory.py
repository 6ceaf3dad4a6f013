"""Handing memory the process no longer uses back to the system.

Python frees its objects, but the C library keeps the pages for reuse, and a
heap left fragmented (by a crowd of connections, by a pass's batches of
parsed feeds and look-ups) does not shrink by itself: its free pages count in
the process's memory as much as its used ones.
"""

from __future__ import annotations

import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    # Imported here: a pass in which nothing changed releases nothing, and
    # start-up is most of such a pass.
    import ctypes

    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError, TypeError):  # TypeError: Windows has no CDLL(None)
        return None  # not glibc: nothing to call
    return trim


def release_memory() -> None:
    """Hand freed heap pages back to the system, where the C library is glibc.

    ``malloc_trim`` returns every whole free page, within the heap as well as
    at its end; it takes about a millisecond for a heap of some tens of
    megabytes, so callers run it after a burst of work, not after each object.
    Elsewhere it does nothing.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
