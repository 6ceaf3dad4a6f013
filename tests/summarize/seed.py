"""The seed article as the parser would hand it over: simple HTML."""

from __future__ import annotations

import html
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SEED = ROOT / "seeds" / "western-troops-ukraine.txt"
GOLDEN = ROOT / "tests" / "data" / "summarize" / "seed.summary.json"

SEED_LEAD = "As the war in Ukraine intensifies"
SEED_HEADINGS = (
    "Increased Military Aid Coincides with Renewed Talks",
    "Trump’s Re-Election Plans Spark Concerns",
    "UK and France Discuss Defense Cooperation",
    "French Foreign Minister Leaves Options Open",
    "Private Military Companies May Be Involved",
)


def seed_to_html(text: str) -> str:
    """The simple conversion: the first ``**…**`` line is the title (dropped),
    later ones are ``<h2>``, every other line a ``<p>``, the closing
    "Read More @ …" line included, so the boilerplate filter has to drop it."""
    parts = []
    seen_title = False
    for line in filter(None, (raw.strip() for raw in text.splitlines())):
        bold = re.fullmatch(r"\*\*(.+)\*\*", line)
        if bold and not seen_title:
            seen_title = True
        elif bold:
            parts.append(f"<h2>{html.escape(bold[1])}</h2>")
        else:
            parts.append(f"<p>{html.escape(line)}</p>")
    return "\n".join(parts)


@cache
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@cache
def seed_html() -> str:
    return seed_to_html(seed_text())
