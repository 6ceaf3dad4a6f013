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
    """

    canonical_url: str | None
    fingerprint: str | None
    features: near.Features
    signature: bytes  # the features as the index stores them
    bands: tuple[int, ...]  # the index keys


@dataclass(frozen=True, slots=True)
class PreparedCopy(Record):
    """One parsed entry of a source, with its keys; ``facts`` None when the
    worker knew the source had stored this very content (they are made on
    demand if it turns out otherwise)."""

    item: ParsedItem
    entry_key: str
    content_hash: str
    facts: CopyFacts | None
