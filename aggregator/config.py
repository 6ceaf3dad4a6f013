"""``feeds.yaml`` -> a validated :class:`Config`.

Every problem is one :class:`~aggregator.errors.ConfigError` naming the file,
the line and the key, so the command line can print it on one line and exit 2.
Relative paths in the file are relative to the file's own directory, so the
same configuration works from any working directory.

PyYAML is imported here only.  :mod:`aggregator.feeds_file`, which edits the
file's text where the nodes composed here say each source is, reads those
nodes through the names this module gives PyYAML's node types
(:data:`MappingNode`...), and builds, writes and reads back values with
:func:`node_value`, :func:`emit_yaml` and :func:`reads_as_itself`.
"""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

import yaml

from .addresses import host_name
from .errors import ConfigError
from .filters import ACTIONS, FIELDS, NO_FILTERS, Filters, Rule, compile_pattern
from .redact import mask_password, name_problem, redact_text, redact_url
from .request_headers import (
    NO_HEADERS,
    SourceHeaders,
    header_name_problem,
    header_value_problem,
    with_defaults,
)

log = logging.getLogger(__name__)

DEFAULT_CONFIG = Path("feeds.yaml")
# State lives beside feeds.yaml, never in the output directory, which is
# meant to be served as it is.
DEFAULT_STORE = Path(".aggregator") / "aggregator.db"
DEFAULT_OUTPUT_DIR = "out"
STORE_IN_OUTPUT = (
    "the store {store} is inside the output directory {out}, which is published; "
    "put it elsewhere (default: .aggregator/aggregator.db beside feeds.yaml)"
)

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]?i?b?)\s*$", re.IGNORECASE)
_SIZE_FACTOR = {"": 1, "b": 1, "k": 1000, "m": 1000**2, "g": 1000**3}
# Bounds that keep values inside what the scheduler, datetime arithmetic and
# SQLite can hold (a window of a million years overflows them): far beyond
# any sensible setting, so only a typo meets them.
MAX_DURATION = 365 * 86400.0
MAX_COUNT = 1_000_000_000
MAX_ENTRIES = 100_000  # entries per published feed: every one is rendered on each publish
# No source is polled more often: a sub-second interval would keep the
# daemon busy scheduling polls and nothing else.
MIN_POLL_INTERVAL = 1.0


@dataclass(frozen=True, slots=True)
class PostgresURL:
    """Where a PostgreSQL store is: a libpq URL (``postgresql://user@host:port/dbname``).

    Printed (``str``, ``repr``, error lines, logs) with its password masked;
    only the store's connection reads :attr:`url` itself.
    """

    url: str

    def __str__(self) -> str:
        return mask_password(self.url)

    def __repr__(self) -> str:
        return f"PostgresURL({str(self)!r})"


# The database: a SQLite file, or a PostgreSQL server's database.
StoreLocation = Path | PostgresURL


@dataclass(frozen=True, slots=True)
class SourceConfig:
    """One configured source: a feed URL, or a path/glob of local files."""

    name: str
    section: str
    interval: float  # seconds
    url: str | None = None
    path: str | None = None  # absolute; may be a glob
    allow_private: PrivateHosts = False
    language: str | None = None
    algorithm: str | None = None  # summary algorithm for this source; None: summary.algorithm
    # False pauses the source, as Miniflux's "disabled" does: never polled,
    # its stored items published as before until they age out.
    enabled: bool = True
    filters: Filters = NO_FILTERS  # the top-level rules, then the source's own
    # Whether each new or changed item's page is fetched and its article
    # summarized instead of the feed's text (see aggregator/fulltext).
    full_text: FullText = "off"
    full_text_min_words: int = 150  # "auto": fetch when the feed's text is shorter
    # Sent with the requests to its feed's origin only (see aggregator.request_headers);
    # printed with their values masked.  Its own, then the top-level ones it
    # does not name: everything that sends or masks them reads them here.
    headers: SourceHeaders = NO_HEADERS
    # A CSS selector: the article is what it matches on the page, instead of
    # what the extractor finds (aggregator/article_selector.py); None: the extractor's.
    full_text_selector: str | None = None

    @property
    def location(self) -> str:
        """The URL as configured, credentials and all: for fetching, never for showing
        (see :func:`~aggregator.redact.redact_url`)."""
        return self.url or self.path or ""


# Where a source may reach a loopback, private or other non-public address
# (allow_private): nowhere (False); its feed anywhere, and its article pages
# on its feed's host only (True); or its feed and its pages on these hosts
# only, as addresses.host_name spells them (a list in the file).
# Redirects are checked against it hop by hop (fetch.http.PrivateScope).
PrivateHosts = bool | frozenset[str]

# full_text: true, false or auto (fetch only when the feed's text is short).
FullText = Literal["off", "on", "auto"]
DEFAULT_FULL_TEXT_MIN_WORDS = 150


@dataclass(frozen=True, slots=True)
class OutputConfig:
    dir: Path
    max_entries: int = 200
    keep_tracking: bool = False  # publish links with their utm_*, fbclid, ... parameters


@dataclass(frozen=True, slots=True)
class FetchConfig:
    timeout: float = 30.0  # whole request, seconds
    connect_timeout: float = 10.0
    read_timeout: float = 15.0  # no data for this long: before the answer, or between two reads
    max_bytes: int = 10_000_000  # body after decompression
    max_items: int = 1000  # entries read from one feed document
    max_redirects: int = 5
    concurrency: int = 32  # open connections across all sources
    per_host: int = 4  # open connections to one host
    user_agent: str = "aggregator/0.1 (+https://github.com/aggregator-project/aggregator)"


# The summary algorithms feeds.yaml may name (summary.algorithm and a
# source's algorithm).  The summarize stage implements each one (a test keeps
# the two lists equal); reading the configuration imports no summarizer.
DEFAULT_SUMMARY_ALGORITHM = "positional"
SUMMARY_ALGORITHMS: tuple[str, ...] = (
    DEFAULT_SUMMARY_ALGORITHM,
    "lead",
    "lexrank",
    "textrank",
    "lsa",
    "luhn",
    "kl",
    "sumbasic",
    "edmundson",
)


@dataclass(frozen=True, slots=True)
class SummaryConfig:
    sentences: int = 2  # per article section; news sections are short
    # Long sections get one more sentence per `words_per_sentence` words, up to
    # `max_sentences` (equal to `sentences`: every section gets `sentences`).
    max_sentences: int = 4
    words_per_sentence: int = 150
    # The default was chosen by measurement: see benchmarks/summaries.py.
    algorithm: str = DEFAULT_SUMMARY_ALGORITHM
    language: str = "auto"  # when neither the item nor the source says: detect it


@dataclass(frozen=True, slots=True)
class DedupConfig:
    """When two copies that differ are one story (see aggregator/dedup/near.py)."""

    window: float = 3 * 86400.0  # seconds: copies further apart are never compared
    short_window: float = 86400.0  # the same for short copies (a title, a teaser)
    threshold: float = 0.6  # text similarity of long copies
    title_threshold: float = 0.7  # title similarity of short copies
    short_words: int = 50  # copies with fewer words of text are short
    lead: str = "earliest"  # whose title and text an entry shows: "earliest" or "complete"


@dataclass(frozen=True, slots=True)
class DigestConfig:
    window: float = 86400.0  # seconds; one digest per section and window
    sentences: int = 5  # 0: no digests


@dataclass(frozen=True, slots=True)
class ServeConfig:
    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True, slots=True)
class ClusterConfig:
    """How the processes sharing a PostgreSQL store work together (see aggregator/cluster)."""

    tick: float = 5.0  # seconds between two looks for sources due
    stall_timeout: float = 30.0  # a worker silent this long is dead: its jobs are retried
    concurrency: int = 8  # jobs one worker runs at once (aggregate worker --concurrency)


@dataclass(frozen=True, slots=True)
class WebSubConfig:
    """The WebSub hubs the published feeds name, and tell when they change."""

    hubs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Config:
    path: Path
    sources: tuple[SourceConfig, ...]
    output: OutputConfig
    store: StoreLocation
    title: str = "Aggregated news"
    # None: the daemon's own address (serve.host, serve.port), which is what a
    # reader on this machine subscribes to.
    configured_base_url: str | None = None
    allow_private: PrivateHosts = False  # every source's, unless it sets its own
    fetch: FetchConfig = field(default_factory=FetchConfig)
    summary: SummaryConfig = field(default_factory=SummaryConfig)
    default_interval: float = 1800.0
    min_interval: float = 60.0  # no source is polled more often, whatever it asks
    max_interval: float = 86400.0  # nor less often: the back-off cap
    serve: ServeConfig = field(default_factory=ServeConfig)
    digest: DigestConfig = field(default_factory=DigestConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)
    cluster: ClusterConfig = field(default_factory=ClusterConfig)
    retention: float | None = None  # seconds an item is kept; None: for ever
    websub: WebSubConfig = field(default_factory=WebSubConfig)
    # Article pages fetched in one pass, at most (the rest wait for the next).
    full_text_max_pages: int = 100
    # The top-level headers as written, every URL source's defaults; each
    # source's `headers` has them already, under its own.
    headers: SourceHeaders = NO_HEADERS

    @property
    def base_url(self) -> str:
        """The public URL the published files are served under."""
        if self.configured_base_url:
            return self.configured_base_url
        host = f"[{self.serve.host}]" if ":" in self.serve.host else self.serve.host
        return f"http://{host}:{self.serve.port}/"

    @property
    def sections(self) -> tuple[str, ...]:
        """Section names in the order the sources first name them."""
        return tuple(dict.fromkeys(s.section for s in self.sources))

    @property
    def polled_sources(self) -> tuple[SourceConfig, ...]:
        """The sources to poll: every one but those paused (``enabled: false``)."""
        return tuple(s for s in self.sources if s.enabled)

    @property
    def shared_store(self) -> PostgresURL | None:
        """The PostgreSQL database that processes on many machines share; None: SQLite."""
        return self.store if isinstance(self.store, PostgresURL) else None


@dataclass(frozen=True, slots=True)
class Overrides:
    """What the command line sets in place of the file's values (``--out``,
    ``--db``, ``--host``, ``--port``): read in their place, so that every
    check of the file (the store inside the output directory above all)
    is made on what will be used."""

    out: Path | None = None
    db: StoreLocation | None = None
    host: str | None = None
    port: int | None = None


NO_OVERRIDES = Overrides()


def read_again(running: Config, started: Config, load: Callable[[], Config]) -> Config | None:
    """SIGHUP's configuration: ``load()`` taken as :func:`reloaded` says, what
    needs a restart logged; None (logged) when the file cannot be used, and
    the running configuration is kept."""
    try:
        loaded = load()
    except ConfigError as error:
        log.error("SIGHUP: the running configuration is kept: %s", error)
        return None
    config, kept = reloaded(running, started, loaded)
    for key in kept:
        log.warning("SIGHUP: '%s' changed; it takes effect at the next restart", key)
    return config


def reloaded(running: Config, started: Config, loaded: Config) -> tuple[Config, tuple[str, ...]]:
    """The configuration a running daemon takes from ``loaded`` (feeds.yaml read
    again, with the command line's overrides), and the keys it cannot take.

    What the daemon made at start stays as it is until a restart: the store it
    opened, the address it listens on, the output directory it serves, its
    HTTP client (``fetch``) and its cluster settings; each that ``loaded``
    changes, compared with ``started`` (the configuration it started with), is
    named.  Everything else -- the sources above all, then titles, summary,
    digest, dedup and interval settings -- is ``loaded``'s."""
    restart = {
        "store": loaded.store != started.store,
        "serve": loaded.serve != started.serve,
        "output.dir": loaded.output.dir != started.output.dir,
        "fetch": loaded.fetch != started.fetch,
        "cluster": loaded.cluster != started.cluster,
    }
    config = replace(
        loaded,
        path=running.path,
        store=running.store,
        serve=running.serve,
        output=replace(loaded.output, dir=running.output.dir),
        fetch=running.fetch,
        cluster=running.cluster,
    )
    return config, tuple(key for key, changed in restart.items() if changed)


# Each key's default is written once, in its dataclass; the reader takes it
# from there (a slotted dataclass keeps no class attribute to read).
_CONFIG_DEFAULTS: dict[str, Any] = {
    f.name: f.default for f in fields(Config) if f.default is not MISSING
}


def same_name_key(name: str) -> str:
    """What two source names that are one name have in common: their Unicode
    normalization (NFC), so that spellings that look alike are alike."""
    return unicodedata.normalize("NFC", name)


def store_location(text: str, base: Path) -> StoreLocation:
    """Where ``store:`` (or ``--db``) says the database is: a path, relative to
    ``base`` (the configuration's directory), a ``sqlite:`` URL as SQLAlchemy
    spells it (``sqlite:///relative.db``, ``sqlite:////absolute.db``), or a
    PostgreSQL URL as libpq takes it (``postgresql://`` or ``postgres://``).
    Raises ValueError for any other URL."""
    scheme, sep, rest = text.partition("://")
    if not sep or not scheme.replace("+", "").isalpha():
        return (base / text).resolve()  # a plain path, even one with "://" inside a name
    if scheme.lower() in ("postgresql", "postgres"):
        return PostgresURL(text)
    if scheme.lower() != "sqlite":
        raise ValueError(
            f"no store for {scheme}:// URLs; use a path, sqlite:///path (SQLite is built in) "
            "or postgresql://user@host/dbname"
        )
    if not rest.startswith("/") or rest == "/":
        raise ValueError(f"expected sqlite:///path, not {text!r}")
    return (base / rest[1:]).resolve()


def store_is_published(store: StoreLocation, out_dir: Path) -> bool:
    """Whether the database (or its -wal, -shm and .lock files) would be inside
    ``out_dir``; a PostgreSQL database never is."""
    return isinstance(store, Path) and store.resolve().parent.is_relative_to(out_dir.resolve())


# Every key the file may hold, with what it means; README.md documents each
# one and a test keeps the two in step.
TOP_KEYS = {
    "title": "title of the merged feed",
    "base_url": "public URL the published files are served under (self links, ids)",
    "allow_private": "let sources live on loopback or private addresses: true, or a list of hosts",
    "store": "path of the SQLite database, a sqlite:/// URL, or a postgresql:// URL",
    "interval": "default polling interval of a source",
    "min_interval": "shortest time between two polls of a source",
    "max_interval": "longest time between two polls of a source (the back-off cap)",
    "serve": "the daemon's HTTP server",
    "digest": "per-section digests",
    "output": "where and how much to publish",
    "fetch": "HTTP client limits",
    "summary": "summarizer settings",
    "dedup": "near-duplicate detection",
    "cluster": "processes sharing a PostgreSQL store",
    "filters": "rules that leave entries out, for every source",
    "retention": "how long stored items are kept (default: for ever)",
    "websub": "WebSub hubs to announce and ping",
    "full_text": "fetch each item's page and summarize its article: true, false or auto",
    "full_text_min_words": "with full_text: auto, fetch pages of items with fewer words",
    "full_text_max_pages": "most article pages fetched in one pass",
    "full_text_selector": "CSS selector of the article on each item's page, for every source",
    "headers": "request headers of every URL source, under each source's own",
    "sources": "the list of sources",
}
CLUSTER_KEYS = {
    "tick": "how often each process looks for sources due",
    "stall_timeout": "how long a silent worker is waited for before its jobs are retried",
    "concurrency": "jobs one worker runs at once",
}
WEBSUB_KEYS = {"hubs": "URLs of the WebSub hubs"}
DIGEST_KEYS = {
    "window": "one digest per section and window",
    "sentences": "sentences per digest (0: no digests)",
}
SERVE_KEYS = {"host": "address to listen on", "port": "port to listen on"}
OUTPUT_KEYS = {
    "dir": "output directory",
    "max_entries": "entries per published feed",
    "keep_tracking": "publish links with their tracking parameters (utm_*, fbclid, ...)",
}
FETCH_KEYS = {
    "timeout": "total time one request may take",
    "connect_timeout": "time to connect",
    "read_timeout": "time between two reads of the body",
    "max_bytes": "largest body accepted, after decompression",
    "max_items": "most entries read from one feed, the first in document order",
    "max_redirects": "redirects followed",
    "concurrency": "connections open at once",
    "per_host": "connections open at once to one host",
    "user_agent": "User-Agent header",
}
SUMMARY_KEYS = {
    "sentences": "key sentences per article section",
    "algorithm": "summarizer algorithm",
    "language": "default language of the text",
    "max_sentences": "most key sentences a long section gets",
    "words_per_sentence": "one more sentence per this many words of a long section",
}
DEDUP_KEYS = {
    "window": "longest time between two copies of a story",
    "short_window": "the same for short copies (a title alone, a teaser)",
    "threshold": "text similarity that makes two long copies one story",
    "title_threshold": "title similarity that makes two short copies one story",
    "short_words": "copies with fewer words of text are short",
    "lead": "whose title and text an entry shows: earliest or complete",
}
DEDUP_LEADS = ("earliest", "complete")
SOURCE_KEYS = {
    "name": "unique name of the source",
    "url": "feed URL (http or https)",
    "path": "local file, directory or glob (articles or feed files)",
    "section": "section of the merged feed the source belongs to",
    "interval": "polling interval",
    "allow_private": "let this source live on a private address: true, or a list of hosts",
    "language": "language of the source's text",
    "algorithm": "summarizer algorithm for this source",
    "enabled": "false pauses the source: not polled, its stored items still published",
    "filters": "rules that leave this source's entries out, after the top-level ones",
    "full_text": "fetch each item's page and summarize its article: true, false or auto",
    "full_text_min_words": "with full_text: auto, fetch pages of items with fewer words",
    "headers": "request headers sent to the feed's origin (Authorization, Cookie, User-Agent...)",
    "full_text_selector": "CSS selector of the article on this source's item pages",
}


# The most a configuration file may hold.  10,000 sources take 0.86 MB in the
# benchmark's shape (benchmarks/pipeline.py write_config) and 2.6 MB with long
# names and URLs and two options each, so this is some 30,000 to 90,000
# sources, beyond what one file is written for.  What it bounds is the YAML
# parsers' memory, which grows far faster than the file: a valid 8 MB file of
# the densest kind (a flow list of one-letter values) takes PyYAML 1.2 GB, and
# without a cap /dev/zero grew the process to 24 GB before the kernel killed it.
MAX_CONFIG_BYTES = 8_000_000


def read_config_text(path: Path) -> str:
    """The text of the configuration file ``path``, of at most MAX_CONFIG_BYTES.

    Every reader of the configuration reads it through here: a pass, the
    daemon's reload, and the commands that edit it.  No more than the cap and
    one byte is read, so a file that never ends (``/dev/zero``, a FIFO fed
    for ever) is refused too.  Line ends become "\\n", as in text mode:
    ruamel.yaml keeps a comment's "\\r\\n" and writes "\\n" elsewhere, and a
    file it edits would end up with both.

    Raises FileNotFoundError for a missing file (an error for a pass, where
    ``aggregate add`` starts a new one), else ConfigError naming the file."""
    return decode_config(read_config_bytes(path), path)


def read_config_bytes(path: Path) -> bytes:
    """The bytes of :func:`read_config_text`, for an edit that writes them back
    with the line ends they had."""
    try:
        with path.open("rb") as file:
            data = file.read(MAX_CONFIG_BYTES + 1)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConfigError(f"cannot read configuration: {exc}", path=str(path)) from exc
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"the file is over the {MAX_CONFIG_BYTES:,}-byte cap on a configuration",
            path=str(path),
        )
    return data


def decode_config(data: bytes, path: Path) -> str:
    """The text of :func:`read_config_text` from its bytes."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"cannot read configuration: {exc}", path=str(path)) from exc
    return text.replace("\r\n", "\n").replace("\r", "\n")


def load_config(path: Path | str = DEFAULT_CONFIG, overrides: Overrides = NO_OVERRIDES) -> Config:
    """Read and validate a configuration file, with the command line's ``overrides``."""
    path = Path(path)
    try:
        text = read_config_text(path)
    except FileNotFoundError:
        raise ConfigError("configuration file not found", path=str(path)) from None
    return parse_config(text, path, overrides)


# libyaml's parser, where PyYAML was built with it, composes a file of 1,000
# sources in about 12 ms instead of 140 ms; reading the configuration was a
# third of a pass in which nothing changed.  It is used for valid files only:
# on any YAML error the file is read again with the pure-Python parser, so
# the message and line printed stay what they were.
_FAST_LOADER: type[Any] | None = getattr(yaml, "CSafeLoader", None)


def _compose(text: str) -> yaml.Node | None:
    if _FAST_LOADER is not None:
        try:
            return yaml.compose(text, Loader=_FAST_LOADER)
        except yaml.YAMLError:
            pass
    return yaml.compose(text, Loader=yaml.SafeLoader)


# PyYAML's node types, for the modules that read the tree compose_config
# makes (feeds_file: which lines each source takes).  A node's ``value`` is
# its text (a scalar), its children (a sequence) or its (key, value) pairs
# (a mapping); its ``start_mark`` and ``end_mark`` give the line and column,
# counted from 0, where it starts and where it ends.
YamlNode = yaml.Node
ScalarNode = yaml.ScalarNode
CollectionNode = yaml.CollectionNode
SequenceNode = yaml.SequenceNode
MappingNode = yaml.MappingNode


def node_value(node: YamlNode) -> Any:
    """The value a node stands for, built as loading its text would build it."""
    return yaml.constructor.SafeConstructor().construct_object(node, deep=True)


def emit_yaml(data: object, *, flow: bool) -> str:
    """``data`` as PyYAML's emitter writes it (in flow style or block style), keys
    in their order, no line folded however long, and every value quoted where
    this module's reader would not read it back as that text (``'a: b'``,
    ``'#1'``, ``'yes'``)."""
    return yaml.safe_dump(
        data,
        default_flow_style=flow,
        sort_keys=False,
        allow_unicode=True,
        width=sys.maxsize,
    )


def reads_as_itself(value: str) -> bool:
    """Whether ``value`` written plain (unquoted) reads back as that text here:
    not ``'yes'`` (YAML 1.1's true) nor ``'2'``; nor ``'*a'`` or ``'[x'``,
    which are no plain scalar at all."""
    try:
        return bool(yaml.safe_load(value) == value)
    except yaml.YAMLError:
        return False


def parse_config(text: str, path: Path, overrides: Overrides = NO_OVERRIDES) -> Config:
    node = compose_config(text, path)
    config = config_from_node(node, path, overrides)
    del node  # the tree, freed once nothing made from it is kept
    return config


def compose_config(text: str, path: Path) -> yaml.Node | None:
    """The YAML tree of ``text`` (None for an empty document), its nodes marked
    with their line, column and index in ``text``; raises ConfigError naming
    the line of invalid YAML."""
    try:
        return _compose(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"invalid YAML: {problem}", path=str(path), line=line) from None


def config_from_node(
    node: yaml.Node | None, path: Path, overrides: Overrides = NO_OVERRIDES
) -> Config:
    """:func:`parse_config` of a tree :func:`compose_config` made: for an edit,
    which reads the tree's marks too, and so composes the file once."""
    if node is None:
        raise ConfigError("the file is empty; it needs at least 'sources'", path=str(path))
    return _Reader(path, overrides).config(_Node(node, ""))


def _kept(text: str) -> str:
    """``text`` copied anew, for a string of the YAML tree that the
    configuration keeps (a source's name, section or URL).

    The parser made each of those strings amid the nodes, marks and tags of
    the YAML tree (some 30 MB for 10,000 sources), and a few bytes kept in
    every page of it would keep the pages in the process for as long as it
    runs: reading 10,000 sources left 30 MB more RSS, 10 MB with the copies
    made once the tree is freed (60 ms), 7.6 MB with the copies made while
    it is alive (for 3 MB of objects kept).  Python's allocator gives back a
    block of 1 MB only once nothing in it is used, and places new objects in
    the free room of the blocks it has: copies made once the tree is freed
    landed in the holes it left, and kept 11 of its blocks; made while it is
    alive, more of them land in blocks of their own, and 7 are kept.  Each
    source is made once, with its copies, as it is read: 6.7 MB left where
    making it, then remaking it with its copies, left 8.0 to 9.1 MB.
    """
    # str(text) and text[:] give the same object back.
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "surrogatepass")


class _Node:
    """A YAML node with the dotted key that led to it, for error messages."""

    def __init__(self, node: yaml.Node, key: str, key_node: yaml.Node | None = None):
        self.node = node
        self.key = key
        self.key_node = key_node

    @property
    def line(self) -> int:
        """The line of the key when there is one: a nested value starts below it."""
        mark = (self.key_node or self.node).start_mark
        return int(mark.line) + 1

    def items(self) -> Iterator[tuple[str, _Node]]:
        assert isinstance(self.node, yaml.MappingNode)
        for key_node, value_node in self.node.value:
            name = str(key_node.value)
            yield name, _Node(value_node, f"{self.key}.{name}" if self.key else name, key_node)

    def elements(self) -> Iterator[_Node]:
        assert isinstance(self.node, yaml.SequenceNode)
        for index, value_node in enumerate(self.node.value):
            yield _Node(value_node, f"{self.key}[{index}]")


_T = TypeVar("_T")
# The tag the composer gives a plain scalar that resolves to no other type,
# and a quoted one.
_STRING_TAG = "tag:yaml.org,2002:str"


class _Reader:
    def __init__(self, path: Path, overrides: Overrides = NO_OVERRIDES):
        self.path = path
        self.overrides = overrides
        self.base = path.resolve().parent
        # Builds a scalar's value from its node, whose tag the composer has
        # already resolved: what loading the node's own YAML text would give,
        # without emitting and parsing that text again for every value.
        self._constructor = yaml.constructor.SafeConstructor()
        self._sections: dict[str, str] = {}  # each section's name, one copy (_kept)

    def error(self, node: _Node, message: str) -> ConfigError:
        return ConfigError(message, path=str(self.path), line=node.line, key=node.key)

    def mapping(self, node: _Node, allowed: Mapping[str, str]) -> dict[str, _Node]:
        if not isinstance(node.node, yaml.MappingNode):
            raise self.error(node, "expected a mapping of keys to values")
        found: dict[str, _Node] = {}
        for name, child in node.items():
            if name not in allowed:
                import difflib  # for this message only: 1.5 ms of every start-up

                close = difflib.get_close_matches(name, list(allowed), n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                raise self.error(child, f"unknown key '{name}'{hint}")
            if name in found:
                raise self.error(child, f"key '{name}' appears twice")
            found[name] = child
        return found

    def scalar(self, node: _Node) -> Any:
        if not isinstance(node.node, yaml.ScalarNode):
            raise self.error(node, "expected a single value")
        if node.node.tag == _STRING_TAG:
            # What the constructor gives a string, without its bookkeeping
            # (a third of reading a source, with three strings each).
            return node.node.value
        try:
            return self._constructor.construct_object(node.node, deep=True)
        except yaml.constructor.ConstructorError as exc:  # e.g. an unknown tag such as !foo
            raise self.error(node, f"cannot read this value: {exc.problem}") from None

    def string(self, node: _Node) -> str:
        value = self.scalar(node)
        if not isinstance(value, str) or not value.strip():
            raise self.error(node, "expected a non-empty string")
        return value.strip()

    def name(self, node: _Node) -> str:
        """A source's name or section: one line of plain text, as every output shows it."""
        value = self.string(node)
        problem = name_problem(value)
        if problem is not None:
            raise self.error(node, problem)
        return value

    def boolean(self, node: _Node) -> bool:
        value = self.scalar(node)
        if not isinstance(value, bool):
            raise self.error(node, "expected true or false")
        return value

    def positive_int(self, node: _Node, maximum: int = MAX_COUNT) -> int:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
            raise self.error(node, "expected a whole number greater than 0")
        if value > maximum:
            raise self.error(node, f"{value} is too large; the most is {maximum}")
        return value

    def max_entries(self, node: _Node) -> int:
        return self.positive_int(node, MAX_ENTRIES)

    def port(self, node: _Node) -> int:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 65535:
            raise self.error(node, "expected a port number from 0 (any free port) to 65535")
        return value

    def duration(self, node: _Node) -> float:
        value = self.scalar(node)
        if isinstance(value, bool):
            raise self.error(node, "expected a duration such as 90s, 30m or 2h")
        seconds = parse_duration(str(value))
        if seconds is None:
            raise self.error(node, f"'{value}' is not a duration such as 90s, 30m or 2h")
        if seconds <= 0:
            raise self.error(node, "a duration must be greater than zero")
        if seconds > MAX_DURATION:
            raise self.error(node, f"'{value}' is too long; the most is 365d")
        return seconds

    def poll_interval(self, node: _Node) -> float:
        seconds = self.duration(node)
        if seconds < MIN_POLL_INTERVAL:
            raise self.error(node, f"'{self.scalar(node)}' is too short; the least is 1s")
        return seconds

    def size(self, node: _Node) -> int:
        value = self.scalar(node)
        match = _SIZE.match(str(value)) if not isinstance(value, bool) else None
        if match is None:
            raise self.error(node, f"'{value}' is not a size such as 5000000, 10MB or 512kB")
        number = float(match.group(1)) * _SIZE_FACTOR[match.group(2)[:1].lower()]
        if number < 1:
            raise self.error(node, "a size must be greater than zero")
        return int(number)

    def path_value(self, node: _Node) -> Path:
        return (self.base / self.string(node)).resolve()

    def store_value(self, node: _Node) -> StoreLocation:
        try:
            return store_location(self.string(node), self.base)
        except ValueError as error:
            raise self.error(node, str(error)) from None

    def optional(
        self, found: Mapping[str, _Node], key: str, read: Callable[[_Node], _T], default: _T
    ) -> _T:
        return read(found[key]) if key in found else default

    def config(self, root: _Node) -> Config:
        top = self.mapping(root, TOP_KEYS)
        if "sources" not in top:
            raise ConfigError("missing key", path=str(self.path), line=root.line, key="sources")
        no_private: PrivateHosts = False
        allow_private = self.optional(top, "allow_private", self.private_hosts, no_private)
        interval = self.optional(
            top, "interval", self.poll_interval, _CONFIG_DEFAULTS["default_interval"]
        )
        min_interval = self.optional(
            top, "min_interval", self.poll_interval, _CONFIG_DEFAULTS["min_interval"]
        )
        max_interval = self.optional(
            top, "max_interval", self.poll_interval, _CONFIG_DEFAULTS["max_interval"]
        )
        if min_interval > max_interval:
            raise self.error(
                top["min_interval"] if "min_interval" in top else top["max_interval"],
                "min_interval is longer than max_interval",
            )
        overrides = self.overrides
        output = self.output(top.get("output"))
        if overrides.out is not None:
            output = replace(output, dir=overrides.out)
        default_store: StoreLocation = self.base / DEFAULT_STORE
        store = self.optional(top, "store", self.store_value, default_store)
        if overrides.db is not None:
            store = overrides.db
        if store_is_published(store, output.dir):
            # A static server of the output directory would serve the database.
            message = STORE_IN_OUTPUT.format(store=store, out=output.dir)
            if overrides.db is not None or overrides.out is not None:
                option = "--db" if overrides.db is not None else "--out"
                raise ConfigError(message, key=option)
            raise self.error(top.get("store") or self._output_dir_node(top) or root, message)
        earlier = output.dir / DEFAULT_STORE.name  # where earlier versions kept it
        no_database_yet = isinstance(store, Path) and not store.exists()
        store_chosen = "store" in top or overrides.db is not None
        if not store_chosen and earlier.exists() and no_database_yet:
            # Starting afresh would lose its history and leave it served.
            raise ConfigError(
                f"{earlier}, the database of an earlier version, is inside the output "
                f"directory, which is published: move it (with its -wal and -shm files) "
                f"to {store}, or set 'store'",
                path=str(self.path),
                line=root.line,
                key="store",
            )
        filters = Filters(self.filter_rules(top["filters"])) if "filters" in top else NO_FILTERS
        full_text: FullText = self.optional(top, "full_text", self.full_text, "off")
        min_words = self.optional(
            top, "full_text_min_words", self.positive_int, DEFAULT_FULL_TEXT_MIN_WORDS
        )
        selector = self.optional(top, "full_text_selector", self.full_text_selector, None)
        headers = self.optional(top, "headers", self.headers, NO_HEADERS)
        sources = self.sources(
            top["sources"],
            allow_private,
            interval,
            filters,
            (full_text, min_words, selector),
            headers,
        )
        return Config(
            path=self.path,
            sources=sources,
            output=output,
            store=store,
            title=self.optional(top, "title", self.string, _CONFIG_DEFAULTS["title"]),
            configured_base_url=self.optional(top, "base_url", self.url, None),
            allow_private=allow_private,
            fetch=self.fetch(top.get("fetch")),
            summary=self.summary(top.get("summary")),
            default_interval=interval,
            min_interval=min_interval,
            max_interval=max_interval,
            serve=self.served(top.get("serve")),
            digest=self.digest(top.get("digest")),
            dedup=self.dedup(top.get("dedup")),
            cluster=self.cluster(top.get("cluster")),
            retention=self.optional(top, "retention", self.retention, None),
            websub=self.websub(top.get("websub")),
            full_text_max_pages=self.optional(
                top,
                "full_text_max_pages",
                self.positive_int,
                _CONFIG_DEFAULTS["full_text_max_pages"],
            ),
            headers=headers,
        )

    def private_hosts(self, node: _Node) -> PrivateHosts:
        """``allow_private``: true or false, or a list of the hosts (names or
        IP addresses) on which the feed and its pages may be private."""
        if not isinstance(node.node, yaml.SequenceNode):
            value = self.scalar(node) if isinstance(node.node, yaml.ScalarNode) else None
            if not isinstance(value, bool):
                raise self.error(node, "expected true or false, or a list of host names")
            return value
        hosts = [self.host(element) for element in node.elements()]
        if not hosts:
            raise self.error(node, "expected a list of one or more host names, such as [wiki.corp]")
        return frozenset(hosts)

    def headers(self, node: _Node) -> SourceHeaders:
        """A source's ``headers``, or the top-level defaults: a mapping of header
        names to string values, none the fetcher sets itself, no name twice in
        any case, each value one line."""
        if not isinstance(node.node, yaml.MappingNode):
            raise self.error(node, "expected a mapping of header names to values")
        pairs: list[tuple[str, str]] = []
        seen: set[str] = set()
        for key_node, value_node in node.node.value:
            where = _Node(key_node, node.key, key_node)  # a bad name is not quoted in the key
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.error(where, "expected a header name")
            name = str(key_node.value)
            problem = header_name_problem(name)
            if problem is not None:
                raise self.error(where, problem)
            child = _Node(value_node, f"{node.key}.{name}", key_node)
            if name.lower() in seen:
                raise self.error(child, f"header '{name}' appears twice (names ignore case)")
            seen.add(name.lower())
            pairs.append((_kept(name), _kept(self.header_value(child))))
        return SourceHeaders(tuple(pairs))

    def header_value(self, node: _Node) -> str:
        # No message quotes the value: it is a credential as often as not.
        value = self.scalar(node) if isinstance(node.node, yaml.ScalarNode) else None
        if not isinstance(value, str):
            raise self.error(
                node,
                "expected a string (quote a value YAML reads as a number, a date, "
                "true, false or null)",
            )
        if not value.strip():
            raise self.error(node, "expected a non-empty string")
        problem = header_value_problem(value)
        if problem is not None:
            raise self.error(node, problem)
        return value.strip()

    def _check_headers_fit(self, node: _Node, source: SourceConfig) -> None:
        """Headers go with a URL, and Authorization once: the URL's user info is one."""
        if source.url is None:
            raise self.error(node, "headers go with a url; a source read from a path sends none")
        if "@" not in urlsplit(source.url).netloc:
            return
        assert isinstance(node.node, yaml.MappingNode)
        for key_node, value_node in node.node.value:
            if str(key_node.value).lower() == "authorization":
                raise self.error(
                    _Node(value_node, f"{node.key}.{key_node.value}", key_node),
                    "the url's user and password are its Authorization already; "
                    "give one or the other",
                )

    def host(self, node: _Node) -> str:
        value = self.scalar(node)
        host = host_name(value) if isinstance(value, str) else None
        if host is None:
            shown = redact_text(str(value))  # a URL's password is no part of an error message
            raise self.error(
                node,
                f"'{shown}' is not a host name: write the host alone (no scheme, port or path)",
            )
        return host

    def full_text(self, node: _Node) -> FullText:
        value = self.scalar(node)
        if value is True:
            return "on"
        if value is False:
            return "off"
        if isinstance(value, str) and value.strip().lower() == "auto":
            return "auto"
        raise self.error(node, f"expected true, false or auto, not {value!r}")

    def full_text_selector(self, node: _Node) -> str | None:
        """A CSS selector, checked now so that a typo is this line's error,
        not each page's; null: none (a source's way to leave the top-level
        one for the extractor's choice)."""
        if self.scalar(node) is None:
            return None
        selector = self.string(node)
        from .article_selector import selector_problem  # lxml.cssselect: only with a selector

        problem = selector_problem(selector)
        if problem is not None:
            raise self.error(node, problem)
        return _kept(selector)

    def websub(self, node: _Node | None) -> WebSubConfig:
        if node is None:
            return WebSubConfig()
        found = self.mapping(node, WEBSUB_KEYS)
        if "hubs" not in found:
            return WebSubConfig()
        hubs = found["hubs"]
        if not isinstance(hubs.node, yaml.SequenceNode):
            raise self.error(hubs, "expected a list of hub URLs")
        return WebSubConfig(hubs=tuple(dict.fromkeys(self.url(hub) for hub in hubs.elements())))

    def retention(self, node: _Node) -> float:
        value = self.scalar(node)
        seconds = None if isinstance(value, bool) else parse_duration(str(value))
        if seconds is None or seconds <= 0:
            raise self.error(node, f"'{value}' is not a duration such as 90d or 12h")
        if seconds > MAX_RETENTION:
            raise self.error(node, f"'{value}' is too long; the most is 36500d (leave it out)")
        return seconds

    def cluster(self, node: _Node | None) -> ClusterConfig:
        if node is None:
            return ClusterConfig()
        found = self.mapping(node, CLUSTER_KEYS)
        default = ClusterConfig()
        return ClusterConfig(
            tick=self.optional(found, "tick", self.duration, default.tick),
            stall_timeout=self.optional(
                found, "stall_timeout", self.duration, default.stall_timeout
            ),
            concurrency=self.optional(found, "concurrency", self.positive_int, default.concurrency),
        )

    def _output_dir_node(self, top: Mapping[str, _Node]) -> _Node | None:
        if "output" not in top:
            return None
        return self.mapping(top["output"], OUTPUT_KEYS).get("dir", top["output"])

    def digest(self, node: _Node | None) -> DigestConfig:
        if node is None:
            return DigestConfig()
        found = self.mapping(node, DIGEST_KEYS)
        default = DigestConfig()
        sentences = default.sentences
        if "sentences" in found:
            value = self.scalar(found["sentences"])
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
                raise self.error(
                    found["sentences"], f"expected a whole number from 0 to {MAX_COUNT}"
                )
            sentences = value
        return DigestConfig(
            window=self.optional(found, "window", self.duration, default.window),
            sentences=sentences,
        )

    def serve(self, node: _Node | None) -> ServeConfig:
        if node is None:
            return ServeConfig()
        found = self.mapping(node, SERVE_KEYS)
        default = ServeConfig()
        port = self.optional(found, "port", self.port, default.port)
        return ServeConfig(host=self.optional(found, "host", self.string, default.host), port=port)

    def served(self, node: _Node | None) -> ServeConfig:
        """``serve``, with the command line's ``--host`` and ``--port``."""
        serve = self.serve(node)
        return ServeConfig(
            host=self.overrides.host or serve.host,
            port=serve.port if self.overrides.port is None else self.overrides.port,
        )

    def output(self, node: _Node | None) -> OutputConfig:
        default = OutputConfig(dir=self.base / DEFAULT_OUTPUT_DIR)
        if node is None:
            return default
        found = self.mapping(node, OUTPUT_KEYS)
        return OutputConfig(
            dir=self.optional(found, "dir", self.path_value, default.dir),
            max_entries=self.optional(found, "max_entries", self.max_entries, default.max_entries),
            keep_tracking=self.optional(
                found, "keep_tracking", self.boolean, default.keep_tracking
            ),
        )

    def fetch(self, node: _Node | None) -> FetchConfig:
        default = FetchConfig()
        if node is None:
            return default
        found = self.mapping(node, FETCH_KEYS)
        return FetchConfig(
            timeout=self.optional(found, "timeout", self.duration, default.timeout),
            connect_timeout=self.optional(
                found, "connect_timeout", self.duration, default.connect_timeout
            ),
            read_timeout=self.optional(found, "read_timeout", self.duration, default.read_timeout),
            max_bytes=self.optional(found, "max_bytes", self.size, default.max_bytes),
            max_items=self.optional(found, "max_items", self.positive_int, default.max_items),
            max_redirects=self.optional(
                found, "max_redirects", self.positive_int, default.max_redirects
            ),
            concurrency=self.optional(found, "concurrency", self.positive_int, default.concurrency),
            per_host=self.optional(found, "per_host", self.positive_int, default.per_host),
            user_agent=self.optional(found, "user_agent", self.string, default.user_agent),
        )

    def summary(self, node: _Node | None) -> SummaryConfig:
        default = SummaryConfig()
        if node is None:
            return default
        found = self.mapping(node, SUMMARY_KEYS)
        sentences = self.optional(found, "sentences", self.positive_int, default.sentences)
        # Without its own value, the bound follows `sentences` up, never below it.
        max_sentences = self.optional(
            found, "max_sentences", self.positive_int, max(default.max_sentences, sentences)
        )
        if max_sentences < sentences:
            raise self.error(found["max_sentences"], f"must be at least sentences ({sentences})")
        return SummaryConfig(
            sentences=sentences,
            max_sentences=max_sentences,
            words_per_sentence=self.optional(
                found, "words_per_sentence", self.positive_int, default.words_per_sentence
            ),
            algorithm=self.optional(found, "algorithm", self.algorithm, default.algorithm),
            language=self.optional(found, "language", self.string, default.language),
        )

    def algorithm(self, node: _Node) -> str:
        algorithm = self.string(node).lower()
        if algorithm not in SUMMARY_ALGORITHMS:
            choices = ", ".join(sorted(SUMMARY_ALGORITHMS))
            raise self.error(node, f"unknown algorithm '{algorithm}'; choose one of {choices}")
        return algorithm

    def dedup(self, node: _Node | None) -> DedupConfig:
        default = DedupConfig()
        if node is None:
            return default
        found = self.mapping(node, DEDUP_KEYS)
        lead = self.optional(found, "lead", self.string, default.lead).lower()
        if lead not in DEDUP_LEADS:
            raise self.error(found["lead"], f"expected one of {', '.join(DEDUP_LEADS)}")
        return DedupConfig(
            window=self.optional(found, "window", self.duration, default.window),
            short_window=self.optional(found, "short_window", self.duration, default.short_window),
            threshold=self.optional(found, "threshold", self.fraction, default.threshold),
            title_threshold=self.optional(
                found, "title_threshold", self.fraction, default.title_threshold
            ),
            short_words=self.optional(found, "short_words", self.positive_int, default.short_words),
            lead=lead,
        )

    def fraction(self, node: _Node) -> float:
        value = self.scalar(node)
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= 1:
            raise self.error(node, "expected a number greater than 0 and at most 1")
        return float(value)

    def url(self, node: _Node) -> str:
        value = self.string(node)
        problem = url_problem(value)
        if problem is not None:
            shown = redact_url(value)  # a config error is printed, logged, pasted into reports
            raise self.error(node, f"'{shown}' is {problem}")
        return value

    def filter_rules(self, node: _Node) -> tuple[Rule, ...]:
        if not isinstance(node.node, yaml.SequenceNode):
            raise self.error(node, "expected a list of rules such as - block: {title: REGEX}")
        rules = []
        for element in node.elements():
            found = self.mapping(element, {action: action for action in ACTIONS})
            if len(found) != 1:
                raise self.error(element, "a rule is one of block: {...} or keep: {...}")
            ((action, fields_node),) = found.items()
            fields = self.mapping(fields_node, {field: field for field in FIELDS})
            if not fields:
                raise self.error(fields_node, f"a rule names one or more of {', '.join(FIELDS)}")
            patterns = []
            for name, pattern_node in fields.items():
                try:
                    patterns.append((name, compile_pattern(self.string(pattern_node))))
                except ValueError as error:
                    raise self.error(pattern_node, str(error)) from None
            rules.append(Rule(action, tuple(patterns), element.key))
        return tuple(rules)

    def sources(
        self,
        node: _Node,
        allow_private: PrivateHosts,
        interval: float,
        filters: Filters = NO_FILTERS,
        full_text: tuple[FullText, int, str | None] = ("off", DEFAULT_FULL_TEXT_MIN_WORDS, None),
        default_headers: SourceHeaders = NO_HEADERS,
    ) -> tuple[SourceConfig, ...]:
        if not isinstance(node.node, yaml.SequenceNode) or not node.node.value:
            raise self.error(node, "expected a non-empty list of sources")
        sources: list[SourceConfig] = []
        seen_names: set[str] = set()
        seen_locations: set[str] = set()
        for element in node.elements():
            found = self.mapping(element, SOURCE_KEYS)
            for required in ("name", "section"):
                if required not in found:
                    raise self.error(element, f"a source needs '{required}'")
            if ("url" in found) == ("path" in found):
                raise self.error(element, "a source needs exactly one of 'url' or 'path'")
            name = self.name(found["name"])
            # Two spellings of one name in code points (a composed "é" and
            # "e" with a combining accent) look the same everywhere they are
            # shown, and `aggregate remove` could reach only the one typed.
            if same_name_key(name) in seen_names:
                raise self.error(found["name"], f"duplicate source name '{name}'")
            section = self.string(found["section"])
            if section not in self._sections:  # each section checked and kept once
                self._sections[section] = _kept(self.name(found["section"]))
            url = self.optional(found, "url", self.url, None)
            own_headers = self.optional(found, "headers", self.headers, NO_HEADERS)
            source = SourceConfig(
                name=_kept(name),
                section=self._sections[section],
                interval=self.optional(found, "interval", self.poll_interval, interval),
                url=None if url is None else _kept(url),
                path=str(self.path_value(found["path"])) if "path" in found else None,
                allow_private=self.optional(
                    found, "allow_private", self.private_hosts, allow_private
                ),
                language=self.optional(found, "language", self.string, None),
                algorithm=self.optional(found, "algorithm", self.algorithm, None),
                enabled=self.optional(found, "enabled", self.boolean, True),
                filters=filters.then(self.filter_rules(found["filters"]))
                if "filters" in found
                else filters,
                full_text=self.optional(found, "full_text", self.full_text, full_text[0]),
                full_text_min_words=self.optional(
                    found, "full_text_min_words", self.positive_int, full_text[1]
                ),
                headers=with_defaults(own_headers, default_headers, url),
                full_text_selector=self.optional(
                    found, "full_text_selector", self.full_text_selector, full_text[2]
                ),
            )
            if own_headers:
                # The source's own only: the defaults fit every source, a
                # path's included (it sends none of them).
                self._check_headers_fit(found["headers"], source)
            missing = (
                source.path is not None
                and not _has_glob(source.path)
                and not (Path(source.path).exists())
            )
            if missing:
                raise self.error(found["path"], f"no such file or directory: {source.path}")
            if source.location in seen_locations:
                location_node = found.get("url") or found["path"]
                raise self.error(location_node, f"duplicate source '{redact_url(source.location)}'")
            seen_names.add(same_name_key(name))
            seen_locations.add(source.location)
            sources.append(source)
        return tuple(sources)


# A century: longer is "for ever", which is leaving the key out.
MAX_RETENTION = 36500 * 86400.0


def _has_glob(path: str) -> bool:
    return any(char in path for char in "*?[")


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be a configured URL (a source's, a hub's, ``base_url``), or None.

    The one check of such a URL: the configuration's, and ``aggregate
    import``'s for each outline of a list, which skips what the file would be
    refused for instead of writing it.  Only the URL's form: whether it can be
    fetched is for the fetcher to find out."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (reading it checks it: ValueError when out of range)
    except ValueError as exc:  # "http://[::1", "http://host:99999/"
        return f"not a valid URL: {exc}"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "not an http(s) URL"
    return None


def private_hosts_written(value: object) -> PrivateHosts:
    """What ``allow_private`` as written in the file allows, read without the
    rest of the configuration (a file with no sources yet): true, its list of
    hosts, or false for anything else.  The file is checked when it is saved."""
    if value is True:
        return True
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        hosts = [host_name(item) for item in value]
        if all(host is not None for host in hosts):
            return frozenset(host for host in hosts if host is not None)
    return False


def headers_written(value: object) -> SourceHeaders:
    """The top-level ``headers`` as written, read without the rest of the
    configuration (a file with no sources yet): the mapping's pairs if every
    name and value is one a source may send, else none.  The file is checked
    when it is saved."""
    if not isinstance(value, dict):
        return NO_HEADERS
    pairs = []
    for name, header in value.items():
        if not isinstance(name, str) or not isinstance(header, str) or not header.strip():
            return NO_HEADERS
        if header_name_problem(name) is not None or header_value_problem(header) is not None:
            return NO_HEADERS
        pairs.append((name, header.strip()))
    if len({name.lower() for name, _header in pairs}) != len(pairs):
        return NO_HEADERS
    return SourceHeaders(tuple(pairs))


def parse_duration(text: str) -> float | None:
    """'90s', '30m', '2h', '1d' or a bare number of seconds -> seconds; None if malformed."""
    match = _DURATION.match(text)
    if match is None:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]
