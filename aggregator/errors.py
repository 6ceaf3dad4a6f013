"""One error hierarchy for everything the aggregator reports.

    AggregatorError                 root; never raised itself
     +-- ConfigError                feeds.yaml is unusable (exit code 2); names file, line, key
     +-- SourceError                one source failed; carries the source name and chains the cause
     |    +-- FetchError            the bytes could not be had (DNS, refused, timeout, HTTP status)
     |    |    +-- ResponseTooLarge the body or its decompressed form passed the size cap
     |    +-- ParseError            the bytes are not a feed or article we can read
     |    |    +-- NotAFeed         they read well, as another kind of document (an HTML page)
     |    +-- ProcessingError       a bug met while handling this source's data (any stage)
     +-- StoreError                 the database cannot be opened or written
     +-- PublishError               an output file could not be written

A failing source is a value (``SourceError`` inside a result), not a crash:
the pipeline records it and goes on with the other sources.  So is a bug met
while handling one source's data, whatever the stage: it becomes that
source's ``ProcessingError``, its traceback logged at debug level.  A failure
that is not about one source (``StoreError``: the database is gone) stays
the pass's.
"""

from __future__ import annotations

import traceback
from datetime import datetime

from .redact import redact_text


class AggregatorError(Exception):
    """Root of every error the aggregator raises on purpose."""


class ConfigError(AggregatorError):
    """The configuration cannot be used.  ``str()`` is one line: file:line: key: problem."""

    def __init__(self, message: str, *, path: str = "", line: int | None = None, key: str = ""):
        self.message = message
        self.path = path
        self.line = line
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path
        if self.line is not None:
            where = f"{where}:{self.line}" if where else f"line {self.line}"
        parts = [p for p in (where, self.key) if p]
        return ": ".join([*parts, self.message])


class SourceError(AggregatorError):
    """One source failed.  ``str()`` is one line naming the source."""

    def __init__(self, source: str, message: str, *, details: str | None = None):
        self.source = source
        self.message = " ".join(message.split())  # one line, whatever the cause printed
        # A bug's traceback, for the log at debug level: made where the bug
        # happened, which may be a worker process whose own log is not shown.
        self.details = details
        super().__init__(f"{source}: {self.message}")

    def __reduce__(self) -> tuple[object, ...]:
        # A failing source comes back from a worker process as a value, pickled;
        # pickle would rebuild it from ``args`` (the one-line text), which the
        # constructor does not take.  Rebuild it from its parts instead.
        return (_rebuild, (type(self), self.source, self.message, dict(self.__dict__)))


class FetchError(SourceError):
    """The source's bytes could not be retrieved.

    ``transient``: the same request may well succeed later (it timed out,
    its connection failed or broke, or the server's status says so: 408,
    429, 5xx), as opposed to one refused or answered for good (a 404, a
    private address, a body over the cap)."""

    def __init__(
        self,
        source: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: datetime | None = None,
        transient: bool = False,
    ):
        self.status = status
        self.retry_after = retry_after  # no request before then (429, 503)
        self.transient = transient
        super().__init__(source, message)


class ResponseTooLarge(FetchError):
    """The response (or what it decompresses to) is larger than the configured cap."""


class ParseError(SourceError):
    """The retrieved bytes are not something we can read as a feed or article."""


class NotAFeed(ParseError):
    """The bytes read well, but as another kind of document: an HTML page, or
    XML or JSON that holds no feed.  Apart from a feed refused or broken (a
    plain :class:`ParseError`), so that ``aggregate summarize`` can read
    the one as a page and report the other."""


class ProcessingError(SourceError):
    """An unexpected exception while handling one source's data: a bug, but one source's.

    ``str()`` names the source, the stage, the item when there is one, and
    the exception, on one line.
    """

    # An exception's text can be anything the input put in it.
    MAX_DETAIL = 300

    @classmethod
    def of(
        cls, source: str, stage: str, exc: BaseException, item: str | None = None
    ) -> ProcessingError:
        return cls(source, bug_message(stage, exc, item), details=bug_details(exc))


def bug_message(stage: str, exc: BaseException, item: str | None = None) -> str:
    """The message "<stage> failed [on item '<id>']: <Type>: <text>", of bounded length."""
    # An exception's text may quote a URL with its credentials.
    detail = redact_text(f"{type(exc).__name__}: {exc}")
    if len(detail) > ProcessingError.MAX_DETAIL:
        detail = detail[: ProcessingError.MAX_DETAIL - 1] + "…"
    where = f" on item {item[:200]!r}" if item else ""
    return f"{stage} failed{where}: {detail}"


def bug_details(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)).rstrip()


class StoreError(AggregatorError):
    """The store cannot be opened, migrated or written."""


def _rebuild(
    cls: type[SourceError], source: str, message: str, state: dict[str, object]
) -> SourceError:
    error = cls.__new__(cls)
    SourceError.__init__(error, source, message)
    error.__dict__.update(state)
    return error


class PublishError(AggregatorError):
    """An output file could not be written; the previous file is kept."""
