"""One round of the ``reader`` library, the yardstick of benchmarks/pipeline.py.

    python benchmarks/reader_round.py DB URLS_FILE [--workers 16]

Opens (or creates) the reader database ``DB``, subscribes to every URL of
``URLS_FILE`` (one a line) that it does not hold yet, and updates every feed
once: ``update_feeds_iter(workers=16, scheduled=False)``, the loop
``update_feeds`` itself runs, kept here so the round can count what happened.
reader fetches (conditional GET with the stored ETag / Last-Modified), parses
and stores entries; it neither summarizes nor publishes.

``scheduled=False`` updates every feed whatever its ``update_after``: that is
where reader keeps both its own update interval (60 minutes by default) and a
server's ``Retry-After``, so the round never skips a feed.  reader itself
never sleeps between requests and has no other rate limiting.

reader parses with its own vendored copy of feedparser, which imports
``sgmllib`` (the ``sgmllib3k`` package).  feedparser 6.0.12 and later depend
on ``feedparser-sgmllib`` instead, so an environment resolved today may lack
it; then the round says so and uses the installed feedparser
(``READER_NO_VENDORED_FEEDPARSER=1``, reader's own switch), as it does when
that variable is set.

It prints one total line, which names the feedparser used::

    1000 feeds, 0 failed; 30000 new entries, 0 modified; 1000 updated, 0 not modified; \
vendored feedparser 6.0.11

and exits 0, or 1 when any feed failed (the first few errors on stderr), or 3
when ``reader`` cannot be imported.  pipeline.py runs this script as its own
process so that it measures wall time, CPU time and memory the same way as
for ``aggregate --once``.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

NOT_IMPORTABLE = 3


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path, help="reader database (created when missing)")
    parser.add_argument("urls", type=Path, help="file of feed URLs, one a line")
    parser.add_argument("--workers", type=int, default=16, help="fetch threads (default 16)")
    args = parser.parse_args(argv)

    try:
        from reader import make_reader
    except ImportError as error:
        print(f"reader is not importable: {error}", file=sys.stderr)
        return NOT_IMPORTABLE
    parser_used = _choose_feedparser()

    urls = [line.strip() for line in args.urls.read_text().splitlines() if line.strip()]
    failed = updated = not_modified = new = modified = 0
    errors: list[str] = []
    with make_reader(str(args.db)) as reader:
        known = {feed.url for feed in reader.get_feeds()}
        for url in urls:
            if url not in known:
                reader.add_feed(url)
        for url, value in reader.update_feeds_iter(workers=args.workers, scheduled=False):
            if value is None:
                not_modified += 1
            elif isinstance(value, Exception):
                failed += 1
                errors.append(f"{url}: {value!r} (cause: {value.__cause__!r})")
            else:
                updated += 1
                new += value.new
                modified += value.modified
    for line in errors[:5]:
        print("error", line, file=sys.stderr)
    print(
        f"{len(urls)} feeds, {failed} failed; {new} new entries, {modified} modified; "
        f"{updated} updated, {not_modified} not modified; {parser_used}"
    )
    return 1 if failed else 0


def _choose_feedparser() -> str:
    """Which feedparser reader will parse with: its vendored copy when that
    imports, else the installed one (see the module docstring)."""
    if os.environ.get("READER_NO_VENDORED_FEEDPARSER", "") in ("", "0"):
        try:
            from reader._vendor import feedparser as vendored
        except ImportError as error:
            print(
                f"reader's vendored feedparser is not importable ({error}); "
                "using the installed feedparser",
                file=sys.stderr,
            )
            os.environ["READER_NO_VENDORED_FEEDPARSER"] = "1"
        else:
            return f"vendored feedparser {vendored.__version__}"
    import feedparser

    return f"feedparser {feedparser.__version__}"


if __name__ == "__main__":
    raise SystemExit(main())
