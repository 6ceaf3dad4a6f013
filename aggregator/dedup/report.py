"""``aggregate duplicates``: the stories merged from several copies, and why.

    <title of the entry>
      <entry id>  <link>
        <source>  <how it joined>  [<similarity>  like <source>]  <link>
          "<its own title>"            (when it differs from the entry's)

A copy stored before the near-duplicate index existed has no record of how it
joined; it shows as ``-``.
"""

from __future__ import annotations

from ..store.items import ClusterMember, DuplicateCluster


def duplicates_report(clusters: list[DuplicateCluster]) -> str:
    if not clusters:
        return "no story was carried by more than one copy\n"
    copies = sum(len(c.members) for c in clusters)
    stories = "1 story" if len(clusters) == 1 else f"{len(clusters)} stories"
    lines = [f"{stories} from {copies} copies", ""]
    for cluster in clusters:
        lines.append(cluster.title or "(untitled)")
        lines.append(f"  {cluster.uid}  {cluster.link or '-'}")
        width = max(len(m.source) for m in cluster.members)
        hows = [_how(m) for m in cluster.members]
        how_width = max(len(how) for how in hows)
        for member, how in zip(cluster.members, hows, strict=True):
            source, how = member.source.ljust(width), how.ljust(how_width)
            lines.append(f"    {source}  {how}  {member.link or '-'}")
            if member.title is not None and member.title != cluster.title:
                lines.append(f'      "{member.title}"')
        lines.append("")
    return "\n".join(lines)


def _how(member: ClusterMember) -> str:
    method = member.method or "-"
    if member.score is None:
        return method
    like = f" like {member.matched_source}" if member.matched_source else ""
    return f"{method} {member.score:.2f}{like}"
