"""The summary cache: summaries by a hash of their input and settings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..models import Summary


class SummaryCache(Protocol):
    def summaries(self, keys: Sequence[str]) -> dict[str, Summary]:
        """The cached summaries among ``keys`` (missing keys are left out)."""
        ...

    def save_summaries(self, summaries: dict[str, Summary]) -> None:
        """Cache them; a key already cached is overwritten (the same input gives
        the same summary, so saving twice is harmless)."""
        ...
