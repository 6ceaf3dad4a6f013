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
        """Cache them, in one transaction; a key already cached keeps its summary
        (a key is a hash of the input and the settings, so the same key is the
        same summary: saving twice, from two passes or two workers, is harmless)."""
        ...
