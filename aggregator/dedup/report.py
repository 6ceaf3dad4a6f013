"""``aggregate duplicates``: the stories merged from several copies, and why.

    <title of the entry>
      <entry id>  <link>
        <source>  <how it joined>  [<similarity>  like <source>]  <link>
          "<its own title>"            (when it differs from the entry's)

A copy stored before the near-duplicate index existed has no record of how it
joined; it shows as ``-``.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..redact import merged_secrets, shown_link, shown_text
from ..store.items import ClusterMember, DuplicateCluster


def duplicates_report(
    clusters: list[DuplicateCluster], secrets: Mapping[str, tuple[str, ...]] | None = None
) -> str:
    """``secrets``: each source's credentials (:func:`.redact.feed_secrets`),
    masked in the titles and links its copies gave, as published."""
    if not clusters:
        return "no story was carried by more than one copy\n"
    secrets = secrets or {}
    copies = sum(len(c.members) for c in clusters)
    stories = "1 story" if len(clusters) == 1 else f"{len(clusters)} stories"
    lines = [f"{stories} from {copies} copies", ""]
    for cluster in clusters:
        # The entry's title and link are one of its copies': any of theirs may be in them.
        shared = merged_secrets(*(secrets.get(m.source, ()) for m in cluster.members))
        lines.append(shown_text(cluster.title, shared) if cluster.title else "(untitled)")
        lines.append(f"  {cluster.uid}  {_link(cluster.link, shared)}")
        width = max(len(m.source) for m in cluster.members)
        hows = [_how(m) for m in cluster.members]
        how_width = max(len(how) for how in hows)
        for member, how in zip(cluster.members, hows, strict=True):
            own = secrets.get(member.source, ())
            source, how = member.source.ljust(width), how.ljust(how_width)
            lines.append(f"    {source}  {how}  {_link(member.link, own)}")
            if member.title is not None and member.title != cluster.title:
                lines.append(f'      "{shown_text(member.title, own)}"')
        lines.append("")
    return "\n".join(lines)


def _link(link: str | None, secrets: tuple[str, ...]) -> str:
    return shown_link(link, secrets) if link else "-"


def _how(member: ClusterMember) -> str:
    method = member.method or "-"
    if member.score is None:
        return method
    like = f" like {member.matched_source}" if member.matched_source else ""
    return f"{method} {member.score:.2f}{like}"
