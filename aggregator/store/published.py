"""The files last published, as the store keeps them for every daemon: what a save writes.

    stored digests (name -> digest) + the files just published (name -> bytes)
        -> published_changes -> the files to write (new or changed), the names to delete

A publish changes a few of its files (the merged feeds, the page, the
section that gained an entry); the others come out byte for byte as
before.  Each stored file keeps a digest of its bytes beside them, so that
a save compares digests, not bytes: it reads a few hundred bytes, not the
files, and writes only the files that changed.  Rewriting them all was
1.9 MB a publish with three sections, most of it unchanged.

Pure: the stores read the digests and apply the changes, in the save's
transaction (see :meth:`aggregator.store.base.Store.save_published`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass


def file_digest(body: bytes) -> str:
    """The digest a published file is stored with: SHA-256, in hex."""
    return hashlib.sha256(body).hexdigest()


@dataclass(frozen=True)
class PublishedChanges:
    """What a save writes: ``written`` (name, bytes, digest) new or changed,
    ``deleted`` the names published before and not now."""

    written: list[tuple[str, bytes, str]]
    deleted: list[str]


def published_changes(
    stored: Mapping[str, str | None], files: Mapping[str, bytes]
) -> PublishedChanges:
    """What saving ``files`` in place of the ``stored`` ones (name -> digest)
    writes.  A stored digest of None (a file saved before digests were kept)
    matches nothing: that file is written again."""
    written = []
    for name, body in files.items():
        digest = file_digest(body)
        if stored.get(name) != digest:
            written.append((name, body, digest))
    deleted = [name for name in stored if name not in files]
    return PublishedChanges(written, deleted)
