"""Which band keys the near-duplicate index may hold, in memory: a Bloom
filter of three bits per key.

Most of the bands a cold pass looks up are under no stored copy (a new
story's), and once the index outgrows SQLite's page cache, finding that out
reads a page of the index from the operating system for each: 41 s of a
10,000-feed cold pass of 300 s.  The filter answers "not there"
for nearly all of them without a read, and "may be there" for every key it
was given, so a look-up that trusts it finds the same copies.

Keys are the index's (``near.Features.band_keys``, SQLite integers, so
64-bit): each of the three bits is chosen by the top bits of the key times
an odd constant (multiplicative hashing), scaled to the filter's size, so
that keys alike in their low bits (one hash in two families) still differ
there, and the size need not be a power of two.  In numpy, a batch of keys
at a time: adding or asking for a key costs under 200 ns, against 500 to
650 ns in a loop in Python, whose adding was 12 s of that pass.  A key removed from the index
stays in the filter: it only costs a look-up that finds nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

# Bits per key at most before it is full: three bits of six set per key
# leave one key in sixteen answered "may be there" wrongly,
# (1 - e^(-3/6))^3; two bits of eight, as before, one in twenty, for a third
# more memory.  The least a filter takes: room for 2**20 keys, 768 KiB, so
# that as it grows (to twice its room each time) its room stays a power of
# two: 6 MB for the 6 million keys of 10,000 feeds, where a filter of one
# MiB at least grew to 8 MB.
BITS_PER_KEY = 6
MIN_BYTES = (1 << 20) * BITS_PER_KEY // 8
_MULTIPLIERS = tuple(
    np.uint64(m) for m in (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9)
)
# Keys added at a time: their arrays take some hundreds of kilobytes.
_CHUNK = 1 << 16
_32 = np.uint64(32)
_3 = np.uint64(3)
_7 = np.uint64(7)


class BandFilter:
    """Three bits set per key added: a key whose three bits are not all set was never added."""

    def __init__(self, keys: int = 0):
        """A filter with room for ``keys`` keys at least."""
        size = max(MIN_BYTES, -(-keys * BITS_PER_KEY // 8))
        self._bits = np.zeros(size, dtype=np.uint8)
        # Positions are (hash >> 32) * bits >> 32: under 2**32 bits, in uint64.
        self._bit_count = np.uint64(min(size * 8, (1 << 32) - 1))
        self.room = size * 8 // BITS_PER_KEY
        self.keys = 0

    @property
    def full(self) -> bool:
        """Holding more keys than it has room for: it answers wrongly more often."""
        return self.keys > self.room

    def add(self, bands: Iterable[int]) -> None:
        # A chunk at a time: reading an index of millions of keys again
        # would otherwise make arrays of them all, a few at once (110 MB
        # more at the peak of a 10,000-feed pass).
        bands = iter(bands)
        while len(keys := _as_array(itertools.islice(bands, _CHUNK))):
            for position in self._positions(keys):
                np.bitwise_or.at(
                    self._bits, position >> _3, np.left_shift(1, position & _7, dtype=np.uint8)
                )
            self.keys += len(keys)

    def holding(self, bands: Iterable[int]) -> set[int]:
        """Those of ``bands`` that may have been added: every one that was."""
        keys = _as_array(bands)
        held = np.ones(len(keys), dtype=bool)
        for position in self._positions(keys):
            held &= (self._bits[position >> _3] >> (position & _7) & 1).astype(bool)
        return set(keys[held].view(np.int64).tolist())

    def _positions(self, keys: np.ndarray) -> Iterable[np.ndarray]:
        for multiplier in _MULTIPLIERS:
            # uint64 arithmetic wraps: the product modulo 2**64.
            yield ((keys * multiplier) >> _32) * self._bit_count >> _32


def _as_array(bands: Iterable[int]) -> np.ndarray:
    """The keys as uint64 (SQLite's signed integers, the same bits)."""
    return np.fromiter(bands, dtype=np.int64).view(np.uint64)
