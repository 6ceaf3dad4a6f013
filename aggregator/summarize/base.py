"""The summarizer seam: what the pipeline asks of any summarizer.

    summarizer(sections, sentences=2) -> Summary   one SectionSummary per section, in order

:func:`aggregator.summarize.summarize_sections` is one (language and algorithm
bound with ``functools.partial``); tests pass fakes.  A summarizer does not
split HTML, fetch or store anything.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ..models import Section, Summary

__all__ = ["Summarizer"]


class Summarizer(Protocol):
    def __call__(self, sections: Sequence[Section], *, sentences: int) -> Summary:
        """At most ``sentences`` sentences per section; a section's heading is kept."""
        ...
