"""release_memory hands a fragmented heap's free pages back, where glibc is the C library."""

from __future__ import annotations

import subprocess
import sys

import pytest

from aggregator.memory import _malloc_trim

# In a process of its own: the test process's heap is whatever earlier tests
# left.  Blocks of 4 KB come from the C heap (above pymalloc's 512 bytes,
# below glibc's threshold for a mapping of their own); the last one is kept,
# so the freed ones lie below a block in use and the heap cannot shrink from
# its end by itself.
_FRAGMENT_THEN_RELEASE = """
import gc
from aggregator.memory import release_memory

def rss_kb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))

blocks = [bytes(4000) + bytes([i % 256]) for i in range(20_000)]
kept = blocks[-1]
del blocks
gc.collect()
freed = rss_kb()
release_memory()
print(freed, rss_kb())
"""


@pytest.mark.skipif(
    _malloc_trim() is None or sys.platform != "linux",
    reason="malloc_trim is glibc's; nothing to release elsewhere",
)
def test_free_pages_inside_the_heap_are_handed_back() -> None:
    result = subprocess.run(
        [sys.executable, "-c", _FRAGMENT_THEN_RELEASE],
        capture_output=True,
        text=True,
        check=True,
    )
    before, after = map(int, result.stdout.split())
    # 80 MB were freed; most of it goes back.
    assert before - after > 60_000, (before, after)


def test_releasing_is_harmless_called_again_and_again() -> None:
    from aggregator.memory import release_memory

    for _ in range(3):
        release_memory()
