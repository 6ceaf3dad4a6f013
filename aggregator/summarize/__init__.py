"""Key sentences per section of an article.

    summarize_html(html) = summarize_sections(split_sections(html))

``sections`` splits along headings (no third-party code), ``tokenizer`` splits
sentences with the bundled Punkt models, ``extractive`` is the sumy adapter,
and ``base`` holds the :class:`Summarizer` protocol the pipeline depends on.
"""

from __future__ import annotations

from .base import Summarizer
from .extractive import ALGORITHMS, summarize_html, summarize_sections, summary_cache_key
from .sections import split_sections

__all__ = [
    "ALGORITHMS",
    "Summarizer",
    "split_sections",
    "summarize_html",
    "summarize_sections",
    "summary_cache_key",
]
