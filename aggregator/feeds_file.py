"""``feeds.yaml`` edited in place: sources added and removed, the rest kept as written.

    FeedsFile.read(path) -> .sources, .config()
    with edit_lock(path): FeedsFile.current() -> .add(NewSource), .remove(name) -> .save()

What a person wrote stays: comments, key order, quoting, blank lines, the
file's own indentation (ruamel.yaml's round-trip mode, guessing the indent
from the file), its line ends (CRLF stays CRLF), a byte order mark and long
lines unfolded.  New sources go at the end of ``sources:``.  Nothing is
written unless the edited text is a valid configuration (the same
:func:`~aggregator.config.parse_config` as every command), and it is written
atomically (a temporary file beside it, fsynced, renamed over it): a crash
leaves the old file or the new one, never half of one.  Edits take turns
(:func:`edit_lock`), and each changes the file as it is when its turn comes,
so two ``aggregate add`` at once both land.

ruamel.yaml is imported here only; reading the configuration for a pass is
PyYAML's job (:mod:`aggregator.config`), which is faster and never writes.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import fcntl
import io
import itertools
import os
import secrets
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from .config import Config, decode_config, parse_config, read_config_bytes, same_name_key
from .errors import ConfigError

__all__ = ["FeedsFile", "NewSource", "check_editable", "edit_lock", "write_atomically"]


@dataclass(frozen=True, slots=True)
class NewSource:
    """A source to add: what ``aggregate add`` and ``aggregate import`` write."""

    name: str
    url: str
    section: str
    enabled: bool = True

    def as_yaml(self) -> CommentedMap:
        entry = CommentedMap([("name", self.name), ("url", self.url), ("section", self.section)])
        if not self.enabled:
            entry["enabled"] = False
        return entry


@dataclass(frozen=True, slots=True)
class ListedSource:
    """A source as the file lists it (before validation: any key may be missing)."""

    name: str | None
    url: str | None


class FeedsFile:
    """One configuration file's YAML document, to edit and save."""

    def __init__(self, path: Path, data: bytes, document: CommentedMap, yaml: YAML):
        self.path = path
        self._read = data  # as read, to tell whether another edit came since
        self._document = document
        self._yaml = yaml

    @classmethod
    def read(cls, path: Path) -> FeedsFile:
        """The file as it is; a file that does not exist yet is an empty one.

        Raises OSError naming the file if it is one no edit may replace (see
        :func:`check_editable`), before anything is fetched for the edit."""
        check_editable(path)
        return cls._parse(path, _bytes(path))

    def current(self) -> FeedsFile:
        """The file as it is now: this one if its text is still what was read,
        else the file read anew (another edit, or a person, changed it since).

        Called under :func:`edit_lock`, so that the edit is made to what is
        there when it is written, not to what was there before a fetch."""
        check_editable(self.path)
        data = _bytes(self.path)
        return self if data == self._read else FeedsFile._parse(self.path, data)

    @classmethod
    def _parse(cls, path: Path, data: bytes) -> FeedsFile:
        text = decode_config(data, path)
        yaml = YAML(typ="rt")
        yaml.preserve_quotes = True
        # No line is folded: a long URL or title stays on its line, as written.
        yaml.width = sys.maxsize
        try:
            document = yaml.load(text)
        except YAMLError as error:
            # The error every other command gives for this file, where PyYAML
            # sees it too: ruamel's duplicate key message quotes both values
            # whole (a line of 700 kB for a list of 10,000 sources).
            parse_config(text, path)
            mark = error.problem_mark if isinstance(error, MarkedYAMLError) else None
            line = mark.line + 1 if mark is not None else None
            problem = getattr(error, "problem", None) or str(error).splitlines()[0]
            raise ConfigError(f"invalid YAML: {problem}", path=str(path), line=line) from None
        if document is None:
            document = CommentedMap()
        if not isinstance(document, CommentedMap):
            raise ConfigError("expected a mapping of keys to values", path=str(path), line=1)
        mapping, sequence, offset = _indentation(text)
        yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
        return cls(path, data, document, yaml)

    def config(self) -> Config:
        """The file as read, validated as every command reads it; raises ConfigError."""
        return parse_config(decode_config(self._read, self.path), self.path)

    def _sources(self, *, create: bool = False) -> CommentedSeq:
        sources = self._document.get("sources")
        if sources is None and create:
            sources = self._document["sources"] = CommentedSeq()
        if sources is None:
            return CommentedSeq()
        if not isinstance(sources, CommentedSeq):
            line = _line(self._document, "sources")
            raise ConfigError(
                "expected a list of sources", path=str(self.path), line=line, key="sources"
            )
        return sources

    @property
    def sources(self) -> list[ListedSource]:
        return list(self._listed())

    def _listed(self) -> Iterator[ListedSource]:
        for entry in self._sources():
            if isinstance(entry, CommentedMap):
                name, url = entry.get("name"), entry.get("url")
                yield ListedSource(
                    str(name) if name is not None else None, str(url) if url is not None else None
                )

    def setting(self, key: str) -> object:
        """A top-level value as written (None if absent), for a file with no sources
        yet, which is no valid configuration to read it from."""
        return self._document.get(key)

    def add(self, source: NewSource) -> None:
        """Append ``source`` to the list; what followed the list (a blank line
        before the next key, a comment) follows it still."""
        sources = self._sources(create=True)
        if not sources:
            sources.fa.set_block_style()  # "sources: []" grows one source per block
        entry = source.as_yaml()
        last = sources[-1] if sources else None
        if isinstance(last, CommentedMap) and last:
            slot = last.ca.items.get(list(last)[-1])
            if slot and len(slot) > 2 and slot[2] is not None:
                entry.ca.items[list(entry)[-1]] = [None, None, slot[2], None]
                slot[2] = None
        sources.append(entry)

    def remove(self, name: str) -> bool:
        """Take out the source named ``name``; False if there is none."""
        sources = self._sources()
        wanted = same_name_key(name)
        for index, entry in enumerate(sources):
            if isinstance(entry, CommentedMap) and same_name_key(str(entry.get("name"))) == wanted:
                _keep_trailing_comment(sources, index)
                del sources[index]
                return True
        return False

    def text(self) -> str:
        """The edited file, with "\\n" line ends (see :meth:`encoded`)."""
        stream = io.StringIO()
        self._yaml.dump(self._document, stream)
        return stream.getvalue()

    def encoded(self, text: str) -> bytes:
        """``text`` as the file's bytes: CRLF line ends and a byte order mark
        if the file had them (ruamel.yaml reads both and writes neither)."""
        if b"\r\n" in self._read:
            text = text.replace("\n", "\r\n")
        if self._read.startswith(codecs.BOM_UTF8):
            text = "\ufeff" + text
        return text.encode("utf-8")

    def save(self) -> Config:
        """Validate the edited file as a configuration, then write it; the new configuration.

        Raises :class:`ConfigError` (and writes nothing) if the result is not
        a valid configuration, OSError naming the file if it cannot be written
        (the old file is then as it was)."""
        text = self.text()
        config = parse_config(text, self.path)
        try:
            write_atomically(self.path, self.encoded(text))
        except OSError as error:
            reason = f"cannot write: {error.strerror or error}"
            raise OSError(error.errno, reason, str(self.path)) from None
        return config


def _bytes(path: Path) -> bytes:
    try:
        return read_config_bytes(path)
    except FileNotFoundError:
        return b""


@contextlib.contextmanager
def edit_lock(path: Path) -> Iterator[None]:
    """Hold the lock that makes edits of the configuration ``path`` take turns;
    wait for the edit that holds it to end.

    Two edits that overlap, each reading the file and writing it back, lose
    one of the changes: two ``aggregate add`` run at once both said "added",
    and the file had one.  The lock is ``flock`` on the directory holding the
    file (where a symlink points): no lock file is left beside feeds.yaml,
    it can be taken in a directory this user may not write (the edit then
    fails with its own reason), and the kernel releases it when the process
    dies, however it dies.  Only these commands take it; an editor or the
    daemon does not, and they see the file replaced atomically all the same.

    Raises OSError naming the directory if it cannot be opened."""
    directory = os.path.dirname(os.path.realpath(path))
    descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # and with it the lock


def check_editable(path: Path) -> None:
    """Raise OSError naming ``path`` if an edit must not replace it.

    - Not a regular file (``-c /dev/null``, a FIFO, ``/dev/stdin``): renaming
      over it would put a regular file in its place (as root, a /dev/null
      that is no device any more) and what it stands for would never see
      the edit.
    - Read-only (no write bit, or not writable by this user): the rename
      needs only the directory to be writable, so without this check a
      ``chmod a-w feeds.yaml`` would be overridden silently, where an
      editor asks first.  Root, whom ``access`` never refuses, is held by
      the mode bits.

    A file that does not exist is editable: the edit makes it.  A symlink is
    judged by the file it points to, which is the one replaced."""
    try:
        status = path.stat()
    except FileNotFoundError:
        return
    if not stat.S_ISREG(status.st_mode):
        raise OSError(errno.EINVAL, "cannot edit: not a regular file", str(path))
    if not status.st_mode & 0o222 or not os.access(path, os.W_OK):
        raise OSError(errno.EACCES, "cannot edit: the file is read-only", str(path))


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data``: a temporary file beside it, fsynced, renamed over it.

    A symlink is followed: the file it points to is replaced and the link
    stays a link (a feeds.yaml linked from a dotfiles repository is edited
    there; renaming over the link would leave the real file unedited).  The
    file keeps its permission bits (a feeds.yaml readable by its owner only
    stays so) and its owner and group (root editing the daemon's feeds.yaml
    leaves it the daemon's to read; see _keep_owner for other users).
    Raises OSError; the old file is then untouched."""
    target = Path(os.path.realpath(path))
    try:
        status: os.stat_result | None = target.stat()
    except FileNotFoundError:
        status = None
    mode = status.st_mode & 0o7777 if status is not None else 0o666  # less the umask
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            if status is not None:
                _keep_owner(stream.fileno(), status)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        if status is not None:
            os.chmod(temporary, mode)  # os.open's mode is narrowed by the umask
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def _keep_owner(descriptor: int, status: os.stat_result) -> None:
    """The new file's owner and group as the old one's, as far as this user
    may: root keeps both; a member of the file's group editing a
    group-writable file that another member owns keeps the group (so the
    others still may read and write it), and becomes its owner, as any
    editor that writes a new file makes it."""
    made = os.fstat(descriptor)
    for uid, gid in ((status.st_uid, status.st_gid), (-1, status.st_gid)):
        if (made.st_uid if uid == -1 else uid, gid) == (made.st_uid, made.st_gid):
            return
        try:
            os.fchown(descriptor, uid, gid)
            return
        except PermissionError:
            continue


def _indentation(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as the file writes them;
    this project's own style (2, 4, 2) where the file shows none."""
    mapping: int | None = None
    sequence: tuple[int, int] | None = None
    lines = [
        line
        for line in text.splitlines()
        if line.strip() and not line.lstrip().startswith("#") and "\t" not in line
    ]
    for above, line in itertools.pairwise(lines):
        content, parent = above.lstrip(" "), len(above) - len(above.lstrip(" "))
        if content.startswith("- ") or not content.rstrip().endswith(":"):
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if indent < parent:
            continue
        if stripped.startswith("- ") and sequence is None:
            rest = stripped[2:]
            offset = indent - parent
            sequence = (offset + 2 + len(rest) - len(rest.lstrip(" ")), offset)
        elif not stripped.startswith("- ") and indent > parent and mapping is None:
            mapping = indent - parent
    sequence_indent, offset = sequence or (4, 2)
    return mapping or 2, sequence_indent, offset


def _keep_trailing_comment(sources: CommentedSeq, index: int) -> None:
    """Before the entry at ``index`` is deleted: hand the comment or blank lines
    that follow it (ruamel keeps them on its last key) to the entry before it,
    so that what separated it from the next one still does."""
    entry = sources[index]
    previous = sources[index - 1] if index > 0 else None
    if not (isinstance(entry, CommentedMap) and entry and isinstance(previous, CommentedMap)):
        return
    if not previous:
        return
    slot = entry.ca.items.get(list(entry)[-1])
    token = slot[2] if slot and len(slot) > 2 else None
    if token is None:
        return
    kept = previous.ca.items.setdefault(list(previous)[-1], [None, None, None, None])
    if kept[2] is None:
        kept[2] = token


def _line(mapping: CommentedMap, key: str) -> int | None:
    try:
        position: Any = mapping.lc.key(key)
    except (KeyError, AttributeError):
        return None
    return int(position[0]) + 1
