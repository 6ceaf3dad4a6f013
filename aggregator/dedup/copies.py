"""A source's entry as the dedup stage takes it: the entry, its keys, its text's facts.

Made in the worker processes (:func:`.merge.prepare_copy`), read by the
decision (:mod:`.decide`) and the shell around it (:mod:`.merge`).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..models import ParsedItem, Record
from . import near


@dataclass(frozen=True, slots=True)
class CopyFacts(Record):
    """What look-ups and the near-duplicate decision need of a copy's text.

    Computing them (plain text, hashes, MinHash) is most of the cost of
    storing an entry, and needs no store, so a worker process makes them
    (:func:`copy_facts`) and the store's process only looks up and writes.

    The features travel as the bytes the index stores (``signature``), and
    are decoded only by a decision that compares them: as numpy arrays and
    token sets they were half of what a copy weighs in the store's process
    (some 5 of 10 KB), and the batches waiting to be stored hold thousands.
    """

    canonical_url: str | None
    fingerprint: str | None
    signature: bytes  # the features as the index stores them (near.encode)
    bands: tuple[int, ...]  # the index keys

    @property
    def features(self) -> near.Features:
        """The features, decoded from ``signature`` (a few microseconds)."""
        features = near.decode(self.signature)
        assert features is not None, "encoded by this version: it decodes"
        return features


@dataclass(frozen=True, slots=True)
class PreparedCopy(Record):
    """One parsed entry of a source, with its keys; ``facts`` None when the
    worker knew the source had stored this very content (they are made on
    demand if it turns out otherwise)."""

    item: ParsedItem
    entry_key: str
    content_hash: str
    facts: CopyFacts | None
