"""Per-section digests: one entry per section and publishing window, summarizing
across the window's items, each sentence linked to the item it came from.

    build_digests(entries, window=1 day, sentences=5, page_url) -> [digest Entry, ...]

The candidates are the items' own summary sentences (already chosen per
article), so a digest costs little beyond what publishing has at hand.  A
candidate scores by

* *corroboration*: how much the other items of the window say the same (mean
  cosine similarity over stemmed content words), so the stories several
  outlets carry rise, and
* *position*: ``exp(-i / 2)`` for the i-th sentence of its item's summary,
  since news puts its key fact first;

then sentences are taken greedily, best first, skipping any whose cosine with
one already taken is 0.5 or more (it would say the same thing again), one
sentence per item so that the digest spans the window's stories.  Two
parameters, both round numbers, neither tuned on evaluation data.

Pure: the same entries give the same digests, byte for byte once published.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ..dedup.keys import entry_uuid
from ..models import DigestLine, Entry, Summary
from .language import resolve_language
from .lexicon import lexicon_for

POSITION_DECAY = 2.0  # the second sentence of a summary weighs exp(-1/2) of the first
REDUNDANT = 0.5  # cosine at or above which two sentences say the same thing
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class _Candidate:
    item: int  # index of the entry in the window
    position: int  # index of the sentence in its entry's summary
    sentence: str
    terms: Counter[str]


def build_digests(
    entries: Sequence[Entry], *, window: timedelta, sentences: int, page_url: str
) -> list[Entry]:
    """One digest entry per (section, window) that has items; none if ``sentences`` is 0."""
    if sentences <= 0 or not entries:
        return []
    groups: dict[tuple[str, datetime], list[Entry]] = {}
    for entry in entries:
        groups.setdefault((entry.section, window_start(entry.published, window)), []).append(entry)
    digests = []
    for (section, start), members in sorted(groups.items()):
        lines = select_lines(members, sentences)
        if not lines:
            continue
        digests.append(
            Entry(
                id=entry_uuid("digest", f"{section}\n{start.isoformat()}\n{window}"),
                title=f"{section} digest, {_window_label(start, window)}",
                link=page_url,
                # The newest item's time: the digest sits at the top of its window
                # and its date changes only when the window's items do.
                published=max(e.published for e in members),
                updated=max(e.updated for e in members),
                section=section,
                summary=Summary(()),
                sources=(),
                digest=tuple(lines),
            )
        )
    return digests


def window_start(moment: datetime, window: timedelta) -> datetime:
    """The start of the window holding ``moment``; windows are aligned to the Unix epoch
    (so daily windows are UTC days)."""
    seconds = window.total_seconds()
    stamp = moment.astimezone(UTC).timestamp()
    return datetime.fromtimestamp(math.floor(stamp / seconds) * seconds, tz=UTC)


def select_lines(entries: Sequence[Entry], count: int) -> list[DigestLine]:
    """Up to ``count`` sentences across ``entries``, best first, no two alike."""
    candidates = list(_candidates(entries))
    if not candidates:
        return []
    norms = [math.sqrt(sum(v * v for v in c.terms.values())) or 1.0 for c in candidates]

    def cosine(a: int, b: int) -> float:
        small, large = sorted((candidates[a].terms, candidates[b].terms), key=len)
        dot = sum(value * large.get(term, 0) for term, value in small.items())
        return dot / (norms[a] * norms[b])

    scores = []
    for index, (candidate, corroboration) in enumerate(
        zip(candidates, _corroborations(candidates, norms), strict=True)
    ):
        # Ties (equal scores) are broken by item order, then sentence order,
        # so the result never depends on hash order.
        scores.append(
            (
                (1.0 + corroboration) * math.exp(-candidate.position / POSITION_DECAY),
                -candidate.item,
                -candidate.position,
                index,
            )
        )
    chosen: list[int] = []
    used_items: set[int] = set()
    for *_score, index in sorted(scores, reverse=True):
        candidate = candidates[index]
        if candidate.item in used_items:
            continue
        if any(cosine(index, other) >= REDUNDANT for other in chosen):
            continue
        chosen.append(index)
        used_items.add(candidate.item)
        if len(chosen) == count:
            break
    return [_line(entries[candidates[i].item], candidates[i].sentence) for i in chosen]


def _corroborations(candidates: Sequence[_Candidate], norms: Sequence[float]) -> list[float]:
    """Each candidate's mean cosine with the candidates of the other items.

    Summed over terms, not over pairs: the mean of a's cosines with others
    is a's terms, each times the sum over the others of their weight of it
    (term count over norm), over a's norm and their number; and the
    others' sum is every candidate's less those of a's own item.  Linear in
    the candidates, where pairs took 0.1 s for the up to 600 sentences of a
    200-entry feed, and grew with their square.  The sums differ from the
    pairs' in the last bits; rounded to 12 digits, such differences seldom
    order two candidates, and the ties they leave are broken as before (by
    item, then sentence).
    """
    everyone: dict[str, float] = {}
    by_item: dict[int, dict[str, float]] = {}
    sizes = Counter(candidate.item for candidate in candidates)
    for candidate, norm in zip(candidates, norms, strict=True):
        own = by_item.setdefault(candidate.item, {})
        for term, count in candidate.terms.items():
            weight = count / norm
            everyone[term] = everyone.get(term, 0.0) + weight
            own[term] = own.get(term, 0.0) + weight
    corroborations = []
    for candidate, norm in zip(candidates, norms, strict=True):
        others = len(candidates) - sizes[candidate.item]
        if not others:
            corroborations.append(0.0)
            continue
        own = by_item[candidate.item]
        total = sum(count * (everyone[term] - own[term]) for term, count in candidate.terms.items())
        corroborations.append(round(total / (norm * others), 12))
    return corroborations


def _candidates(entries: Sequence[Entry]) -> Iterable[_Candidate]:
    for item, entry in enumerate(entries):
        sentences = [s for section in entry.summary.sections for s in section.sentences]
        if not sentences:
            continue
        language = resolve_language(entry.language, " ".join(sentences[:3]))
        lexicon = lexicon_for(language)
        for position, sentence in enumerate(sentences[:3]):
            words = (w.lower() for w in _WORD.findall(sentence))
            terms = Counter(lexicon.stem(w) for w in words if w not in lexicon.stop_words)
            if terms:
                yield _Candidate(item, position, sentence, terms)


def _line(entry: Entry, sentence: str) -> DigestLine:
    return DigestLine(
        sentence=sentence, item_id=entry.id, link=entry.link, source=entry.origin_name
    )


def _window_label(start: datetime, window: timedelta) -> str:
    if window >= timedelta(days=1) and window % timedelta(days=1) == timedelta(0):
        return start.strftime("%Y-%m-%d")
    return start.strftime("%Y-%m-%d %H:%M UTC")
