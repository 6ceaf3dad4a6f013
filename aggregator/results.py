"""What a pass did, source by source, and the lines the command line prints of it.

SourceResult   one source: new / merged / updated / unchanged, or its error, or skipped
PassReport     every source's result, whether items changed, what was parsed,
               summarized and published; ``total_line()``
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from .decide import Skipped
from .errors import SourceError

if TYPE_CHECKING:
    from .publish import PublishReport


@dataclass(slots=True)
class SourceResult:
    source: str
    new: int = 0
    merged: int = 0
    updated: int = 0
    unchanged: int = 0
    not_modified: bool = False
    error: SourceError | None = None
    warning: str | None = None
    skipped: Skipped | None = None
    next_due: datetime | None = None  # when the daemon polls it next; None: never
    filtered: int = 0  # entries its filter rules left out
    pages: int = 0  # article pages fetched for its items (full_text)
    pages_failed: int = 0  # of which gave no article

    @property
    def changed(self) -> bool:
        return bool(self.new or self.merged or self.updated)

    @property
    def status(self) -> str:
        if self.skipped is not None:
            return self.skipped.status
        if self.error is not None:
            return "error"
        if self.new or self.merged:
            return "new"
        if self.updated:
            return "updated"
        return "unchanged"

    def to_record(self) -> dict[str, object]:
        """What the command line prints of it, as JSON values: a poll run by
        another process (a worker) is reported by the one that asked for it."""
        return {
            "source": self.source,
            "new": self.new,
            "merged": self.merged,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "not_modified": self.not_modified,
            "error": self.error.message if self.error is not None else None,
            "warning": self.warning,
            "skipped": [self.skipped.status, self.skipped.reason] if self.skipped else None,
            "filtered": self.filtered,
            "pages": self.pages,
            "pages_failed": self.pages_failed,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> SourceResult:
        name = str(record["source"])
        skipped = record.get("skipped")
        return cls(
            name,
            new=int(record["new"]),
            merged=int(record["merged"]),
            updated=int(record["updated"]),
            unchanged=int(record["unchanged"]),
            not_modified=bool(record["not_modified"]),
            error=SourceError(name, record["error"]) if record.get("error") else None,
            warning=record.get("warning"),
            skipped=Skipped(skipped[0], skipped[1]) if skipped else None,
            filtered=int(record.get("filtered", 0)),
            pages=int(record.get("pages", 0)),
            pages_failed=int(record.get("pages_failed", 0)),
        )

    def line(self) -> str:
        """One status line, as the command line prints it."""
        if self.skipped is not None:
            return f"{self.status:<10} {self.source}: {self.skipped.reason}"
        if self.error is not None:
            return f"error      {self.error}"
        if self.not_modified:
            detail = "not modified"
        else:
            parts = [f"{self.new} new"]
            if self.merged:
                parts.append(f"{self.merged} merged into other sources' entries")
            parts += [f"{self.updated} updated", f"{self.unchanged} unchanged"]
            if self.filtered:
                parts.append(f"{self.filtered} left out by filters")
            detail = ", ".join(parts)
        if self.pages:
            detail += f"; full text: {self.pages} pages"
            if self.pages_failed:
                detail += f", {self.pages_failed} failed (see aggregate status)"
        if self.warning:
            detail += f" (warning: {self.warning})"
        return f"{self.status:<10} {self.source}: {detail}"


@dataclass(slots=True, repr=False)
class PassReport:
    results: list[SourceResult] = field(default_factory=list)
    # Whether any item is new or changed: a count, not the items' ids, which
    # for a first pass over 10,000 feeds would be 300,000 of them held.
    items_changed: int = 0
    parsed: int = 0  # sources whose bytes were parsed
    summarized: int = 0  # summaries computed for publishing (not taken from the cache)
    published: PublishReport | None = None
    articles: int = 0  # article pages stored with their article (full_text)

    def __repr__(self) -> str:
        # Not every result's: asyncio.run() makes the repr of its main task,
        # whose result this is, twice as it ends (restoring Ctrl-C's handler
        # formats the task's in an error message it then drops): 8 ms at
        # 1,000 sources, a fiftieth of a pass of 304s.
        return (
            f"PassReport({len(self.results)} results, items_changed={self.items_changed}, "
            f"parsed={self.parsed}, summarized={self.summarized}, "
            f"published={self.published!r}, articles={self.articles})"
        )

    @property
    def output_changed(self) -> bool:
        """Whether what is published may have changed: items, or their articles."""
        return bool(self.items_changed or self.articles)

    def add(self, result: SourceResult) -> None:
        self.results.append(result)
        self.items_changed += result.new + result.merged + result.updated

    @property
    def all_failed(self) -> bool:
        """Every source that was polled failed (sources skipped on purpose do not count)."""
        polled = [r for r in self.results if r.skipped is None]
        return bool(polled) and all(r.error is not None for r in polled)

    def total_line(self) -> str:
        failed = sum(r.error is not None for r in self.results)
        new = sum(r.new for r in self.results)
        merged = sum(r.merged for r in self.results)
        updated = sum(r.updated for r in self.results)
        written = len(self.published.written) if self.published else 0
        return (
            f"{len(self.results)} sources, {failed} failed; {new} new items, {merged} merged, "
            f"{updated} updated; {self.parsed} parsed, {self.summarized} summarized; "
            f"{written} files written"
        )
