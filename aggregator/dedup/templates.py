"""The template keys a pass has met, so that its look-ups need not read them again.

A weak key (a lead band or an anchor) that the index answers with as many
copies as it gives at most (:data:`~aggregator.store.index.BAND_HITS_LIMIT`)
is a template's, and no evidence (:func:`.near.select_candidates`).  In a
cold pass most of the index rows a look-up reads are such keys': a daily
briefing's opening, a series' boilerplate, met by every new copy of them.

Those copies' dates span some interval.  Any later window of dates that holds
it holds them all, so the index would answer that key with as many copies
again: still a template, for as long as none of them leaves the index.  So a
look-up leaves the key out, and the decisions leave it out too, which is what
they would have made of it (a template's key selects no one, with or
without the batch's own copies under it).

Copies leave the index only when they are rewritten (a changed copy), when
their items expire, or when a failure undoes what was stored: whoever
stores clears this then (:meth:`TemplateKeys.forget`).  Copies added by other
processes only add to a key's count.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..store.index import BAND_HITS_LIMIT, BandHits

# Both ends of a span in one int (seconds since 1970, well under 2**40):
# half the memory of a tuple, for the hundreds of thousands a large cold
# pass meets.
_SHIFT = 40
_LOW_BITS = (1 << _SHIFT) - 1


class TemplateKeys:
    """Weak keys known to be templates, each with the span of dates (whole
    seconds since 1970) of copies it is known to have as many as the index
    gives.  Kept for one pass of one process: see the module's doc.

    Imports nothing of the near-duplicate features (numpy): a pass in which
    nothing changed makes one and uses none of them."""

    def __init__(self) -> None:
        self._spans: dict[int, int] = {}

    def __len__(self) -> int:
        return len(self._spans)

    def known(self, band: int, low: int, high: int) -> bool:
        """Whether the index would answer ``band`` between ``low`` and
        ``high`` (inclusive) with as many copies as it gives: a template's."""
        span = self._spans.get(band)
        return span is not None and low <= span >> _SHIFT and span & _LOW_BITS <= high

    def learn(self, weak: Iterable[BandHits]) -> None:
        """Keep those of ``weak`` (a look-up's answers for weak keys) that are
        a template's, with their copies' span; of two spans, the shorter,
        which more windows hold."""
        spans = self._spans
        for hit in weak:
            if len(hit.copy_ids) < BAND_HITS_LIMIT:
                continue
            first, last = min(hit.seconds), max(hit.seconds)
            if first < 0 or last > _LOW_BITS:
                continue
            known = spans.get(hit.band)
            if known is None or last - first < (known & _LOW_BITS) - (known >> _SHIFT):
                spans[hit.band] = first << _SHIFT | last

    def forget(self) -> None:
        """Copies may have left the index: what was learned may no longer hold."""
        self._spans.clear()
