"""One error hierarchy for everything the aggregator reports.

    AggregatorError                 root; never raised itself
     +-- ConfigError                feeds.yaml is unusable (exit code 2); names file, line, key
     +-- SourceError                one source failed; carries the source name and chains the cause
     |    +-- FetchError            the bytes could not be had (DNS, refused, timeout, HTTP status)
     |    |    +-- ResponseTooLarge the body or its decompressed form passed the size cap
     |    +-- ParseError            the bytes are not a feed or article we can read
     +-- StoreError                 the database cannot be opened or written
     +-- PublishError               an output file could not be written

A failing source is a value (``SourceError`` inside a result), not a crash:
the pipeline records it and goes on with the other sources.  Anything that is
not an ``AggregatorError`` is a bug and is left to surface.
"""

from __future__ import annotations

from datetime import datetime


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

    def __init__(self, source: str, message: str):
        self.source = source
        self.message = " ".join(message.split())  # one line, whatever the cause printed
        super().__init__(f"{source}: {self.message}")

    def __reduce__(self) -> tuple[object, ...]:
        # A failing source comes back from a worker process as a value, pickled;
        # pickle would rebuild it from ``args`` (the one-line text), which the
        # constructor does not take.  Rebuild it from its parts instead.
        return (_rebuild, (type(self), self.source, self.message, dict(self.__dict__)))


class FetchError(SourceError):
    """The source's bytes could not be retrieved."""

    def __init__(
        self,
        source: str,
        message: str,
        *,
        status: int | None = None,
        retry_after: datetime | None = None,
    ):
        self.status = status
        self.retry_after = retry_after  # no request before then (429, 503)
        super().__init__(source, message)


class ResponseTooLarge(FetchError):
    """The response (or what it decompresses to) is larger than the configured cap."""


class ParseError(SourceError):
    """The retrieved bytes are not something we can read as a feed or article."""


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
