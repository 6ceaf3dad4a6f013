"""Which band keys the near-duplicate index may hold, in memory: a Bloom
filter of two bits per key.

Most of the bands a cold pass looks up are under no stored copy (a new
story's), and once the index outgrows SQLite's page cache, finding that out
reads a page of the index from the operating system for each: 41 s of a
10,000-feed cold pass of 300 s.  The filter answers "not there"
for nearly all of them without a read, and "may be there" for every key it
was given, so a look-up that trusts it finds the same copies.

Keys are the index's (``near.Features.band_keys``): their low 44 bits are
a hash already.  One bit is chosen by those, the other by the whole key
multiplied by the golden ratio (Fibonacci hashing), so that keys alike in
their low bits still differ there.  A key removed from the index stays in
the filter: it only costs a look-up that finds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable

# The least a filter takes (a mebibyte, some million keys), and bits per key
# at most before it is full: two bits of eight set per key leave one key in
# twenty answered "may be there" wrongly (1 - e^(-2/8))^2.
MIN_BYTES = 1 << 20
BITS_PER_KEY = 8
_GOLDEN = 0x9E3779B97F4A7C15
_WORD = (1 << 64) - 1


class BandFilter:
    """Two bits set per key added: a key whose two bits are not both set was never added."""

    def __init__(self, keys: int = 0):
        """A filter with room for ``keys`` keys at least."""
        size = max(MIN_BYTES, 1 << max(keys - 1, 0).bit_length())
        self._bits = bytearray(size)
        width = (size * 8).bit_length() - 1  # size * 8 == 1 << width
        self._mask = (1 << width) - 1
        self._shift = 64 - width
        self.room = size * 8 // BITS_PER_KEY
        self.keys = 0

    @property
    def full(self) -> bool:
        """Holding more keys than it has room for: it answers wrongly more often."""
        return self.keys > self.room

    def add(self, bands: Iterable[int]) -> None:
        bits, mask, shift = self._bits, self._mask, self._shift
        added = 0
        for band in bands:
            low = band & mask
            bits[low >> 3] |= 1 << (low & 7)
            mixed = ((band * _GOLDEN) & _WORD) >> shift
            bits[mixed >> 3] |= 1 << (mixed & 7)
            added += 1
        self.keys += added

    def holding(self, bands: Iterable[int]) -> set[int]:
        """Those of ``bands`` that may have been added: every one that was."""
        bits, mask, shift = self._bits, self._mask, self._shift
        return {
            band
            for band in bands
            if bits[(low := band & mask) >> 3] >> (low & 7) & 1
            and bits[(mixed := ((band * _GOLDEN) & _WORD) >> shift) >> 3] >> (mixed & 7) & 1
        }
