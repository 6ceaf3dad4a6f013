"""Key sentences per section of an article.

    summarize_html(html) = summarize_sections(split_sections(html))

``sections`` splits along headings and drops boilerplate (no third-party
code); ``language`` resolves the declared or detected language; ``tokenizer``
splits sentences with the bundled Punkt models; ``lexicon`` holds stemmers and
stop words; ``document`` tokenizes and stems an item once for all its
sections; ``positional`` is the default algorithm (and Lead-N);
``sumy_adapter`` runs sumy's algorithms (and alone imports sumy, whose stemmers
and stop lists ``lexicon`` reads through it); ``extractive`` wires them together;
``base`` holds the :class:`Summarizer` protocol the pipeline depends on.
``aggregate summarize`` is a command, in :mod:`aggregator.commands.summarize`.
"""

from __future__ import annotations

from .base import Summarizer
from .extractive import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    summarize_html,
    summarize_sections,
    summary_cache_key,
)
from .sections import split_sections

__all__ = [
    "ALGORITHMS",
    "DEFAULT_ALGORITHM",
    "Summarizer",
    "split_sections",
    "summarize_html",
    "summarize_sections",
    "summary_cache_key",
]
