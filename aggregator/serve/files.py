"""Published files held in memory, ready to send: bytes, gzip bytes, ETags, Last-Modified.

    FileCache.get(path) = os.stat(path)                        (every request: the only syscall)
                          | same (mtime_ns, size, inode)? -> the cached Representation
                          | else read + hash + gzip once, in a worker thread

The publisher replaces files atomically (a temporary file renamed over the old
one), so a changed stat means a whole new file, never a half-written one, and
an unchanged stat means the cached bytes are still the file's bytes.  Nothing
here knows about HTTP requests or aiohttp; :mod:`aggregator.serve.app` picks
the variant and the status.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import os
import stat
from dataclasses import dataclass
from email.utils import formatdate

# Level 6 is zlib's default: most of level 9's gain on XML and JSON at a
# fraction of its time, and it is paid once per published file, not per request.
GZIP_LEVEL = 6

# (st_mtime_ns, st_size, st_ino).  The inode is there because os.replace always
# brings a new one: two publishes within one timestamp tick that happen to
# keep the size (a one-character edit, on a filesystem with coarse mtimes)
# would otherwise be served stale until the next change.
FileKey = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class Variant:
    """One representation's exact bytes and its strong ETag (quoted)."""

    body: bytes
    etag: str


@dataclass(frozen=True, slots=True)
class Representation:
    """Everything needed to answer a GET or HEAD for one version of one resource.

    ``gzip`` is None when compressing does not make the body smaller (tiny
    files); identity is then sent to everyone.
    """

    identity: Variant
    gzip: Variant | None
    last_modified: int | None  # whole seconds since the epoch, as the header says it
    last_modified_header: str | None


def represent(data: bytes, *, modified: int | None = None) -> Representation:
    """``data`` as its identity and gzip variants, each with its own strong ETag.

    ``modified`` is the Last-Modified time in whole seconds since the epoch.

    Each ETag hashes the exact bytes of its variant (RFC 9110 section 8.8.3:
    a strong validator changes whenever the bytes sent change, and identity
    and gzip are different bytes).  Hashing the gzip bytes themselves, rather
    than suffixing the identity tag, keeps that true even if a zlib upgrade
    between two runs compresses the same file differently.  ``mtime=0`` keeps
    the gzip header, and so the tag, free of the clock.
    """
    compressed = gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    gzip_variant = Variant(compressed, _etag(compressed)) if len(compressed) < len(data) else None
    return Representation(
        identity=Variant(data, _etag(data)),
        gzip=gzip_variant,
        last_modified=modified,
        last_modified_header=None if modified is None else formatdate(modified, usegmt=True),
    )


@dataclass(frozen=True, slots=True)
class _Cached:
    key: FileKey
    representation: Representation


class FileCache:
    """The latest version of each file asked for, checked against one ``os.stat`` per request.

    Only files that exist are held, one version each, so memory is bounded by
    the output directory.  Loading (read, hash, compress) runs in the loop's
    default executor so that a large feed does not stall other requests, and
    requests arriving while a version loads wait for that one load rather
    than each starting their own.
    """

    def __init__(self) -> None:
        self._cached: dict[str, _Cached] = {}
        self._loading: dict[str, tuple[FileKey, asyncio.Future[_Cached]]] = {}

    async def get(self, path: str) -> Representation | None:
        """The current contents of the regular file at ``path``, or None when there is none.

        Other errors (permissions, I/O) are raised: a 404 would hide them.
        """
        try:
            status = os.stat(path)
        except (FileNotFoundError, NotADirectoryError):
            self._cached.pop(path, None)
            return None
        if not stat.S_ISREG(status.st_mode):
            return None
        key = (status.st_mtime_ns, status.st_size, status.st_ino)
        cached = self._cached.get(path)
        if cached is not None and cached.key == key:
            return cached.representation
        try:
            cached = await self._load(path, key)
        except (FileNotFoundError, NotADirectoryError):
            return None  # removed between the stat and the open
        # A slower load of an older version may land after a newer one; the
        # next request's stat then differs and loads again, so no harm done.
        self._cached[path] = cached
        return cached.representation

    async def _load(self, path: str, key: FileKey) -> _Cached:
        pending = self._loading.get(path)
        if pending is None or pending[0] != key:
            future = asyncio.get_running_loop().run_in_executor(None, _read, path)
            self._loading[path] = (key, future)

            def forget(done: asyncio.Future[_Cached]) -> None:
                current = self._loading.get(path)
                if current is not None and current[1] is done:
                    del self._loading[path]

            future.add_done_callback(forget)
            pending = (key, future)
        # Shielded: one waiter's client hanging up must not cancel the others' load.
        return await asyncio.shield(pending[1])


def _read(path: str) -> _Cached:
    """Read the file and describe it by its own ``fstat``.

    The key comes from the open file, not from the caller's earlier stat, so
    the bytes and the validators always belong to the same version even if
    the file was replaced in between.
    """
    with open(path, "rb") as stream:
        status = os.fstat(stream.fileno())
        data = stream.read()
    key = (status.st_mtime_ns, status.st_size, status.st_ino)
    return _Cached(key, represent(data, modified=status.st_mtime_ns // 1_000_000_000))


def _etag(data: bytes) -> str:
    # 128 bits of SHA-256: collisions are out of reach and the header stays short.
    return '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
