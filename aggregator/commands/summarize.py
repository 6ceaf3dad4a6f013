"""``aggregate summarize``: key sentences of one text, or of many as JSON lines.

    aggregate summarize [FILE | URL | -] [--sentences N] [--algorithm NAME] [--language L]
    aggregate summarize --jsonl [--sentences N] ... < texts.jsonl > summaries.jsonl

One text: the summary, section by section -- a section's heading on a line
of its own, then its key sentences one per line, a blank line between
sections.  FILE is an article (``.txt``, ``.md``, ``.html``, read as the
pipeline reads local articles: title line and "Read more" line dropped) or a
feed file (every item, each under ``# its title``); ``-`` or nothing reads the
text from stdin.  A URL is fetched with the project's HTTP client (its limits,
its refusal of private addresses unless ``--allow-private``); a feed is
summarized item by item, and any other page is split into sections like any
HTML.  A document that says it is XML or a feed (an XML declaration, a
DOCTYPE, an ``rss``, ``feed`` or ``rdf:RDF`` root) but is refused (an XML
bomb, an external entity) or not well-formed is that error, as it is for a
source, not a page.  So is JSON (a body starting with ``{``, or served as
JSON) that does not read, or holds no JSON Feed: JSON is never read as a
page.  A response whose type is not text (an image, a PDF, an
octet stream) is refused with one line.  What is printed has no control
characters: a page cannot drive the terminal it is shown on.

``--jsonl``: each stdin line is ``{"id": ..., "text": ...}`` (text or HTML,
optionally ``"language"``), each stdout line ``{"id": ..., "summary":
[sentences...]}`` in input order, headings left out.  A line that cannot be
read gives ``{"id": ..., "error": "..."}`` and exit code 1, and the rest go
on.  Many lines are spread over all cores.

Exit codes: 0 done, 1 a text could not be read or fetched, 2 a usage error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

from ..config import FetchConfig, SummaryConfig
from ..errors import AggregatorError, NotAFeed, ParseError
from ..fetch.local import ARTICLE_SUFFIXES
from ..models import Document, FetchState, ParsedFeed, Summary
from ..redact import printable, redact_url
from ..summarize.extractive import ALGORITHMS, DEFAULT_ALGORITHM, summarize_html
from ..summarize.language import warm_up_detector
from .arguments import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, OneLineArgumentParser

__all__ = ["main"]

# The pipeline's own default (summary.sentences): the command shows what a
# published summary of the same text would be.
DEFAULT_SENTENCES = SummaryConfig().sentences
# With fewer texts than this, worker processes cost more to start than they save.
_POOL_MIN_TEXTS = 64
# Lines read, summarized and written per round: bounded memory for any input.
_BATCH = 8192
_HTML_LANG = re.compile(r"<html\b[^>]*?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)", re.I)


@dataclass(frozen=True, slots=True)
class Settings:
    sentences: int
    max_sentences: int | None
    algorithm: str
    language: str | None

    def summarize(self, html: str, declared: str | None = None) -> Summary:
        """``--language`` if given, else the language the text declares, else detected."""
        return summarize_html(
            html,
            sentences=self.sentences,
            max_sentences=self.max_sentences,
            algorithm=self.algorithm,
            language=self.language or declared,
        )


def _parser() -> argparse.ArgumentParser:
    # Imported here: the command line imports this module lazily, not the reverse.
    parser = OneLineArgumentParser(
        prog="aggregate summarize",
        description="Print the key sentences of an article, section by section.",
    )
    parser.add_argument(
        "input",
        nargs="?",
        default="-",
        metavar="FILE | URL | -",
        help="article or feed file, http(s) URL, or - for stdin (the default)",
    )
    parser.add_argument(
        "--sentences",
        type=_positive,
        default=DEFAULT_SENTENCES,
        metavar="N",
        help=f"key sentences per section (default: {DEFAULT_SENTENCES})",
    )
    parser.add_argument(
        "--max-sentences",
        type=_positive,
        metavar="M",
        help="let long sections have up to M sentences (default: exactly N)",
    )
    parser.add_argument(
        "--algorithm",
        type=str.lower,
        choices=ALGORITHMS,
        default=DEFAULT_ALGORITHM,
        metavar="NAME",
        help=f"one of {', '.join(ALGORITHMS)} (default: {DEFAULT_ALGORITHM})",
    )
    parser.add_argument(
        "--language",
        metavar="L",
        help="language name or ISO code (default: what the text declares, else detected)",
    )
    parser.add_argument(
        "--jsonl",
        action="store_true",
        help='read {"id", "text"} lines on stdin, write {"id", "summary"} lines',
    )
    parser.add_argument(
        "--jobs",
        type=_positive,
        metavar="J",
        help="worker processes for --jsonl (default: one per core)",
    )
    parser.add_argument(
        "--allow-private",
        action="store_true",
        help="let a URL point at a loopback or private address",
    )
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, not {value}")
    return value


def main(
    argv: Sequence[str] | None = None,
    *,
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``aggregate summarize`` with ``argv`` (the arguments after ``summarize``)."""
    args = _parser().parse_args(argv)
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    if args.max_sentences is not None and args.max_sentences < args.sentences:
        print(
            f"aggregate summarize: --max-sentences ({args.max_sentences}) "
            f"is less than --sentences ({args.sentences})",
            file=stderr,
        )
        return EXIT_CONFIG
    settings = Settings(args.sentences, args.max_sentences, args.algorithm, args.language)
    if args.jsonl:
        if args.input != "-":
            print("aggregate summarize: --jsonl reads stdin only", file=stderr)
            return EXIT_CONFIG
        jobs = args.jobs or os.cpu_count() or 1
        return _jsonl(stdin, stdout, stderr, settings, jobs)
    try:
        documents = _read(args.input, stdin, settings, allow_private=args.allow_private)
    except (AggregatorError, OSError) as error:
        print(f"aggregate summarize: {printable(_describe(error))}", file=stderr)
        return EXIT_FAILED
    # What a page says goes to a terminal: its ESC and BEL sequences must not
    # (they retitle windows, clear screens, and worse).
    for index, (title, summary) in enumerate(documents):
        if index:
            print(file=stdout)
        if title is not None:
            print(f"# {printable(title)}", file=stdout)
            print(file=stdout)
        stdout.write(printable(format_summary(summary)))
    return EXIT_OK


def format_summary(summary: Summary) -> str:
    """Each section's heading (if any) then its sentences, one per line; blank lines between."""
    blocks = []
    for section in summary.sections:
        lines = [section.heading] if section.heading else []
        lines.extend(section.sentences)
        if lines:
            blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


# --- one text -------------------------------------------------------------------


def _read(
    source: str, stdin: TextIO, settings: Settings, *, allow_private: bool
) -> list[tuple[str | None, Summary]]:
    """(title or None, summary) for the one article, or for each item of a feed."""
    if source == "-":
        return [(None, settings.summarize(stdin.read()))]
    if source.lower().startswith(("http://", "https://")):
        document = asyncio.run(_fetch(source, allow_private))
        return _summarize_document(document, settings, local=False)
    path = Path(source)
    limit = FetchConfig().max_bytes  # the cap every source has
    with path.open("rb") as file:
        body = file.read(limit + 1)
    if len(body) > limit:
        raise ParseError(source, f"the file is over the {limit} byte cap")
    return _summarize_document(Document(str(path), body), settings, local=True)


async def _fetch(url: str, allow_private: bool) -> Document:
    from ..fetch.http import HttpFetcher

    async with HttpFetcher(FetchConfig()) as fetcher:
        fetched = await fetcher.fetch(url, url, FetchState(), allow_private=allow_private)
    if not fetched.documents:
        raise ParseError(redact_url(url), "the server sent no body")
    document = fetched.documents[0]
    if not _is_text(document):
        kind = (document.content_type or "").split(";")[0].strip() or "a body with NUL bytes"
        raise ParseError(
            redact_url(url), f"{kind} is not text; only text, HTML, XML and JSON are summarized"
        )
    return document


def _is_text(document: Document) -> bool:
    """Whether the declared type is text, or, undeclared, the body looks like it."""
    mime = (document.content_type or "").split(";")[0].strip().lower()
    if not mime:
        return b"\x00" not in document.body[:4096]
    return (
        mime.startswith("text/")
        or mime in ("application/xml", "application/json")
        or mime.endswith(("+xml", "+json"))
    )


def _summarize_document(
    document: Document, settings: Settings, *, local: bool
) -> list[tuple[str | None, Summary]]:
    from ..parse import parse_document

    if local and Path(document.location).suffix.lower() in ARTICLE_SUFFIXES:
        [item] = parse_document(document, document.location, local=True).items
        return [(None, settings.summarize(item.content_html, item.language))]
    if _looks_like_json(document):
        # JSON is never a page: read as one, its braces, keys and quotes
        # would be printed as the article.  A JSON Feed is summarized item by
        # item; any other JSON, or JSON that does not read, is that error.
        return _feed_summaries(parse_document(document, document.location, local=False), settings)
    if not _looks_like_page(document):
        feed: ParsedFeed | None
        try:
            feed = parse_document(document, document.location, local=False)
        except NotAFeed:
            feed = None  # XHTML served as XML, XML of another kind: read as a page
        except ParseError:
            # A feed refused (an XML bomb, XXE) or broken: read as a page, its
            # DTD and markup would be printed as if they were the article.
            if _looks_like_feed(document):
                raise
            feed = None
        if feed is not None and feed.items:
            return _feed_summaries(feed, settings)
    # A web page, or a file that is no feed: its text, split along its headings,
    # in the language the page declares (<html lang="uk">), if it does.
    page = _decode(document)
    declared = _HTML_LANG.search(page[:4096])
    return [(None, settings.summarize(page, declared[1] if declared else None))]


def _feed_summaries(feed: ParsedFeed, settings: Settings) -> list[tuple[str | None, Summary]]:
    return [
        (item.title or None, settings.summarize(item.content_html, item.language or feed.language))
        for item in feed.items
    ]


def _looks_like_json(document: Document) -> bool:
    """Whether the document says it is JSON: it starts with "{", or its type
    (application/json, application/feed+json; a file's ``.json`` name) says
    JSON and it does not start with "<" (the bytes decide, as for a source:
    XML labelled JSON is XML).

    A body starting with "[" says JSON only with such a type: as text
    ("[Updated] The council...") it is as likely a page.
    """
    body = document.body[:1024].lstrip()
    while body.startswith(b"\xef\xbb\xbf"):
        body = body[3:].lstrip()
    if body.startswith(b"{"):
        return True
    if document.content_type is None:
        typed = Path(document.location).suffix.lower() == ".json"
    else:
        mime = document.content_type.split(";")[0].strip().lower()
        typed = mime.endswith(("/json", "+json"))
    return typed and not body.startswith(b"<")


def _looks_like_page(document: Document) -> bool:
    content_type = (document.content_type or "").lower()
    head = document.body.lstrip()[:200].lower()
    return "html" in content_type or head.startswith((b"<!doctype html", b"<html"))


# A feed's first markup: an XML declaration, a DOCTYPE (an HTML one makes a
# page, see _looks_like_page), or the root element of RSS, Atom or RSS 1.0.
_FEED_START = re.compile(rb"<(?:\?xml|!doctype|(?:[\w.-]+:)?(?:rss|feed|rdf)\b)", re.I)


def _looks_like_feed(document: Document) -> bool:
    """Whether the document says it is XML or a feed, so that one that fails
    to parse is that failure and not a page; plain text or a fragment of HTML
    is not."""
    body = document.body.lstrip()
    # The parser repairs whitespace and byte-order marks before the XML
    # declaration: look past them too.
    while body.startswith(b"\xef\xbb\xbf"):
        body = body[3:].lstrip()
    return _FEED_START.match(body) is not None


def _decode(document: Document) -> str:
    """The page's text in its header's charset; UTF-8 when it names none or
    no text encoding (a stray byte, ``undefined``: see :mod:`..parse.charsets`)."""
    from ..parse.charsets import text_codec

    codec = None
    for part in (document.content_type or "").split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            codec = text_codec(value.strip().strip("\"'"))
    return document.body.decode(codec or "utf-8", errors="replace")


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error)


# --- JSON lines -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Job:
    text: str
    language: str | None


def _jsonl(stdin: TextIO, stdout: TextIO, stderr: TextIO, settings: Settings, jobs: int) -> int:
    failed = False
    executor: Executor | None = None
    try:
        for batch in _batches(_records(stdin), _BATCH):
            texts = [(number, record) for number, record in batch if isinstance(record, _Record)]
            work = [(settings, _Job(r.text, r.language)) for _, r in texts]
            if executor is None and jobs > 1 and len(work) >= _POOL_MIN_TEXTS:
                if settings.language is None:
                    warm_up_detector()  # forked workers inherit the loaded model
                executor = ProcessPoolExecutor(max_workers=jobs)
            results: Iterable[list[str]]
            if executor is not None and len(work) >= _POOL_MIN_TEXTS:
                chunk = max(1, len(work) // (jobs * 8))
                results = executor.map(_summarize_job, work, chunksize=chunk)
            else:
                results = map(_summarize_job, work)
            summaries = iter(results)
            for number, record in batch:
                if isinstance(record, _Record):
                    line: dict[str, Any] = {"id": record.id, "summary": next(summaries)}
                else:
                    failed = True
                    print(f"aggregate summarize: line {number}: {record.error}", file=stderr)
                    line = {"id": record.id, "error": record.error}
                stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
            stdout.flush()
    finally:
        if executor is not None:
            executor.shutdown()
    return EXIT_FAILED if failed else EXIT_OK


@dataclass(frozen=True, slots=True)
class _Record:
    id: Any
    text: str
    language: str | None


@dataclass(frozen=True, slots=True)
class _BadLine:
    id: Any
    error: str


def _records(lines: Iterable[str]) -> Iterator[tuple[int, _Record | _BadLine]]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except ValueError as error:
            yield number, _BadLine(None, f"not JSON: {error}")
            continue
        if not isinstance(value, dict):
            yield number, _BadLine(None, "expected an object with 'id' and 'text'")
            continue
        text, language = value.get("text"), value.get("language")
        if not isinstance(text, str):
            yield number, _BadLine(value.get("id"), "'text' must be a string")
            continue
        yield (
            number,
            _Record(value.get("id"), text, language if isinstance(language, str) else None),
        )


def _batches(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def _summarize_job(job: tuple[Settings, _Job]) -> list[str]:
    settings, text = job
    summary = settings.summarize(text.text, text.language)
    return [sentence for section in summary.sections for sentence in section.sentences]
