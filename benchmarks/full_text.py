"""Compare main-content extractors on real article pages with ground truth.

    DIR/html/<id>.html[.gz] + DIR/ground-truth.json  |  extract each page as HTML
      |  token precision / recall / F1 against the ground-truth text
      |  headings kept  |  CPU ms per page

Usage::

    python benchmarks/full_text.py DIR [--libraries trafilatura,readability,aggregator]
                                       [--limit N]

DIR is laid out as scrapinghub's article-extraction-benchmark is (181 pages
of news and blogs with the human-checked ``articleBody`` of each): ``html/``
with one page per id, ``ground-truth.json`` mapping each id to
``{"articleBody": ..., "url": ...}``.  Those pages are third-party: they are
read from where they are, never copied into this repository.  Without DIR
the script says so and exits 0.

Per library, one row: the mean over pages of token precision, recall and F1
(a bag of lower-cased ``\\w+`` tokens, as that benchmark counts them),
headings (``<h1>``-``<h6>``) in the extracted HTML, how many of those have
their text in the ground truth (a heading of the article rather than of the
page around it), pages with no text extracted, and CPU milliseconds per page
(``time.process_time``, this process only: what a core does, whatever else
the machine runs).

``aggregator`` is the extractor the package uses
(:func:`aggregator.fulltext.extract.extract_article`): the chosen library with
its settings, then sanitized as every stored text is.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

_TOKEN = re.compile(r"\w+")
_HEADING = re.compile(r"<h([1-6])\b[^>]*>(.*?)</h\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")

Extractor = Callable[[str, str], str]  # (html, url) -> extracted HTML ("" for nothing)


def _trafilatura(html: str, url: str) -> str:
    import trafilatura

    return trafilatura.extract(html, url=url, output_format="html", include_formatting=True) or ""


def _readability(html: str, url: str) -> str:
    from readability import Document

    return str(Document(html, url=url).summary(html_partial=True))


def _aggregator(html: str, url: str) -> str:
    from aggregator.fulltext.extract import NoArticle, extract_article

    try:
        return extract_article(html.encode("utf-8"), url, "text/html; charset=utf-8")
    except NoArticle:
        return ""


LIBRARIES: dict[str, Extractor] = {
    "trafilatura": _trafilatura,
    "readability": _readability,
    "aggregator": _aggregator,
}


def tokens(text: str) -> Counter[str]:
    return Counter(token.lower() for token in _TOKEN.findall(text))


def plain(html: str) -> str:
    import html as html_module

    return html_module.unescape(_TAG.sub(" ", html))


@dataclass
class Score:
    precision: list[float] = field(default_factory=list)
    recall: list[float] = field(default_factory=list)
    f1: list[float] = field(default_factory=list)
    headings: int = 0
    headings_in_truth: int = 0
    pages_with_headings: int = 0
    empty: int = 0
    cpu: float = 0.0

    def add(self, truth: str, extracted_html: str, seconds: float) -> None:
        expected = tokens(truth)
        got = tokens(plain(extracted_html))
        overlap = sum((expected & got).values())
        precision = overlap / sum(got.values()) if got else 0.0
        recall = overlap / sum(expected.values()) if expected else 1.0
        both = precision + recall
        self.precision.append(precision)
        self.recall.append(recall)
        self.f1.append(2 * precision * recall / both if both else 0.0)
        found = [plain(text).strip() for _level, text in _HEADING.findall(extracted_html)]
        found = [text for text in found if text]
        self.headings += len(found)
        squeezed_truth = " ".join(truth.split())
        self.headings_in_truth += sum(" ".join(text.split()) in squeezed_truth for text in found)
        self.pages_with_headings += bool(found)
        self.empty += not got
        self.cpu += seconds


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def load_pages(directory: Path, limit: int | None) -> list[tuple[str, str, str]]:
    """(url, page HTML, ground-truth text) of each page with both."""
    truth = json.loads((directory / "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for key in sorted(truth):
        candidates = [directory / "html" / f"{key}.html.gz", directory / "html" / f"{key}.html"]
        path = next((p for p in candidates if p.exists()), None)
        if path is None:
            continue
        data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        pages.append(
            (
                truth[key].get("url") or f"https://example.invalid/{key}",
                data.decode("utf-8", "replace"),
                truth[key].get("articleBody") or "",
            )
        )
        if limit is not None and len(pages) >= limit:
            break
    return pages


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", type=Path)
    parser.add_argument("--libraries", default=",".join(LIBRARIES))
    parser.add_argument("--limit", type=int, default=None, help="the first N pages only")
    args = parser.parse_args(argv)
    if args.directory is None or not (args.directory / "ground-truth.json").exists():
        print(
            "no pages to measure: give a directory with html/ and ground-truth.json "
            "(scrapinghub/article-extraction-benchmark's layout)"
        )
        return 0
    pages = load_pages(args.directory, args.limit)
    print(f"{len(pages)} pages from {args.directory}")
    print(
        f"{'library':<12} {'precision':>9} {'recall':>7} {'F1':>6} {'headings':>8} "
        f"{'in truth':>8} {'pages w/ h':>10} {'empty':>5} {'ms/page':>8}"
    )
    for name in args.libraries.split(","):
        extract = LIBRARIES[name]
        try:
            extract("<html><body><p>warm up: imports are not timed</p></body></html>", "")
        except ImportError as error:
            print(f"{name:<12} not installed ({error.name})")
            continue
        score = Score()
        for url, html, truth in pages:
            started = time.process_time()
            try:
                extracted = extract(html, url)
            except Exception as error:  # a library's failure on one page is a page with nothing
                print(f"  {name}: {url}: {type(error).__name__}: {error}", file=sys.stderr)
                extracted = ""
            score.add(truth, extracted, time.process_time() - started)
        print(
            f"{name:<12} {_mean(score.precision):>9.3f} {_mean(score.recall):>7.3f} "
            f"{_mean(score.f1):>6.3f} {score.headings:>8} {score.headings_in_truth:>8} "
            f"{score.pages_with_headings:>10} {score.empty:>5} "
            f"{1000 * score.cpu / max(len(pages), 1):>8.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
