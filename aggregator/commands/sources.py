"""``aggregate import``, ``add`` and ``remove``: sources managed without editing YAML.

    aggregate import FILE.opml | URL [-c FILE] [--section S]
    aggregate add URL --section S [--name N] [--header 'NAME: VALUE' ...] [-c FILE]
    aggregate remove NAME [-c FILE]

Each edits the configuration file in place (:mod:`aggregator.feeds_file`:
comments and order kept, written atomically, only if the result is a valid
configuration; edits take turns, each made to the file as it is when its
turn comes).  A URL is fetched with the project's HTTP client, its
limits and its refusal of private addresses unless the configuration's
``allow_private`` says otherwise.  ``add`` fetches the feed once, to check
that it is one and to take its title as the name when none is given; given
a site's page instead, it adds the first feed the page names
(:mod:`aggregator.parse.discover`).  ``--header`` gives the new source
headers of its own (a feed behind ``Authorization`` or a cookie): they are
sent with that fetch, to the URL's origin only as every poll sends them,
and written under the source; their values are never printed.

A running daemon picks the change up on SIGHUP (``systemctl reload``).

Exit codes: 0 done, 1 nothing was changed (the list or feed could not be
read, the source is already there or is not there, the file could not be
written), 2 a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from ..config import (
    DEFAULT_CONFIG,
    FetchConfig,
    PrivateHosts,
    headers_written,
    private_hosts_written,
    same_name_key,
)
from ..errors import AggregatorError, ConfigError, NotAFeed, ParseError
from ..feeds_file import FeedsFile, NewSource, edit_lock
from ..models import Document, FetchState
from ..redact import name_problem, printable, redact_url
from ..request_headers import (
    NO_HEADERS,
    ScopedHeaders,
    SourceHeaders,
    header_line,
    with_defaults,
)
from ..subscribe import plan_import, source_name, url_key
from .arguments import EXIT_CONFIG, EXIT_FAILED, EXIT_OK, OneLineArgumentParser

if TYPE_CHECKING:
    from ..parse.opml import Skipped

__all__ = ["COMMANDS", "main"]

COMMANDS = ("import", "add", "remove")
DEFAULT_SECTION = "News"  # for imported feeds in no folder


def _parser(command: str) -> argparse.ArgumentParser:
    prog = f"aggregate {command}"
    if command == "import":
        parser = OneLineArgumentParser(
            prog=prog,
            description="Add the feeds of an OPML subscription list (newsboat -e, Miniflux, "
            "FreshRSS, ...) to the configuration; those already there are skipped.",
        )
        parser.add_argument("opml", metavar="FILE | URL", help="OPML file, or http(s) URL of one")
        parser.add_argument(
            "--section",
            default=DEFAULT_SECTION,
            metavar="S",
            help=f"section of the feeds in no folder (default: {DEFAULT_SECTION}); "
            "the others go to their folder's (or category's) section",
        )
    elif command == "add":
        parser = OneLineArgumentParser(
            prog=prog,
            description="Fetch a feed once, to check that it is one, and add it to the "
            "configuration.",
        )
        parser.add_argument(
            "url", metavar="URL", help="the feed's http(s) URL, or a page that names its feed"
        )
        parser.add_argument(
            "--section", required=True, metavar="S", help="section of the merged feed it joins"
        )
        parser.add_argument("--name", metavar="N", help="its name (default: the feed's own title)")
        parser.add_argument(
            "--header",
            action="append",
            default=[],
            metavar="'NAME: VALUE'",
            help="a request header of its own, such as 'Authorization: Bearer TOKEN' "
            "(repeatable): sent to the feed's origin when it is fetched, now and at each poll, "
            "and written under it in the configuration",
        )
    else:
        parser = OneLineArgumentParser(
            prog=prog,
            description="Take a source out of the configuration; its stored items stay "
            "(unpublished).",
        )
        parser.add_argument("name", metavar="NAME", help="the source's name")
    parser.add_argument(
        "-c",
        "--config",
        type=Path,
        default=DEFAULT_CONFIG,
        help="configuration file to edit (default: feeds.yaml; created if missing)",
    )
    return parser


def main(argv: Sequence[str], *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run ``aggregate import|add|remove`` (``argv`` starts with the command)."""
    command, arguments = argv[0], list(argv[1:])
    args = _parser(command).parse_args(arguments)
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        if command == "import":
            return _import(args.config, args.opml, args.section, out)
        if command == "add":
            return _add(args.config, args.url, args.section, args.name, args.header, out)
        return _remove(args.config, args.name, out)
    except ConfigError as error:
        print(f"aggregate {command}: configuration error: {printable(str(error))}", file=err)
        return EXIT_CONFIG
    except _Refused as error:
        print(f"aggregate {command}: {printable(str(error))}", file=err)
        return EXIT_FAILED
    except (AggregatorError, OSError) as error:
        print(f"aggregate {command}: {printable(_describe(error))}", file=err)
        return EXIT_FAILED


class _Refused(Exception):
    """Nothing to do: the source is already there, or is not."""


@dataclass(frozen=True, slots=True)
class _Fetching:
    """How URLs are fetched for the configuration being edited."""

    settings: FetchConfig
    allow_private: PrivateHosts
    headers: SourceHeaders = NO_HEADERS  # the top-level ones, every URL source's defaults


def _fetching(feeds: FeedsFile) -> _Fetching:
    """How the configuration fetches, checking it first: an invalid one is not
    edited, but one that has no sources yet (or no file) is where one starts."""
    if feeds.sources:
        config = feeds.config()
        return _Fetching(config.fetch, config.allow_private, config.headers)
    # What the edited file will say is checked when it is saved.
    return _Fetching(
        FetchConfig(),
        private_hosts_written(feeds.setting("allow_private")),
        headers_written(feeds.setting("headers")),
    )


def _import(path: Path, location: str, default_section: str, out: TextIO) -> int:
    from ..parse.opml import read_opml

    _check_name(default_section, "--section")
    feeds = FeedsFile.read(path)
    config = _fetching(feeds)
    if location.lower().startswith(("http://", "https://")):
        document = asyncio.run(_fetch(location, config))
        body, shown = document.body, redact_url(location)
    else:
        body, shown = _read_file(Path(location), config), location
    subscriptions, left_out = read_opml(body, shown)
    if not subscriptions and left_out:
        # Each outline that was there says why it was not taken, as in an
        # import that adds some.
        _print_skipped(left_out, out)
        raise _Refused(f"{shown}: the list has no feeds to add ({len(left_out)} skipped)")
    if not subscriptions:
        raise _Refused(f"{shown}: the list has no feeds (no outline with an http(s) xmlUrl)")
    with edit_lock(path):
        feeds = feeds.current()
        plan = plan_import(feeds.sources, subscriptions, default_section)
        for source in plan.added:
            feeds.add(source)
        if plan.added:
            feeds.save()
    for source in plan.added:
        paused = ", paused" if not source.enabled else ""
        print(
            printable(f"added {source.name} ({source.section}{paused}): {redact_url(source.url)}"),
            file=out,
        )
    for title, reason in plan.skipped:
        print(printable(f"skipped {title}: {reason}"), file=out)
    _print_skipped(left_out, out)
    print(
        f"{len(plan.added)} added to {path}, {len(plan.skipped) + len(left_out)} skipped",
        file=out,
    )
    return EXIT_OK


def _print_skipped(left_out: list[Skipped], out: TextIO) -> None:
    for skipped in left_out:
        print(printable(f"skipped {skipped.title}: {skipped.reason}"), file=out)


def _add(
    path: Path, url: str, section: str, name: str | None, header_lines: list[str], out: TextIO
) -> int:
    from ..parse import parse_document
    from ..parse.discover import feed_links

    # Before anything is read or fetched: a bad header is the command's error.
    headers = _own_headers(header_lines, url)
    feeds = FeedsFile.read(path)
    config = _fetching(feeds)
    if not section.strip():
        raise ConfigError("--section must not be empty", key="--section")
    if name is not None and not name.strip():
        raise ConfigError("--name must not be empty", key="--name")
    _check_name(section, "--section")
    if name is not None:
        _check_name(name, "--name")
    _refuse_taken(feeds, url, name)
    document = asyncio.run(_fetch(url, config, _as_source(headers, config, url)))
    shown = redact_url(url)
    try:
        feed = parse_document(document, shown, local=False)
    except NotAFeed as error:
        # A site's page rather than its feed: the feed it names, as Miniflux
        # and FreshRSS find it.
        found = feed_links(document)
        if not found:
            raise ParseError(shown, f"not a feed, and names none: {error.message}") from None
        others = found[1:]
        more = f" (and {len(others)} more: {', '.join(map(redact_url, others))})" if others else ""
        print(printable(f"{shown} is a page; its feed: {redact_url(found[0])}{more}"), file=out)
        _refuse_elsewhere(headers, url, found[0])
        url, shown = found[0], redact_url(found[0])
        _refuse_taken(feeds, url, name)
        document = asyncio.run(_fetch(url, config, _as_source(headers, config, url)))
        try:
            feed = parse_document(document, shown, local=False)
        except ParseError as error:
            raise ParseError(shown, f"not a feed: {error.message}") from None
    except ParseError as error:
        raise ParseError(shown, f"not a feed: {error.message}") from None
    with edit_lock(path):
        # The file as it is now: another add may have come while this one fetched.
        feeds = feeds.current()
        _refuse_taken(feeds, url, name)
        if name is None:
            taken = {listed.name for listed in feeds.sources if listed.name is not None}
            name = source_name(feed.title or "", url, taken)
        feeds.add(NewSource(name=name, url=url, section=section, headers=headers))
        feeds.save()
    items = len(feed.items)
    # Their names only: a value is a credential as often as not.
    own = f", with its headers {', '.join(n for n, _v in headers)}" if headers else ""
    print(printable(f"added {name} ({section}): {shown}, {items} items now{own}"), file=out)
    return EXIT_OK


def _own_headers(lines: list[str], url: str) -> SourceHeaders:
    """``--header`` options as the new source's headers; ConfigError naming
    the option (exit 2) for one the configuration would refuse, never with
    its value."""
    pairs: list[tuple[str, str]] = []
    for line in lines:
        try:
            name, value = header_line(line)
        except ValueError as error:
            raise ConfigError(str(error), key="--header") from None
        if name.lower() in {given.lower() for given, _value in pairs}:
            raise ConfigError(f"header '{name}' given twice (names ignore case)", key="--header")
        if name.lower() == "authorization" and "@" in urlsplit(url).netloc:
            raise ConfigError(
                "the URL's user and password are its Authorization already; give one or the other",
                key="--header",
            )
        pairs.append((name, value))
    return SourceHeaders(tuple(pairs))


def _as_source(headers: SourceHeaders, config: _Fetching, url: str) -> ScopedHeaders | None:
    """What a source at ``url`` with ``headers`` of its own sends, as its polls
    will: those and the file's defaults, to its origin only.  Only ``add``
    sends them: an OPML list's URL (``import``) is no source, and gets none."""
    return ScopedHeaders.of(with_defaults(headers, config.headers, url), url)


def _refuse_elsewhere(headers: SourceHeaders, page: str, feed: str) -> None:
    """A page's feed on another origin gets none of the headers given for the
    page's: they were given for where the user pointed, and the page's author
    chose the feed's address."""
    scope = ScopedHeaders.of(headers, page)
    if scope is not None and not scope.reaches(feed):
        raise _Refused(
            f"{redact_url(feed)} is on another origin than {redact_url(page)}, and "
            "--header is sent to the URL's origin only: add the feed's own URL"
        )


def _refuse_taken(feeds: FeedsFile, url: str, name: str | None) -> None:
    # The URL's and name's keys made once, not once for each of 10,000 sources.
    wanted_url = url_key(url)
    wanted_name = same_name_key(name) if name is not None else None
    for listed in feeds.sources:
        if listed.url is not None and url_key(listed.url) == wanted_url:
            raise _Refused(f"{redact_url(url)} is already in {feeds.path} as '{listed.name}'")
        if (
            wanted_name is not None
            and listed.name is not None
            and same_name_key(listed.name) == wanted_name
        ):
            raise _Refused(f"a source named '{name}' is already in {feeds.path}")


def _remove(path: Path, name: str, out: TextIO) -> int:
    # No source has such a name; "no source named ..." would print it.
    _check_name(name, "NAME")
    if not path.exists():
        raise ConfigError("configuration file not found", path=str(path))
    with edit_lock(path):
        feeds = FeedsFile.read(path)
        feeds.config()  # an invalid file is left for its author to fix
        if not feeds.remove(name):
            names = [s.name for s in feeds.sources if s.name]
            hint = _closest(name, names)
            raise _Refused(f"no source named '{name}' in {path}{hint}")
        if not feeds.sources:
            raise _Refused(f"'{name}' is the last source; {path} needs at least one")
        feeds.save()
    print(printable(f"removed {name} from {path}; its stored items are kept"), file=out)
    return EXIT_OK


def _check_name(value: str, option: str) -> None:
    """Refuse a name or section typed on the command line that the
    configuration would refuse: better said of the option than of the file."""
    problem = name_problem(value)
    if problem is not None:
        raise ConfigError(problem, key=option)


def _closest(name: str, names: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name, names, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _read_file(path: Path, config: _Fetching) -> bytes:
    limit = config.settings.max_bytes
    with path.open("rb") as file:
        body = file.read(limit + 1)
    if len(body) > limit:
        raise ParseError(str(path), f"the file is over the {limit} byte cap")
    return body


async def _fetch(url: str, config: _Fetching, headers: ScopedHeaders | None = None) -> Document:
    from ..fetch.http import HttpFetcher

    async with HttpFetcher(config.settings) as fetcher:
        fetched = await fetcher.fetch(
            url, url, FetchState(), allow_private=config.allow_private, headers=headers
        )
    if not fetched.documents:
        raise ParseError(redact_url(url), "the server sent no body")
    return fetched.documents[0]


def _describe(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error)
