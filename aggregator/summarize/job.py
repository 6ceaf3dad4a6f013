"""One summary to make: the text, everything the summary depends on, and its cache key.

A job is made where the text is (the worker that parsed it, or the process
publishing a stored item) and can be run anywhere: it is picklable, and its
language is already resolved, so running it never detects the language again.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..config import SummaryConfig
from ..models import Summary
from .extractive import summarize_html, summary_cache_key
from .language import resolve_language

__all__ = ["SummaryJob"]


@dataclass(frozen=True, slots=True)
class SummaryJob:
    """What one summary depends on; ``key`` names it in the summary cache."""

    html: str
    sentences: int
    max_sentences: int
    words_per_sentence: int
    algorithm: str
    language: str
    key: str

    @classmethod
    def of(
        cls,
        html: str,
        language: str | None,
        settings: SummaryConfig,
        algorithm: str | None = None,
    ) -> SummaryJob:
        """The job for ``html`` in the item's declared ``language`` (None: the
        settings' default); ``algorithm`` is the source's own, if it has one."""
        # Resolved once, here: detection is a sixth of a summary's cost.
        resolved = resolve_language(language or settings.language, html)
        chosen = algorithm or settings.algorithm
        key = summary_cache_key(
            html,
            sentences=settings.sentences,
            max_sentences=settings.max_sentences,
            words_per_sentence=settings.words_per_sentence,
            algorithm=chosen,
            language=resolved,
        )
        return cls(
            html,
            settings.sentences,
            settings.max_sentences,
            settings.words_per_sentence,
            chosen,
            resolved,
            key,
        )

    def run(self) -> Summary:
        return summarize_html(
            self.html,
            sentences=self.sentences,
            max_sentences=self.max_sentences,
            words_per_sentence=self.words_per_sentence,
            algorithm=self.algorithm,
            language=self.language,
        )
