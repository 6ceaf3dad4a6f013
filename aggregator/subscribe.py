"""What adding feeds means for ``feeds.yaml``: pure decisions, no I/O.

    plan_import(listed, subscriptions, default_section) -> ImportPlan(added, skipped)
    source_name(title, url, taken) -> a name no other source has

A feed is already there when a listed source has the same URL (compared with
scheme and host lower-cased, as every HTTP client compares them); it is then
skipped and said so, never added twice, whatever its title.  Names come from
the list's title (else the URL's host) and are made unique with " (2)",
" (3)", ... as file managers number copies.  Sections come from the list's
folders; a feed in none goes to ``default_section``.  Both are made one line
of plain text (:func:`~aggregator.redact.plain_name`): a list's titles may
hold what no configured name may, a bidi override or a line break.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

from .feeds_file import ListedSource, NewSource
from .parse.opml import Subscription
from .redact import plain_name

__all__ = ["ImportPlan", "plan_import", "same_url", "source_name"]


@dataclass(slots=True)
class ImportPlan:
    added: list[NewSource] = field(default_factory=list)
    # (title or URL, why): already configured, or twice in the list.
    skipped: list[tuple[str, str]] = field(default_factory=list)


def plan_import(
    listed: Sequence[ListedSource],
    subscriptions: Iterable[Subscription],
    default_section: str,
) -> ImportPlan:
    """The sources to append for ``subscriptions``, in their order, and those skipped."""
    plan = ImportPlan()
    taken = {source.name for source in listed if source.name is not None}
    known = {
        url_key(source.url): source.name or source.url
        for source in listed
        if source.url is not None
    }
    listed_twice: dict[str, str] = {}
    for subscription in subscriptions:
        key = url_key(subscription.url)
        shown = subscription.title or subscription.url
        if key in known:
            plan.skipped.append((shown, f"already in the configuration as '{known[key]}'"))
            continue
        if key in listed_twice:
            plan.skipped.append((shown, f"listed twice; added once, as '{listed_twice[key]}'"))
            continue
        name = source_name(subscription.title, subscription.url, taken)
        taken.add(name)
        listed_twice[key] = name
        plan.added.append(
            NewSource(
                name=name,
                url=subscription.url,
                section=plain_name(subscription.folder or "") or default_section,
                enabled=subscription.enabled,
            )
        )
    return plan


def source_name(title: str, url: str, taken: set[str]) -> str:
    """``title`` (else the URL's host, else the URL), numbered if another source has it."""
    base = plain_name(title) or plain_name(urlsplit(url).hostname or url)
    name, number = base, 2
    while name in taken:
        name = f"{base} ({number})"
        number += 1
    return name


def url_key(url: str) -> str:
    """``url`` as compared for sameness: scheme and host lower-cased, no default port."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    default = {"http": 80, "https": 443}.get(scheme)
    netloc = host if port is None or port == default else f"{host}:{port}"
    if parts.username is not None:
        credentials = parts.username + (f":{parts.password}" if parts.password else "")
        netloc = f"{credentials}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def same_url(first: str, second: str) -> bool:
    return url_key(first) == url_key(second)
