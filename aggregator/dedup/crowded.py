"""Weak index keys already found crowded in a pass, so as not to look them up again.

A lead band or an anchor under BAND_HITS_LIMIT copies or more in a copy's
window is no evidence at all (:func:`.near.select_candidates`): a template's
key, shared by every copy of a briefing or a house style.  Finding that out
reads BAND_HITS_LIMIT rows of the index, and in the benchmark's cold pass of
10,000 feeds two thirds of all the rows the look-ups read were such keys'
(20 million of 33 million): the more copies a pass stores, the more of its
keys are templates, and the more each costs.

Once the index answered BAND_HITS_LIMIT copies for a key, dated from ``first``
to ``last``, any window that holds both dates holds those copies, so the
index would answer the same again: the key is crowded there too, and need
not be read.  That holds while none of those copies is deleted, which within
a pass only this pass does: by rewriting a changed copy (:meth:`forget` its
keys first) or by undoing a batch that failed (:meth:`clear`).  So one
instance serves one pass, and the answers it saves are the ones the index
would give.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from ..store.index import BAND_HITS_LIMIT, BandHits
from . import near

# Spans kept per key, the latest: windows of copies dated days apart cover
# different ones.  Of the benchmark's cold passes' look-ups of keys crowded
# once before, four answered 88 % at 1,000 feeds and 97 % at 10,000; one,
# 74 % and 90 %.
SPANS_PER_KEY = 4
# Keys kept at most, the earliest learned dropped first: a 10,000-feed cold
# pass found some 1,700.
MAX_KEYS = 1 << 16


class CrowdedKeys:
    """The weak keys found under BAND_HITS_LIMIT copies, each with the spans
    of dates (whole seconds, as the index compares them) of those copies."""

    def __init__(self) -> None:
        self._spans: dict[int, list[tuple[int, int]]] = {}

    def __len__(self) -> int:
        return len(self._spans)

    def crowded(self, keys: Iterable[int], low: int, high: int) -> frozenset[int]:
        """Those of ``keys`` the index holds BAND_HITS_LIMIT copies under
        between ``low`` and ``high`` (both included), as far as known."""
        spans = self._spans
        return frozenset(
            key
            for key in keys
            if (found := spans.get(key)) is not None
            and any(low <= first and last <= high for first, last in found)
        )

    def learn(self, hits: Sequence[BandHits]) -> None:
        """Remember the weak keys of an index's answer that were crowded."""
        for hit in hits:
            if len(hit.copy_ids) >= BAND_HITS_LIMIT and near.is_weak(hit.band):
                span = (min(hit.seconds), max(hit.seconds))
                found = self._spans.get(hit.band)
                if found is None:
                    if len(self._spans) >= MAX_KEYS:
                        del self._spans[next(iter(self._spans))]
                    self._spans[hit.band] = [span]
                elif span not in found:
                    found.append(span)
                    del found[:-SPANS_PER_KEY]

    def forget(self, keys: Iterable[int]) -> None:
        """Keys a copy about to be deleted or rewritten is indexed under."""
        for key in keys:
            self._spans.pop(key, None)

    def clear(self) -> None:
        """Forget everything: what was learned may count copies since undone."""
        self._spans.clear()
