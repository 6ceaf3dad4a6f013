"""Both readers over a directory of feeds: where the fast one claims a document, the same feed?

    every file under DIR  |  parse_document as feedparser alone reads it (feedparser_only)
      |  parse_document as it runs (the fast reader first)  |  compare the two ParsedFeeds
      |  claimed / equal / differing, and why the rest were declined

Usage::

    python benchmarks/parse_differential.py DIR [--show 20] [--headers plain|http|both]

DIR is any tree of feed documents, for instance feedparser's own test corpus
(``tests/wellformed``, ``tests/illformed``, ``tests/encoding``,
``tests/entities`` of https://github.com/kurtmckee/feedparser), which is not
part of this repository.  Each document is parsed as served with
``application/xml`` (``--headers plain``), and again as served with
``text/xml; charset=utf-8`` and ``Content-Language: en-US`` (``http``).  A
document that both readers refuse is equal when the errors are.

The script exits 1 when any claimed document parses to another feed than
feedparser makes of it: the fast reader must then read it alike, or decline it.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aggregator.errors import ParseError
from aggregator.models import Document, ParsedFeed
from aggregator.parse import feed as feed_module
from aggregator.parse import parse_document
from aggregator.parse.wellformed import Declined, read_wellformed
from aggregator.parse.xmlguard import prepare_xml

HEADERS = {
    "plain": ("application/xml", ()),
    "http": ("text/xml; charset=utf-8", (("content-language", "en-US"),)),
}
SUFFIXES = {".xml", ".rdf", ".atom", ".rss"}


def parse(document: Document) -> ParsedFeed | str:
    try:
        return parse_document(document, "differential", local=False)
    except ParseError as error:
        return f"ParseError: {error}"


def decline_reason(document: Document) -> str:
    """Why the fast reader declined ``document`` (as parse_feed gives it the bytes)."""
    try:
        prepared = prepare_xml(document.body, "differential")
    except ParseError:
        return "refused before reading (xmlguard)"
    headers = dict(document.headers)
    headers["content-location"] = document.location
    headers["content-type"] = document.content_type or "application/xml"
    result = read_wellformed(prepared.body, headers, feed_module._RULES)
    if isinstance(result, Declined):
        reason = result.reason
        # group "not well-formed to lxml: <detail>" and the like by their start
        return reason.split(":")[0] if reason.startswith("not well-formed") else reason
    return "claimed only in part (max_items, known entries) or an error before reading"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--show", type=int, default=20, help="differing documents to list")
    parser.add_argument("--headers", choices=["plain", "http", "both"], default="both")
    args = parser.parse_args(argv)
    paths = sorted(
        path for path in args.directory.rglob("*") if path.is_file() and path.suffix in SUFFIXES
    )
    variants = ["plain", "http"] if args.headers == "both" else [args.headers]
    counts: collections.Counter[str] = collections.Counter()
    reasons: collections.Counter[str] = collections.Counter()
    differing: list[str] = []
    cpu = {"feedparser": 0.0, "as it runs": 0.0}
    for path in paths:
        body = path.read_bytes()
        for variant in variants:
            content_type, headers = HEADERS[variant]
            document = Document(
                f"http://example.org/{path.name}", body, content_type, headers=headers
            )
            start = time.process_time()
            with feed_module.feedparser_only():
                expected = parse(document)
            middle = time.process_time()
            before = feed_module.READERS["lxml"]
            actual = parse(document)
            cpu["feedparser"] += middle - start
            cpu["as it runs"] += time.process_time() - middle
            counts["documents"] += 1
            if feed_module.READERS["lxml"] == before:
                reasons[decline_reason(document)] += 1
                continue
            counts["claimed"] += 1
            if actual == expected:
                counts["equal"] += 1
            else:
                counts["differing"] += 1
                differing.append(f"{path} ({variant})")
    print(
        f"{counts['documents']} documents ({len(paths)} files x {len(variants)} header sets): "
        f"claimed {counts['claimed']}, equal {counts['equal']}, differing {counts['differing']}"
    )
    print(
        f"parse CPU: feedparser alone {cpu['feedparser']:.2f} s, "
        f"as it runs {cpu['as it runs']:.2f} s"
    )
    print("declined, by reason:")
    for reason, count in reasons.most_common(25):
        print(f"  {count:6d}  {reason}")
    for line in differing[: args.show]:
        print(f"DIFFERS: {line}")
    return 1 if differing else 0


if __name__ == "__main__":
    sys.exit(main())
