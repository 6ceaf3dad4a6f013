"""Near-duplicates: the same story under another link, id, headline or length.

Pure functions only; :mod:`.merge` does the look-ups and writes around them.

    title + text  ->  Features  (words, MinHash of the text, the lead's shingles,
                                  anchors of the start, title tokens, the
                                  numbers and dates it names)
    Features      ->  band keys (what to look up in the store's index)
    index hits    ->  candidates (stored copies worth comparing)
    two Features  ->  Match or None  (is the new copy the same story?)

Why these features.  Copies of a story that an exact key misses differ by an
edited headline, trimmed or extended text, boilerplate around it, or a few
words changed throughout.  What survives that:

* the *text* as a set of word 3-shingles, summarized by a MinHash signature:
  its Jaccard similarity, and how much of the shorter text the longer holds,
  survive edits spread over the text and cut or added paragraphs;
* the *lead*, the first :data:`LEAD_WORDS` words: trimmed and extended
  copies and teasers keep it while the rest of the text differs, and a
  follow-up story rewrites it;
* the *title* tokens: for a title alone or a teaser of a sentence or two,
  the title is most of the evidence there is.

The index holds keys of four kinds, so that no one edit hides a copy: the
lead's first words (LSH bands), the whole text (LSH bands of its MinHash),
anchors of the start (phrases found wherever they moved to) and the title
(one key); see the constants below.  The decision is stricter than the
index: a candidate must agree on the evidence that fits the two items'
lengths, and must not contradict them on what tells recurring items and
follow-up stories apart (the numbers, weekdays and months in their titles
and leads).

Why not datasketch: it needs scipy, hashes each token with SHA-1 in Python,
and persists its index only to Redis or Cassandra.  The index here has to
live in the SQLite store, and MinHash itself is a few lines of numpy.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import struct
import unicodedata
import zlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import numpy.typing as npt

from ..config import DedupConfig
from ..models import Record
from .keys import normalized_words

U32 = npt.NDArray[np.uint32]
U64 = npt.NDArray[np.uint64]

SHINGLE = 3  # words per shingle
LEAD_WORDS = 40  # the lead: this many words from the start of the text
# The lead's index covers its first words only, so that a teaser of a
# sentence or two finds the article it starts.
HEAD_WORDS = 24
# What is indexed, and why.  A copy is only compared with the stored copies
# that share index keys with it, so every kind of copy :func:`decide` accepts
# must share keys of some kind; but every key costs a random write and a
# look-up in the store's index, the largest part of the time per item.
# Copies are edited where readers look first, so keys of one part of the
# text miss them: a new headline and an edited first sentence ("EU energy
# ministers agreed early Wednesday" for "European Union energy ministers
# agreed early on Wednesday"), an intro added, the first sentence dropped.
# So the index holds:
#
# * the lead's first words as LSH bands (LEAD): a band matches when its 3
#   MinHash values agree, so two leads of Jaccard similarity J share one of 8
#   bands with probability 1 - (1 - J^3)^8: 0.66 at J 0.5, 0.86 at 0.6, 0.99
#   at 0.8.  Teasers and trimmed copies keep the lead when the rest differs;
# * the whole text's MinHash as LSH bands (BODY): 8 bands of 4 values, one
#   shared band with probability 1 - (1 - J^4)^8: 0.67 at J 0.6, 0.96 at
#   0.75, so a copy edited at its start (or anywhere) is still found by the
#   rest of its text.  From the signature kept for the decision: no hashing
#   of its own;
# * anchors of the start (ANCHOR): the phrases of five words that begin at
#   content-chosen places (a shingle whose hash is 0 modulo ANCHOR_RATE) in
#   the first ANCHOR_WORDS words, at most ANCHORS of them.  Chosen by what the
#   words are, not where they are, they survive an added intro or a dropped
#   first sentence that shifts every window; a teaser that the other copy
#   starts after an intro shares them where it shares no lead band;
# * one key for the title's words (TITLE), for copies without text.
#
# A single anchor or lead band is weak evidence (a briefing's template, a
# wire's house style share some), so a candidate needs two of them, a body
# band or the title (see :func:`select_candidates`), and one that the index
# answers with as many copies as it gives at most counts as none: a phrase
# that many copies in a few days share is a template's.  The decision then
# looks at all the evidence; the index only says whom to compare with.
SIGNATURE = 64  # MinHash values of the text: its similarity to within about 0.06
LEAD_BANDS, LEAD_ROWS = 8, 3
BODY_BANDS, BODY_ROWS = 8, 4  # of the text's SIGNATURE values, the first 32
# A text of fewer shingles has a signature of few distinct values: bands of
# it would join unrelated short texts.
BODY_MIN_SHINGLES = 8
ANCHOR_WORDS, ANCHOR_RATE, ANCHORS, ANCHOR_SPAN = 100, 12, 6, 5
LEAD, TITLE, BODY, ANCHOR = 2, 3, 4, 5  # families, in the top bits of a key
_FAMILY_SHIFT = 44

_WORD = re.compile(r"\w+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Sentences that say who carried a story, not what happened in it.
_BOILERPLATE = re.compile(
    r"originally (?:appeared|published)|republished|first appeared|appeared first"
    r"|all rights reserved|copyright|©|\bsubscribe|newsletter|sign up\b|follow us"
    r"|click here|read (?:the )?(?:original|full|more)\b|creative commons|editor'?s note"
    r"|contributed (?:to )?(?:this )?report|(?:receiving|received) this",
    re.IGNORECASE,
)
# Words that every sentence _BOILERPLATE matches contains: a cheap first look.
_BOILERPLATE_HINTS = (
    "originally",
    "republish",
    "appeared first",
    "first appeared",
    "rights reserved",
    "copyright",
    "©",
    "subscri",
    "newsletter",
    "sign up",
    "follow us",
    "click here",
    "read the",
    "read more",
    "creative commons",
    "editor's note",
    "editor’s note",
    "contributed",
    "receiving this",
    "received this",
)
# "LONDON (Reuters) -" or "(Reuters) —": a dateline that only wire copies carry.
_DATELINE = re.compile(r"^\s*(?:[A-Z][A-Za-z0-9 .,]{0,40})?\([^)]{1,40}\)\s*[-—–]+\s*")
# "By Jane Doe, The Daily.": a byline sentence of a few words.
_BYLINE = re.compile(r"^By\s+(?:\S+\s+){0,7}\S+$")
# A title's outlet suffix ("... - The Daily") and kicker ("Analysis: ...").
_TITLE_SUFFIX = re.compile(r"\s+[-|–—]\s+[^-|–—]{1,40}$")
_KICKERS = frozenset(
    [
        "breaking",
        "analysis",
        "exclusive",
        "watch",
        "live",
        "video",
        "opinion",
        "explainer",
        "update",
        "updated",
        "in",
        "brief",
        "comment",
        "photos",
        "listen",
    ]
)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "in",
        "on",
        "at",
        "for",
        "from",
        "by",
        "with",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "after",
        "over",
        "into",
        "about",
        "than",
        "then",
        "new",
        "says",
        "said",
        "will",
        "would",
        "can",
        "could",
        "has",
        "have",
        "had",
        "not",
        "no",
        "s",
    ]
)
_DATE_WORDS = frozenset(
    [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "today",
        "yesterday",
        "tomorrow",
        "morning",
        "evening",
        "tonight",
    ]
)


def _coefficients(count: int, seed: int) -> tuple[U64, U64]:
    """Odd multipliers and offsets of ``count`` multiply-shift hash functions.

    Fixed by ``seed``: signatures are stored, so they must not change between runs.
    """
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 2**63, size=count, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=count, dtype=np.uint64)
    return a, b


_BODY_A, _BODY_B = _coefficients(SIGNATURE, 0x5EED_B0D1)
_LEAD_A, _LEAD_B = _coefficients(LEAD_BANDS * LEAD_ROWS, 0x5EED_1EAD)
_MASK64 = 2**64 - 1
_LEAD_SEEDS = [(band + (LEAD << 8)) * 0x9E3779B97F4A7C15 & _MASK64 for band in range(LEAD_BANDS)]
_BODY_SEEDS = [(band + (BODY << 8)) * 0x9E3779B97F4A7C15 & _MASK64 for band in range(BODY_BANDS)]

# word -> 32-bit hash; crc32 is stable across processes, unlike hash().  A
# news vocabulary is a few tens of thousands of words; the cap keeps a feed
# of random words from growing it (in every worker process) without bound.
_word_hashes: dict[str, int] = {}
_WORD_HASHES_MAX = 100_000


def _word_hash_array(word_lists: Sequence[list[str]], count: int) -> U64:
    """The hash of every word of the lists, in order, in one array (``count`` words)."""
    cache = _word_hashes
    try:
        # Every word known: the common case, a look-up per word in C.
        return np.fromiter(
            map(cache.__getitem__, chain.from_iterable(word_lists)), np.uint64, count
        )
    except KeyError:
        pass
    missing = set(chain.from_iterable(word_lists)).difference(cache)
    if len(cache) > _WORD_HASHES_MAX:
        cache.clear()
        missing = set(chain.from_iterable(word_lists))
    cache.update((w, zlib.crc32(w.encode())) for w in missing)
    return np.fromiter(map(cache.__getitem__, chain.from_iterable(word_lists)), np.uint64, count)


def _mixed(h: U64) -> U64:
    """The hash of each word 3-shingle, from the words' hashes (``len(h) - 2`` of them)."""
    with np.errstate(over="ignore"):
        mixed = h[:-2] * np.uint64(0x9E3779B97F4A7C15)
        mixed ^= h[1:-1]
        mixed *= np.uint64(0xC2B2AE3D27D4EB4F)
        mixed ^= h[2:]
        mixed *= np.uint64(0x165667B19E3779F9)
    mixed ^= mixed >> np.uint64(29)
    return mixed


def _shingles_of(word_lists: Sequence[list[str]]) -> tuple[U64, list[int]]:
    """One 64-bit hash per word 3-shingle (one per word for fewer words) of
    each list of words, in one array, and how many each has."""
    lengths = [len(words) for words in word_lists]
    h = _word_hash_array(word_lists, sum(lengths))
    if len(lengths) == 1:
        values = _mixed(h) if len(h) >= SHINGLE else h
        return values, [len(values)]
    # The shingles of all the words as one text; each list's are those
    # that do not cross into the next list.
    mixed = _mixed(h) if len(h) >= SHINGLE else h[:0]
    pieces, sizes = [], []
    at = 0
    for length in lengths:
        if length >= SHINGLE:
            pieces.append(mixed[at : at + length - SHINGLE + 1])
            sizes.append(length - SHINGLE + 1)
        else:
            pieces.append(h[at : at + length])
            sizes.append(length)
        at += length
    return np.concatenate(pieces), sizes


def _distinct(values: U64, sizes: list[int]) -> tuple[U64, list[int]]:
    """Each run of ``sizes`` values sorted, without repeats, in one array; and
    how many distinct values each run has."""
    if len(sizes) == 1:
        ordered = np.sort(values)
    else:
        ordered = values.copy()
        at = 0
        for size in sizes:
            if size > 1:
                ordered[at : at + size].sort()
            at += size
    starts, runs, at = [], [], 0
    for index, size in enumerate(sizes):
        if size:
            starts.append(at)
            runs.append(index)
        at += size
    counts = [0] * len(sizes)
    if not starts:
        return ordered, counts
    first = np.empty(len(ordered), dtype=bool)  # first of its value in its run
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    first[starts] = True
    for index, count in zip(
        runs, np.add.reduceat(first, starts, dtype=np.intp).tolist(), strict=True
    ):
        counts[index] = count
    return ordered[first], counts


# Values hashed at once by _minhashes, in a buffer of 64 x 8192 x 8 bytes (4
# MB): on the benchmark's feeds, a third less time than with blocks of 4096.
_BLOCK = 8192


def _minhashes(values: U64, sizes: list[int], a: U64, b: U64) -> U32:
    """The MinHash signature of each run of ``sizes`` values, one row each:
    for each hash function, the least hash of any value of the run (all
    ones for a run of none)."""
    column = b[:, None]
    count = len(sizes)
    if count == 1 and sizes[0] <= _BLOCK:
        if not sizes[0]:
            return np.full((1, len(a)), 0xFFFFFFFF, dtype=np.uint32)
        hashed = np.multiply.outer(a, values)
        hashed += column
        single: U32 = (hashed.min(axis=1) >> np.uint64(32)).astype(np.uint32)[None, :]
        return single
    signatures = np.full((count, len(a)), 0xFFFFFFFF, dtype=np.uint32)
    entry = at = 0
    while entry < count:
        # The next runs, as many as fit in a block (a longer one alone), in
        # one buffer of len(a) x the block's values: fresh temporaries for
        # each step would cost more than the arithmetic.
        start = at
        rows: list[int] = []
        starts: list[int] = []
        while entry < count and (not starts or at - start + sizes[entry] <= _BLOCK):
            if sizes[entry]:
                rows.append(entry)
                starts.append(at - start)
            at += sizes[entry]
            entry += 1
        if not rows:
            continue
        hashed = np.multiply.outer(a, values[start:at])
        hashed += column
        # The high half of the least hash is the least high half (a shift
        # keeps order): one pass over the buffer fewer.  Repeated values
        # change no minimum, so the values need not be distinct.
        if len(rows) == 1:
            least = hashed.min(axis=1, keepdims=True)
        else:
            least = np.minimum.reduceat(hashed, starts, axis=1)
        signatures[rows] = (least >> np.uint64(32)).astype(np.uint32).T
    return signatures


def _band_keys(signature: U32, seeds: list[int], rows: int, family: int) -> list[int]:
    """One key per band (``rows`` values) of a signature: equal keys, equal
    rows (but for one chance in 2^44).  The band's number is hashed in, so a
    key of one band never meets a key of another.  In Python integers, 64
    bits wide: for a few dozen values that is faster than numpy's arrays."""
    values = signature.tolist()
    keys = []
    for band, seed in enumerate(seeds):
        h = seed
        for value in values[band * rows : band * rows + rows]:
            h = ((h ^ value) * 0xFF51AFD7ED558CCD) & _MASK64
            h ^= h >> 33
        keys.append(((h * 0xC4CEB9FE1A85EC53) & _MASK64) >> (64 - _FAMILY_SHIFT))
    return [key | family << _FAMILY_SHIFT for key in keys]


# Signatures from which band keys are made with numpy rather than _band_keys.
_BANDS_IN_NUMPY = 4


def _bands_of(signatures: U32, seeds: list[int], rows: int, family: int) -> list[list[int]]:
    """:func:`_band_keys` of each row of ``signatures`` (its first
    ``len(seeds) * rows`` values), the same keys: in uint64 arithmetic,
    which wraps as ``& _MASK64`` does."""
    bands = len(seeds)
    if len(signatures) < _BANDS_IN_NUMPY:
        return [
            _band_keys(signature[: bands * rows], seeds, rows, family) for signature in signatures
        ]
    count = len(signatures)
    values = signatures[:, : bands * rows].reshape(count, bands, rows).astype(np.uint64)
    h = np.repeat(np.array(seeds, dtype=np.uint64)[None, :], count, axis=0)
    with np.errstate(over="ignore"):
        for row in range(rows):
            h ^= values[:, :, row]
            h *= np.uint64(0xFF51AFD7ED558CCD)
            h ^= h >> np.uint64(33)
        h *= np.uint64(0xC4CEB9FE1A85EC53)
    h >>= np.uint64(64 - _FAMILY_SHIFT)
    h |= np.uint64(family << _FAMILY_SHIFT)
    keys: list[list[int]] = h.tolist()
    return keys


def _anchors_of(values: U64, sizes: list[int]) -> list[list[int]]:
    """The start's anchors of each run of ``sizes`` shingle hashes, in text
    order: for each shingle among the first ANCHOR_WORDS words whose hash is
    0 modulo ANCHOR_RATE (a choice made by the words alone), a 32-bit hash of
    the ANCHOR_SPAN words it begins (that shingle's and the one two words
    on).  At most ANCHORS, no repeats."""
    span = ANCHOR_SPAN - SHINGLE + 1  # shingles two words apart cover five words
    if len(sizes) == 1:
        # One run: fewer steps in Python integers than in arrays.
        leading = values[: max(0, min(len(values), ANCHOR_WORDS - SHINGLE + 1) - span + 1)]
        # The high bits choose (the low 32 are the lead's shingle hashes).
        picked = np.flatnonzero((leading >> np.uint64(40)) % np.uint64(ANCHOR_RATE) == 0).tolist()
        anchors: dict[int, None] = {}
        for at in picked:
            first, last = int(values[at]), int(values[at + span - 1])
            anchors[
                ((first * 0xD6E8FEB86659FD93 & _MASK64) ^ last) * 0x9E3779B97F4A7C15 >> 32
                & 0xFFFFFFFF
            ] = None
            if len(anchors) == ANCHORS:
                break
        return [list(anchors)]
    # The shingles that may start an anchor, each run's first ones, at once:
    # where they are in ``values`` and whose they are.
    counts, offsets, owners = [], [], []
    at = 0
    for index, size in enumerate(sizes):
        starts = max(0, min(size, ANCHOR_WORDS - SHINGLE + 1) - span + 1)
        if starts:
            counts.append(starts)
            offsets.append(at)
            owners.append(index)
        at += size
    if not counts:
        return [[] for _ in sizes]
    per_run = np.array(counts)
    before = np.cumsum(per_run) - per_run  # of the candidates, those of the runs before
    positions = np.arange(int(per_run.sum())) + np.repeat(np.array(offsets) - before, per_run)
    owner = np.repeat(np.array(owners), per_run)
    candidates = values[positions]
    # The high bits choose (the low 32 are the lead's shingle hashes).
    chosen = (candidates >> np.uint64(40)) % np.uint64(ANCHOR_RATE) == 0
    first = candidates[chosen]
    last = values[positions[chosen] + (span - 1)]
    with np.errstate(over="ignore"):
        # In uint64, the Python integers' ((first * K & _MASK64) ^ last) * K'
        # >> 32 & 0xFFFFFFFF: bits 32 to 63 of a product are those of the
        # product modulo 2^64.
        hashed = ((first * np.uint64(0xD6E8FEB86659FD93)) ^ last) * np.uint64(0x9E3779B97F4A7C15)
    hashed >>= np.uint64(32)
    found: list[dict[int, None]] = [{} for _ in sizes]
    for index, anchor in zip(owner[chosen].tolist(), hashed.tolist(), strict=True):
        anchors = found[index]
        if len(anchors) < ANCHORS:
            anchors[anchor] = None
    return [list(anchors) for anchors in found]


def _title_key(tokens: frozenset[str]) -> int:
    """One key for the set of a title's words, in the title family."""
    digest = hashlib.blake2b("\x1f".join(sorted(tokens)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> (64 - _FAMILY_SHIFT) | TITLE << _FAMILY_SHIFT


def fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def strip_boilerplate(text: str) -> str:
    """The text without sentences about syndication, copyright or subscriptions."""
    text = _DATELINE.sub("", text, count=1)
    lowered = text.lower()
    if not text.startswith("By ") and not any(hint in lowered for hint in _BOILERPLATE_HINTS):
        return text  # the common case
    return _without_boilerplate(text)


def _without_boilerplate(text: str) -> str:
    sentences = _SENTENCE_END.split(text)
    return " ".join(
        s for s in sentences if not _BOILERPLATE.search(s) and not _BYLINE.match(s.strip())
    )


def _strip_boilerplate_all(texts: Sequence[str]) -> list[str]:
    """:func:`strip_boilerplate` of each text, the same (the same object when
    it has nothing to cut): for many texts, the hints looked for in all of
    them at once (:func:`_hinted`)."""
    if sum(map(len, texts)) < _HINTED_FROM:
        return [strip_boilerplate(text) for text in texts]
    texts = [_DATELINE.sub("", text, count=1) for text in texts]
    hinted = _hinted([text.lower() for text in texts])
    return [
        _without_boilerplate(text) if hint or text.startswith("By ") else text
        for text, hint in zip(texts, hinted, strict=True)
    ]


# Of each hint, four bytes of its UTF-8 that other text seldom has; a text
# without them has not the hint.  (A shorter hint is looked for whole.)
_HINT_GRAMS = {
    "originally": "gina",
    "republish": "epub",
    "appeared first": "ppea",
    "first appeared": "ppea",
    "rights reserved": "eser",
    "copyright": "pyri",
    "subscri": "bscr",
    "newsletter": "slet",
    "sign up": "gn u",
    "follow us": "w us",
    "click here": "lick",
    "read the": "read",
    "read more": "ad m",
    "creative commons": "ommo",
    "editor's note": "dito",
    "editor’s note": "dito",
    "contributed": "ntri",
    "receiving this": "ceiv",
    "received this": "ceiv",
}
_SHORT_HINTS = tuple(hint.encode() for hint in _BOILERPLATE_HINTS if hint not in _HINT_GRAMS)
assert all(len(hint) < 4 for hint in _SHORT_HINTS)
assert all(len(gram.encode()) == 4 and gram in hint for hint, gram in _HINT_GRAMS.items())


def _by_gram() -> dict[int, list[tuple[bytes, int]]]:
    """The grams as little-endian 32-bit numbers -> (hint, the gram's offset in it)."""
    by_gram: dict[int, list[tuple[bytes, int]]] = {}
    for hint, gram in _HINT_GRAMS.items():
        by_gram.setdefault(int.from_bytes(gram.encode(), "little"), []).append(
            (hint.encode(), hint.encode().index(gram.encode()))
        )
    return by_gram


_BY_GRAM = _by_gram()
_GRAM_HASH = 0x9E3779B1
# Which 16-bit hashes of a gram may be one of those.
_GRAM_TABLE = np.zeros(1 << 16, dtype=bool)
_GRAM_TABLE[[(gram * _GRAM_HASH & 0xFFFFFFFF) >> 16 for gram in _BY_GRAM]] = True
_HINTED_FROM = 20_000  # characters of text, in all, from which _hinted is faster


def _hinted(lowered: Sequence[str]) -> list[bool]:
    """``any(hint in text for hint in _BOILERPLATE_HINTS)`` for each text, in
    a few array steps over the UTF-8 of all of them instead of a search per
    hint: the bytes at every position read as a 32-bit number, hashed, and
    the few whose hash is a gram's compared with the hint there.  (A match
    never crosses from one text into the next: no hint has a NUL.)"""
    parts = [text.encode("utf-8", "surrogatepass") for text in lowered]
    data = b"\x00".join(parts)
    ends, at = [], 0  # where each text ends in data
    for part in parts:
        at += len(part)
        ends.append(at)
        at += 1
    found = [False] * len(lowered)
    for shift in range(min(4, len(data) - 3)):
        grams = np.frombuffer(data, dtype="<u4", count=(len(data) - shift) // 4, offset=shift)
        hashes = (grams * np.uint32(_GRAM_HASH)) >> np.uint32(16)
        for index in np.flatnonzero(_GRAM_TABLE[hashes]).tolist():
            at = shift + 4 * index
            for hint, offset in _BY_GRAM.get(int(grams[index]), ()):
                if at >= offset and data.startswith(hint, at - offset):
                    found[bisect.bisect_left(ends, at)] = True
    for hint in _SHORT_HINTS:
        at = data.find(hint)
        while at >= 0:
            found[bisect.bisect_left(ends, at)] = True
            at = data.find(hint, at + 1)
    return found


def title_tokens(title: str) -> frozenset[str]:
    """Content words of a headline, without the outlet's suffix or a kicker."""
    stripped = title.strip()
    without_suffix = _TITLE_SUFFIX.sub("", stripped)
    if len(without_suffix.split()) >= 3:
        stripped = without_suffix
    head, colon, rest = stripped.partition(":")
    if colon and fold(head).strip() in _KICKERS:
        stripped = rest
    words = _WORD.findall(fold(stripped))
    return frozenset(_stem(w) for w in words if w not in _STOPWORDS)


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def marks(words: Iterable[str]) -> frozenset[str]:
    """What tells two editions of a recurring item apart: numbers, days, months."""
    if not isinstance(words, list | tuple):
        words = list(words)
    # frozenset(w for w in words if w.isdigit() or w in _DATE_WORDS), without
    # a Python step per word.
    return frozenset(filter(str.isdigit, words)).union(_DATE_WORDS.intersection(words))


@dataclass(frozen=True, slots=True)
class Features(Record):
    """What near-duplicate detection knows about one copy of a story."""

    words: int  # words of text, boilerplate removed
    shingles: int  # distinct word 3-shingles of the text
    body: U32  # MinHash of the text's shingles
    lead: U32  # sorted distinct 32-bit hashes of the lead's shingles
    head: U32  # the same for the lead's first HEAD_WORDS words
    anchors: U32  # the start's anchors, in text order (see :func:`_anchors_of`)
    title: frozenset[str]
    title_marks: frozenset[str]
    lead_marks: frozenset[str]  # in the lead
    wide_marks: frozenset[str]  # in the lead and the words after it

    def band_keys(self) -> list[int]:
        """The index keys: the lead's bands (when there is text), the text's
        bands (when there is enough of it), the start's anchors, and one key
        for the title's words, so that a copy under the same headline (give
        or take an outlet's suffix, a kicker, case and punctuation) is found
        even without text.  A function of the features alone: stored copies'
        keys can be made again from their signatures."""
        (keys,) = band_keys_of([self])
        return keys


def band_keys_of(features: Sequence[Features]) -> list[list[int]]:
    """:meth:`Features.band_keys` of each, made together (see :func:`features_of`)."""
    with_lead = [index for index, f in enumerate(features) if len(f.head) >= 4]
    lead_keys: dict[int, list[int]] = {}
    if with_lead:
        heads = [features[index].head for index in with_lead]
        signatures = _minhashes(
            np.concatenate(heads).astype(np.uint64), [len(h) for h in heads], _LEAD_A, _LEAD_B
        )
        bands = _bands_of(signatures, _LEAD_SEEDS, LEAD_ROWS, LEAD)
        lead_keys = dict(zip(with_lead, bands, strict=True))
    with_body = [index for index, f in enumerate(features) if f.shingles >= BODY_MIN_SHINGLES]
    body_keys: dict[int, list[int]] = {}
    if with_body:
        bodies = np.stack([features[index].body[: BODY_BANDS * BODY_ROWS] for index in with_body])
        bands = _bands_of(bodies, _BODY_SEEDS, BODY_ROWS, BODY)
        body_keys = dict(zip(with_body, bands, strict=True))
    all_keys = []
    for index, f in enumerate(features):
        keys = lead_keys.get(index, [])
        keys += body_keys.get(index, ())
        keys += [anchor | ANCHOR << _FAMILY_SHIFT for anchor in f.anchors.tolist()]
        if f.title:
            keys.append(_title_key(f.title))
        all_keys.append(keys)
    return all_keys


_WEAK = (LEAD, ANCHOR)


def is_weak(key: int) -> bool:
    """A lead band's or an anchor's key: no evidence under ``template``
    copies or more (see :func:`select_candidates`)."""
    return key >> _FAMILY_SHIFT in _WEAK


def select_candidates(
    hits: Iterable[tuple[int, Sequence[int]]], limit: int | None, *, template: int
) -> list[int]:
    """The stored copies worth comparing, from index hits: (band key, the ids
    of the copies under it).

    One lead band or one anchor is weak evidence: leads written from
    templates (a briefing, a wire's house style) share some, and a phrase of
    five words may recur.  So a copy needs two of those, or a band of the
    whole text (four MinHash values of it agreeing: texts alike throughout),
    or the same title words; a copy of the story usually shares many keys.
    A weak key under ``template`` copies or more (the index's most, so it
    holds at least as many) is no evidence at all: a template's, shared by
    any copy of that briefing or series.  The copies under it still count
    by their other keys.
    Those sharing the most come first (the lowest id first among equals), at
    most ``limit`` (None: all).
    """
    # Counted by Counter's loop in C: a cold pass reads millions of hits,
    # nearly all of them a template's anchor that no other key backs up.
    weak: list[int] = []
    other: list[int] = []
    strong: set[int] = set()
    for key, copy_ids in hits:
        family = key >> _FAMILY_SHIFT
        if family in _WEAK:
            if len(copy_ids) < template:
                weak += copy_ids
        else:
            other += copy_ids
            if family in (BODY, TITLE):
                strong.update(copy_ids)
    shared = Counter(weak)
    kept = strong
    if len(shared) < len(weak):  # some copy has two weak keys
        kept = strong | {copy_id for copy_id, count in shared.items() if count >= 2}
    if not kept:
        return []
    shared.update(other)
    return sorted(kept, key=lambda copy_id: (-shared[copy_id], copy_id))[:limit]


# Of encoded features: 2 adds the anchors after the head; 1 (without them)
# is still read, its anchors empty.  A copy stored in another is not compared.
_FORMAT = 2
_HEADER = struct.Struct("<BIIHHH")
_ANCHOR_COUNT = struct.Struct("<H")


def encode(f: Features) -> bytes:
    """Features as bytes for the store: a header, the arrays, the token sets."""
    sets = (f.title, f.title_marks, f.lead_marks, f.wide_marks)
    text = "\x1f".join(" ".join(sorted(tokens)) for tokens in sets).encode()
    header = _HEADER.pack(_FORMAT, f.words, f.shingles, len(f.body), len(f.lead), len(f.head))
    header += _ANCHOR_COUNT.pack(len(f.anchors))
    # (np.asarray copies only what is not little-endian uint32 already.)
    arrays = b"".join(
        np.asarray(a, dtype="<u4").tobytes() for a in (f.body, f.lead, f.head, f.anchors)
    )
    return header + arrays + text


def decode(data: bytes) -> Features | None:
    """The features :func:`encode` wrote (or its format 1); None for another format."""
    if len(data) < _HEADER.size or data[0] not in (1, _FORMAT):
        return None
    _, words, shingles, body_count, lead_count, head_count = _HEADER.unpack_from(data)
    body_start = _HEADER.size
    anchor_count = 0
    if data[0] == _FORMAT:
        (anchor_count,) = _ANCHOR_COUNT.unpack_from(data, body_start)
        body_start += _ANCHOR_COUNT.size
    body_end = body_start + 4 * body_count
    lead_end = body_end + 4 * lead_count
    head_end = lead_end + 4 * head_count
    anchors_end = head_end + 4 * anchor_count
    if body_count != len(_BODY_A):
        return None
    body = np.frombuffer(data, dtype="<u4", count=body_count, offset=body_start)
    lead = np.frombuffer(data, dtype="<u4", count=lead_count, offset=body_end)
    head = np.frombuffer(data, dtype="<u4", count=head_count, offset=lead_end)
    anchors = np.frombuffer(data, dtype="<u4", count=anchor_count, offset=head_end)
    title, title_marks, lead_marks, wide_marks = (
        frozenset(part.split()) for part in data[anchors_end:].decode().split("\x1f")
    )
    return Features(
        words=words,
        shingles=shingles,
        body=body.astype(np.uint32),
        lead=lead.astype(np.uint32),
        head=head.astype(np.uint32),
        anchors=anchors.astype(np.uint32),
        title=title,
        title_marks=title_marks,
        lead_marks=lead_marks,
        wide_marks=wide_marks,
    )


def features(title: str, body_text: str, words: list[str] | None = None) -> Features:
    """The features of a copy with this title and plain text.

    ``words``, when given, are the folded words of all of ``body_text``
    (:func:`.keys.normalized_words`, which the fingerprint needs too); they
    are used as they are unless boilerplate had to be cut from the text.
    """
    (made,) = features_of([title], [body_text], [words])
    return made


def features_of(
    titles: Sequence[str],
    texts: Sequence[str],
    words: Sequence[list[str] | None] | None = None,
    title_words: Sequence[list[str] | None] | None = None,
) -> list[Features]:
    """:func:`features` of each title and text, the same: made together, so
    that numpy's steps are taken once for all rather than once per copy
    (copies have a few hundred words, for which a step's own cost is most
    of it).  ``title_words``, when given, are the titles' normalized words.
    """
    count = len(titles)
    if not count:
        return []
    all_words = []
    stripped = _strip_boilerplate_all(texts)
    for index in range(count):
        body_text = texts[index]
        text = stripped[index]
        given = words[index] if words is not None else None
        # normalized_words is _WORD.findall(fold(text)), faster.
        all_words.append(
            given if given is not None and text is body_text else normalized_words(text)
        )
    shingles, sizes = _shingles_of(all_words)
    distinct, counts = _distinct(shingles, sizes)
    signatures = _minhashes(distinct, counts, _BODY_A, _BODY_B)
    anchors = _anchors_of(shingles, sizes)
    # The lead's and the head's distinct low halves, sorted: a few dozen
    # values each, for which Python's set is several times faster than np.unique.
    leads, at = [], 0
    for text_words, size in zip(all_words, sizes, strict=True):
        lead_size = max(1, min(len(text_words), LEAD_WORDS) - SHINGLE + 1)
        leads.append(shingles[at : at + min(size, lead_size)])
        at += size
    lows = (np.concatenate(leads) & np.uint64(0xFFFFFFFF)).tolist()
    lead_values: list[int] = []
    head_values: list[int] = []
    anchor_values: list[int] = []
    bounds = []  # where each copy's lead, head and anchors end in those
    at = 0
    for index in range(count):
        low = lows[at : at + len(leads[index])]
        at += len(low)
        head_size = max(1, min(len(all_words[index]), HEAD_WORDS) - SHINGLE + 1)
        lead_values += sorted(set(low))
        head_values += sorted(set(low[:head_size]))
        anchor_values += anchors[index]
        bounds.append((len(lead_values), len(head_values), len(anchor_values)))
    # Each copy's arrays are views of one array of all copies' values.
    lead_array = np.array(lead_values, dtype=np.uint32)
    head_array = np.array(head_values, dtype=np.uint32)
    anchor_array = np.array(anchor_values, dtype=np.uint32)
    made = []
    lead_start = head_start = anchor_start = 0
    for index in range(count):
        text_words = all_words[index]
        lead_end, head_end, anchor_end = bounds[index]
        lead_marks = marks(text_words[:LEAD_WORDS])
        title = titles[index]
        folded_title = title_words[index] if title_words is not None else None
        if folded_title is None:
            folded_title = normalized_words(title)
        made.append(
            Features(
                words=len(text_words),
                shingles=counts[index],
                body=signatures[index],
                lead=lead_array[lead_start:lead_end],
                head=head_array[head_start:head_end],
                anchors=anchor_array[anchor_start:anchor_end],
                title=title_tokens(title),
                title_marks=marks(folded_title),
                lead_marks=lead_marks,
                # marks(words[: LEAD_WORDS * 3 // 2]): the lead's, and those after it.
                wide_marks=lead_marks | marks(text_words[LEAD_WORDS : LEAD_WORDS * 3 // 2]),
            )
        )
        lead_start, head_start, anchor_start = lead_end, head_end, anchor_end
    return made


# -- the decision -----------------------------------------------------------


# Shingles two leads must share for a teaser to count as the other's start
# whatever its title: a dozen words in a row.
_VERBATIM = 10
_SAME_LEAD = 0.6  # share of the shorter lead found in the other: "the same lead"
_SHORT_LEAD = 0.5  # the same for short copies with a similar title
_TITLE_ALONE = 0.9  # title similarity a copy without text needs


@dataclass(frozen=True, slots=True)
class Evidence:
    """How alike two copies are, each measure in [0, 1]."""

    text: float  # estimated Jaccard similarity of the texts' shingles
    containment: float  # estimated share of the shorter text found in the longer
    lead: float  # share of the shorter lead's shingles found in the other lead
    lead_shared: int  # how many shingles the leads share
    title: float  # Dice similarity of the title tokens
    hours: float  # time between the two copies


@dataclass(frozen=True, slots=True)
class Match:
    score: float  # the similarity the decision rests on, for the record
    evidence: Evidence


def evidence(a: Features, b: Features, seconds: float) -> Evidence:
    agree = float(np.count_nonzero(a.body == b.body)) / len(a.body)
    if a.shingles and b.shingles:
        shared = agree * (a.shingles + b.shingles) / (1 + agree)
        containment = min(1.0, shared / min(a.shingles, b.shingles))
    else:
        agree = containment = 0.0
    lead, common = 0.0, 0
    if len(a.lead) and len(b.lead):
        common = len(np.intersect1d(a.lead, b.lead, assume_unique=True))
        lead = common / min(len(a.lead), len(b.lead))
    title = 0.0
    if a.title and b.title:
        title = 2 * len(a.title & b.title) / (len(a.title) + len(b.title))
    return Evidence(agree, containment, lead, common, title, abs(seconds) / 3600)


def contradicts(a: Features, b: Features) -> bool:
    """Do the two name different dates or figures, the way two editions of a
    daily item or a follow-up with new figures do?  Copies keep both."""
    if _differ(a.title_marks, b.title_marks):
        return True
    # The lead's end is ragged (a copy may have a word more or less before
    # it), so each lead is held against the other's wider start.
    return _differ(a.lead_marks, b.lead_marks) and not (
        a.lead_marks <= b.wide_marks or b.lead_marks <= a.wide_marks
    )


def _differ(a: frozenset[str], b: frozenset[str]) -> bool:
    return bool(a) and bool(b) and not (a <= b or b <= a)


def decide(a: Features, b: Features, seconds: float, settings: DedupConfig) -> Match | None:
    """Is ``b`` a copy of the story ``a`` tells?  ``seconds`` between their dates.

    Long copies (both with at least ``short_words`` words of text) need
    their texts to agree, one mostly contained in the other, *and* the same
    start: the same lead or a similar title.  A follow-up that keeps the first
    story's paragraphs under a new headline and a new lead fails that.

    Short copies need closeness in time and a similar title; where both have
    some text, their leads must agree too (a teaser is the article's first
    sentences); a title alone needs a nearly identical title, because
    headlines on one subject share most of their words.
    """
    if abs(seconds) > settings.window or contradicts(a, b):
        return None
    e = evidence(a, b, seconds)
    if min(a.words, b.words) >= settings.short_words:
        text = max(e.text, e.containment)
        same_start = e.lead >= _SAME_LEAD or e.title >= settings.title_threshold
        if text >= settings.threshold and same_start:
            return Match(text, e)
        if (
            e.lead >= _SAME_LEAD
            and e.lead_shared >= _VERBATIM
            and e.title >= settings.title_threshold
        ):
            # The same headline and lead, the rest cut and other text added.
            return Match(e.lead, e)
        return None
    if abs(seconds) > settings.short_window:
        return None
    both_have_text = min(len(a.lead), len(b.lead)) >= 4
    if both_have_text:
        if e.title >= settings.title_threshold and e.lead >= _SHORT_LEAD:
            return Match(e.title, e)
        if e.lead >= 0.9 and e.lead_shared >= _VERBATIM:
            return Match(e.lead, e)  # a teaser that is the other's first sentences
        return None
    if e.title >= max(settings.title_threshold, _TITLE_ALONE):
        return Match(e.title, e)
    return None


def best_match(
    new: Features, candidates: Iterable[tuple[int, Features, float]], settings: DedupConfig
) -> tuple[int, Match] | None:
    """The candidate the new copy matches best: (its key, the match), or None."""
    best: tuple[int, Match] | None = None
    for key, stored, seconds in candidates:
        match = decide(stored, new, seconds, settings)
        if match is not None and (best is None or match.score > best[1].score):
            best = (key, match)
    return best
