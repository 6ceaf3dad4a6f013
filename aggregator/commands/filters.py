"""``aggregate filters [--source NAME]``: which stored items each filter rule leaves out.

A preview: nothing is changed.  Stored items are judged as the next publish
judges them: by the rules that can be applied to what is stored (block
rules on title, content, author and link); rules on categories and keep
rules act as entries are read, and are listed as such.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TextIO

from ..config import Config
from ..filters import EntryFields, Rule
from ..redact import feed_secrets, printable, shown_link, shown_text
from ..store import StoredItem, open_store


def preview(config: Config, out: TextIO, source: str | None = None) -> int:
    """Print each rule and the stored items it leaves out; 2 for an unknown source."""
    sources = [s for s in config.sources if source is None or s.name == source]
    if not sources:
        raise LookupError(f"no source named {source!r} in {config.path}")
    store = open_store(config.store)
    try:
        by_source: dict[str, list[StoredItem]] = defaultdict(list)
        for item in store.iter_items():
            by_source[item.lead_source].append(item)
    finally:
        store.close()
    printed = False
    for configured in sources:
        if not configured.filters:
            continue
        stored = configured.filters.for_stored()
        left_out: dict[str, list[StoredItem]] = defaultdict(list)
        for item in by_source.get(configured.name, []):
            fields = EntryFields(item.title, item.content_html, item.author, item.link)
            rule = stored.leaving_out(fields)
            if rule is not None:
                left_out[str(rule)].append(item)
        print(f"{configured.name}:", file=out)
        secrets = feed_secrets(configured.url or "", configured.headers)  # masked, as published
        for rule in configured.filters.rules:
            print(f"  {printable(str(rule))}", file=out)
            if rule not in stored.rules:
                print(f"    {_when_applied(rule)}", file=out)
                continue
            items = left_out.get(str(rule), [])
            plural = "" if len(items) == 1 else "s"
            print(f"    leaves out {len(items)} stored item{plural}", file=out)
            for item in items:
                link = f" <{shown_link(item.link, secrets)}>" if item.link else ""
                print(f"    - {shown_text(item.title, secrets)}{link}", file=out)
        printed = True
    if not printed:
        print("no filter rules", file=out)
    return 0


def _when_applied(rule: Rule) -> str:
    if rule.action == "keep":
        return "a keep rule: applied as entries are read, not to what is stored"
    return "on categories, which are not stored: applied as entries are read"
