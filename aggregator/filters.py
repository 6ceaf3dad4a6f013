"""Filter rules: the entries a source leaves out, before deduplication and summaries.

    filters:                                  # every source's
      - block: {title: "sponsored|advertorial"}
    sources:
      - name: Tech
        filters:                              # this source's, after those
          - keep: {category: "^(ai|linux)$"}

An entry is left out if any ``block`` rule matches it, or if there are
``keep`` rules and none matches it.  A rule matches when every field it names
matches: ``re.search``, case-insensitive unless the pattern says otherwise
(``(?-i:...)``).  Fields: ``title``, ``content`` (the text, without markup),
``author``, ``link``, ``category`` (any one of the entry's categories).

Pure: no store, no I/O.  Applied in the worker processes as entries are
read (:mod:`aggregator.ingest`), and again when publishing, to what is
stored (an item changed or stored before a rule was added).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

FIELDS = ("title", "content", "author", "link", "category")
ACTIONS = ("block", "keep")
_TAG = re.compile(r"<[^>]*>")


@dataclass(frozen=True, slots=True)
class EntryFields:
    """What rules look at in an entry."""

    title: str
    content_html: str
    author: str | None
    link: str | None
    categories: tuple[str, ...] = ()

    def values(self, field: str) -> tuple[str, ...]:
        if field == "title":
            return (self.title,)
        if field == "content":
            # Words apart where markup separated them, one space between.
            return (" ".join(html.unescape(_TAG.sub(" ", self.content_html)).split()),)
        if field == "author":
            return (self.author or "",)
        if field == "link":
            return (self.link or "",)
        return self.categories


@dataclass(frozen=True, slots=True)
class Rule:
    action: str  # "block" or "keep"
    patterns: tuple[tuple[str, re.Pattern[str]], ...]  # (field, pattern), all must match
    where: str  # where the configuration says it: "filters[0]", "sources[2].filters[1]"

    def matches(self, entry: EntryFields) -> bool:
        return all(
            any(pattern.search(value) for value in entry.values(field))
            for field, pattern in self.patterns
        )

    def __str__(self) -> str:
        fields = ", ".join(f"{field}: {pattern.pattern!r}" for field, pattern in self.patterns)
        return f"{self.where}: {self.action} {{{fields}}}"


@dataclass(frozen=True, slots=True)
class Filters:
    """One source's rules: the top-level ones, then its own."""

    rules: tuple[Rule, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def leaving_out(self, entry: EntryFields) -> Rule | None:
        """The rule that leaves ``entry`` out (the first block rule that matches
        it, else the first keep rule when none matches), or None to keep it."""
        keeps = [rule for rule in self.rules if rule.action == "keep"]
        for rule in self.rules:
            if rule.action == "block" and rule.matches(entry):
                return rule
        if keeps and not any(rule.matches(entry) for rule in keeps):
            return keeps[0]
        return None

    def for_stored(self) -> Filters:
        """The rules that can be applied again to stored items: the block rules
        on title, content, author and link.  Categories are not stored, and a
        keep rule left out of its set would leave out what the set kept."""
        return Filters(
            tuple(
                rule
                for rule in self.rules
                if rule.action == "block" and all(field != "category" for field, _ in rule.patterns)
            )
        )

    def signature(self) -> str:
        """The rules as text: reading a source's entries again when they change."""
        return ";".join(str(rule) for rule in self.rules)

    def then(self, more: Sequence[Rule]) -> Filters:
        return Filters((*self.rules, *more))


NO_FILTERS = Filters()


def compile_pattern(pattern: str) -> re.Pattern[str]:
    """A rule's pattern, case-insensitive; ValueError saying why it is not one."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise ValueError(f"not a regular expression: {exc}") from None
