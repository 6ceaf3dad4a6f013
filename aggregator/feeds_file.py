"""``feeds.yaml`` edited in place: sources added and removed, the rest kept as written.

    FeedsFile.read(path) -> .sources, .config()
    with edit_lock(path): FeedsFile.current() -> .add(NewSource), .remove(name) -> .save()

What a person wrote stays: comments, key order, quoting, blank lines, the
file's own indentation, its line ends (CRLF stays CRLF), a byte order mark
and long lines unfolded.  New sources go at the end of ``sources:``.
Nothing is written unless the edited text is a valid configuration (the
same :func:`~aggregator.config.parse_config` as every command), and it is
written atomically (a temporary file beside it, fsynced, renamed over it): a
crash leaves the old file or the new one, never half of one.  Edits take
turns (:func:`edit_lock`), and each changes the file as it is when its turn
comes, so two ``aggregate add`` at once both land.

An edit is made one of two ways:

- a splice of the text (:func:`splice`), where PyYAML's tree of the file
  (composed once, for validation too) says on which lines each source is: a
  removed source's lines are cut, new ones are written after the last one
  in its own layout.  Every other line stays byte for byte, and it takes
  milliseconds where a file of 10,000 sources took ruamel.yaml 5 s.  It is
  used only if the spliced text reads as the configuration it must be: the
  same settings, the same sources less the removed one or plus the added
  ones (:meth:`FeedsFile.spliced`);
- else ruamel.yaml's round trip (:meth:`FeedsFile.rewritten`), guessing the
  indentation from the file, for the layouts the splice leaves alone (a
  flow list ``sources: [...]``, an empty or missing list, tabs, ``---``).

ruamel.yaml is imported here only, and only for the second way; reading the
configuration is PyYAML's job (:mod:`aggregator.config`), which is faster
and never writes.
"""

from __future__ import annotations

import codecs
import contextlib
import dataclasses
import errno
import fcntl
import io
import itertools
import os
import re
import secrets
import stat
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .config import (
    CollectionNode,
    Config,
    MappingNode,
    ScalarNode,
    SequenceNode,
    SourceConfig,
    YamlNode,
    compose_config,
    config_from_node,
    decode_config,
    emit_yaml,
    node_value,
    parse_config,
    read_config_bytes,
    reads_as_itself,
    same_name_key,
)
from .errors import ConfigError
from .filters import Filters
from .request_headers import NO_HEADERS, SourceHeaders, with_defaults

if TYPE_CHECKING:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

__all__ = ["FeedsFile", "NewSource", "check_editable", "edit_lock", "splice", "write_atomically"]


@dataclass(frozen=True, slots=True)
class NewSource:
    """A source to add: what ``aggregate add`` and ``aggregate import`` write."""

    name: str
    url: str
    section: str
    enabled: bool = True
    # Its own request headers (``aggregate add --header``), checked already,
    # in the order given; printed with their values masked.
    headers: SourceHeaders = NO_HEADERS

    def as_dict(self) -> dict[str, object]:
        entry: dict[str, object] = {"name": self.name, "url": self.url, "section": self.section}
        if not self.enabled:
            entry["enabled"] = False
        if self.headers:
            entry["headers"] = dict(self.headers.pairs)
        return entry

    def rows(self) -> int:
        """The lines it takes in block style: one a key, and one a header under ``headers:``."""
        return len(self.as_dict()) + len(self.headers.pairs)


@dataclass(frozen=True, slots=True)
class ListedSource:
    """A source as the file lists it (before validation: any key may be missing)."""

    name: str | None
    url: str | None


# An entry of the list being edited: the index of one the file lists, or one added.
_Entry = int | NewSource


class FeedsFile:
    """One configuration file's text and YAML tree, and the edits to make to them.

    The edits are kept as they are asked for (:meth:`add`, :meth:`remove`)
    and made to the text when it is asked for (:meth:`text`, :meth:`save`)."""

    def __init__(self, path: Path, data: bytes, text: str, root: YamlNode | None):
        self.path = path
        self._read = data  # as read, to tell whether another edit came since
        self._text = text  # "\n" line ends, no byte order mark
        self._root = root
        self._config: Config | None = None
        self._items = _items(root, path)  # the nodes of the list as the file has it
        self._entries: list[_Entry] = list(range(len(self._items)))
        # To make again on ruamel's document: a source added, or the name of one removed.
        self._edits: list[NewSource | str] = []

    @classmethod
    def read(cls, path: Path) -> FeedsFile:
        """The file as it is; a file that does not exist yet is an empty one.

        Raises OSError naming the file if it is one no edit may replace (see
        :func:`check_editable`), before anything is fetched for the edit;
        ConfigError if it is not YAML, or not a mapping."""
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
        text = decode_config(data, path).removeprefix("\ufeff")
        root = compose_config(text, path)
        if root is not None and not isinstance(root, MappingNode):
            raise ConfigError("expected a mapping of keys to values", path=str(path), line=1)
        return cls(path, data, text, root)

    def config(self) -> Config:
        """The file as read, validated as every command reads it; raises ConfigError."""
        if self._config is None:
            self._config = config_from_node(self._root, self.path)
        return self._config

    @property
    def sources(self) -> list[ListedSource]:
        return [listed for entry in self._entries if (listed := self._listed(entry)) is not None]

    def _listed(self, entry: _Entry) -> ListedSource | None:
        """An entry's name and URL; None for an item of the list that is no mapping."""
        if isinstance(entry, NewSource):
            return ListedSource(entry.name, entry.url)
        item = self._items[entry]
        if not isinstance(item, MappingNode):
            return None
        return ListedSource(_value(item, "name"), _value(item, "url"))

    def setting(self, key: str) -> object:
        """A top-level value as written (None if absent), for a file with no sources
        yet, which is no valid configuration to read it from."""
        node = _get(self._root, key)
        if node is None:
            return None
        return node_value(node)

    def add(self, source: NewSource) -> None:
        """Append ``source`` to the list; what followed the list (a blank line
        before the next key, a comment) follows it still."""
        self._entries.append(source)
        self._edits.append(source)

    def remove(self, name: str) -> bool:
        """Take out the source named ``name``; False if there is none."""
        wanted = same_name_key(name)
        for position, entry in enumerate(self._entries):
            listed = self._listed(entry)
            found = listed.name if listed is not None else None
            if found is not None and same_name_key(found) == wanted:
                del self._entries[position]
                self._edits.append(name)
                return True
        return False

    def text(self) -> str:
        """The edited file, with "\\n" line ends (see :meth:`encoded`): spliced
        where that can be done, else rewritten by ruamel.yaml."""
        return self._edited()[0]

    def _edited(self) -> tuple[str, Config | None]:
        """:meth:`text`, and its configuration when the splice read it already."""
        spliced = self.spliced()
        return spliced if spliced is not None else (self.rewritten(), None)

    def spliced(self) -> tuple[str, Config] | None:
        """The edited file made by :func:`splice`, and its configuration; None if
        the splice cannot be made or does not read as the edit asked for.

        The check that makes the splice safe to write: the text is read as
        every command reads it, and must give the configuration read before
        the edit, in every setting and every source, less the source removed
        or plus those added (name, URL, section, whether enabled, headers).
        Anything else (a layout :func:`splice` misjudged) leaves the edit to
        ruamel.yaml."""
        listed = {entry for entry in self._entries if isinstance(entry, int)}
        removed = [index for index in range(len(self._items)) if index not in listed]
        added = [entry for entry in self._entries if isinstance(entry, NewSource)]
        if len(removed) > 1 or (removed and added) or not self._edits:
            return None
        try:
            before = self.config()
        except ConfigError:
            return None  # rewritten, and refused when saved, as before
        text = splice(self._text, self._root, removed[0] if removed else None, added)
        if text is None or len(before.sources) != len(self._items):
            return None
        try:
            after = parse_config(text, self.path)
        except ConfigError:
            return None
        kept = tuple(source for index, source in enumerate(before.sources) if index not in removed)
        new = after.sources[len(kept) :]
        same = (
            len(after.sources) == len(kept) + len(added)
            and all(map(_same_source, after.sources, kept))
            and [(s.name, s.url, s.path, s.section, s.enabled, s.headers) for s in new]
            == [(s.name, s.url, None, s.section, s.enabled, _sent(s, after.headers)) for s in added]
            and dataclasses.replace(after, sources=()) == dataclasses.replace(before, sources=())
        )
        return (text, after) if same else None

    def rewritten(self) -> str:
        """The edited file as ruamel.yaml's round trip writes it: the file loaded,
        the edits made to its document, the document dumped."""
        yaml_rt, document = _load_round_trip(self._text, self.path)
        for edit in self._edits:
            if isinstance(edit, NewSource):
                _append(document, edit, self.path)
            else:
                _delete(document, edit, self.path)
        stream = io.StringIO()
        yaml_rt.dump(document, stream)
        return stream.getvalue()

    def encoded(self, text: str) -> bytes:
        """``text`` as the file's bytes: CRLF line ends and a byte order mark
        if the file had them (both ways of editing read both and write neither)."""
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
        text, config = self._edited()
        if config is None:
            config = parse_config(text, self.path)
        try:
            write_atomically(self.path, self.encoded(text))
        except OSError as error:
            reason = f"cannot write: {error.strerror or error}"
            raise OSError(error.errno, reason, str(self.path)) from None
        return config


def _sent(source: NewSource, defaults: SourceHeaders) -> SourceHeaders:
    """The headers an added source reads as: its own, then the file's defaults."""
    return with_defaults(source.headers, defaults, source.url)


def _same_source(after: SourceConfig, before: SourceConfig) -> bool:
    """Whether a source kept by an edit reads as it did.  Its own filter rules
    say where the file writes them ("sources[2].filters[0]"), which moves
    when a source above it is removed: that alone is no change."""
    return after == before or _placeless(after) == _placeless(before)


def _placeless(source: SourceConfig) -> SourceConfig:
    rules = tuple(dataclasses.replace(rule, where="") for rule in source.filters.rules)
    return dataclasses.replace(source, filters=Filters(rules))


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
    from ruamel.yaml.comments import CommentedMap

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


# -- the tree as PyYAML composed it -----------------------------------------------


def _get(root: YamlNode | None, key: str) -> YamlNode | None:
    """The value of ``key`` in the mapping ``root`` (its first, if written twice)."""
    if not isinstance(root, MappingNode):
        return None
    for key_node, value in root.value:
        if isinstance(key_node, ScalarNode) and key_node.value == key:
            found: YamlNode = value
            return found
    return None


def _key(root: YamlNode | None, key: str) -> YamlNode | None:
    if isinstance(root, MappingNode):
        for key_node, _value_node in root.value:
            if isinstance(key_node, ScalarNode) and key_node.value == key:
                return key_node
    return None


_NULL_TAG = "tag:yaml.org,2002:null"


def _items(root: YamlNode | None, path: Path) -> list[YamlNode]:
    """The entries of ``sources:``: none if the key is missing or empty; raises
    ConfigError if it is not a list."""
    sources = _get(root, "sources")
    if sources is None or (isinstance(sources, ScalarNode) and sources.tag == _NULL_TAG):
        return []
    if not isinstance(sources, SequenceNode):
        key = _key(root, "sources")
        line = key.start_mark.line + 1 if key is not None else None
        raise ConfigError("expected a list of sources", path=str(path), line=line, key="sources")
    return list(sources.value)


def _value(item: YamlNode, key: str) -> str | None:
    """A source's name or URL as written, before validation: None if missing or not text."""
    node = _get(item, key)
    if not isinstance(node, ScalarNode) or node.tag == _NULL_TAG:
        return None
    return str(node.value)


# -- the splice -------------------------------------------------------------------

# Characters the line arithmetic below does not handle: tabs (which YAML
# allows in some places and not others), and the line breaks other than
# "\n" that YAML 1.1 counts (NEL, LS, PS) and str.split("\n") does not.
_UNHANDLED = re.compile("[\t\r\x85\u2028\u2029]")
# Several documents, or directives: one document is what every command reads.
_MARKERS = re.compile(r"^(?:---|\.\.\.)(?:[ \n]|$)|^%", re.MULTILINE)


def splice(
    text: str, root: YamlNode | None, removed: int | None, added: Sequence[NewSource]
) -> str | None:
    """``text`` with the entry at index ``removed`` of ``sources:`` cut out, or
    with ``added`` written after its last entry; None if the list is in a
    layout this does not handle (then ruamel.yaml rewrites the file).

    ``root`` is ``text`` composed by PyYAML: its marks give the line of each
    entry.  Every line but the removed entry's or the new ones stays as it
    is.  Handled: a block list (``- name: ...``, the dash indented or not) of
    block mappings or one-line flow mappings (``- {name: a, url: b}``), with
    comment lines and blank lines between entries.  New entries copy the last
    one's indentation and style; their values are quoted by PyYAML's emitter
    where the configuration's reader needs it (``'a: b'``, ``'yes'``).

    A removed entry takes its own lines only (with a comment at the end of
    one of them): a comment line above or below it may be about the list, or
    about a group of entries, and stays.  Blank lines: where the entry was
    between two blank lines, or first in the list, the blank lines that
    followed it go with it, so that no blank line is doubled and the list
    does not start with one.

    Nothing here checks that the result means what it should: that is
    :meth:`FeedsFile.spliced`'s job."""
    if (removed is None) == (not added):
        return None  # one kind of edit at a time, as the commands make them
    if _UNHANDLED.search(text) or _MARKERS.search(text):
        return None
    key = _key(root, "sources")
    sequence = _get(root, "sources")
    if not isinstance(root, MappingNode) or root.flow_style or key is None:
        return None
    if not isinstance(sequence, SequenceNode) or sequence.flow_style or not sequence.value:
        return None
    lines = text.split("\n")
    ending = lines.pop()  # "" after a final newline, else the last line
    if ending:
        lines.append(ending)  # and the edited file ends with a newline, as ruamel's did
    layout = _Layout(lines, sequence)
    above = key.end_mark.line if key.end_mark.line == key.start_mark.line else None
    if above is None:
        return None
    if removed is not None:
        return layout.cut(removed, above)
    return layout.append(added)


class _Layout:
    """Where each entry of a block list is, in lines of the text."""

    def __init__(self, lines: list[str], sequence: SequenceNode):
        self.lines = lines
        self.items: list[YamlNode] = sequence.value
        self.dash = sequence.start_mark.column

    def span(self, index: int) -> tuple[int, int] | None:
        """(first, last) line of entry ``index``; None unless it is a mapping that
        starts on its dash's line and ends before anything else does."""
        item = self.items[index]
        first, column = item.start_mark.line, item.start_mark.column
        last = _last_line(item)
        if not isinstance(item, MappingNode) or last is None or not first <= last:
            return None
        if last >= len(self.lines):
            return None
        line = self.lines[first]
        if line[: self.dash].strip(" ") or line[self.dash : self.dash + 1] != "-":
            return None
        if column <= self.dash + 1 or line[self.dash + 1 : column].strip(" "):
            return None
        return first, last

    def gap(self, start: int, end: int) -> list[str] | None:
        """Lines ``start`` to ``end`` (exclusive), if every one is blank or a comment."""
        between = self.lines[start:end]
        return between if all(_blank_or_comment(line) for line in between) else None

    def cut(self, index: int, above: int) -> str | None:
        span = self.span(index)
        before = self.span(index - 1) if index > 0 else (above, above)
        if span is None or before is None:
            return None
        first, last = span
        if index + 1 < len(self.items):
            after = self.span(index + 1)
            if after is None:
                return None
            next_first = after[0]
        else:
            next_first = last + 1
            while next_first < len(self.lines) and _blank_or_comment(self.lines[next_first]):
                next_first += 1
        preceding = self.gap(before[1] + 1, first)
        following = self.gap(last + 1, next_first)
        if preceding is None or following is None:
            return None
        dropped = 0
        if (index == 0 and not preceding) or (preceding and not preceding[-1].strip()):
            while dropped < len(following) and not following[dropped].strip():
                dropped += 1
        return _joined(self.lines[:first] + self.lines[last + 1 + dropped :])

    def append(self, added: Sequence[NewSource]) -> str | None:
        last_item = self.items[-1]
        span = self.span(len(self.items) - 1)
        if span is None:
            return None
        first, last = span
        line = self.lines[first]
        column = last_item.start_mark.column
        prefix = line[:column]  # the dash and the spaces around it
        written: list[str] = []
        assert isinstance(last_item, MappingNode)  # as span() checked
        if last_item.flow_style:
            if first != last:
                return None
            padded = line[column + 1 : column + 2] == " "
            for source in added:
                flow = _emitted(source, flow=True)
                if flow is None:
                    return None
                written.append(prefix + ("{ " + flow[1:-1] + " }" if padded else flow))
        else:
            keys = [key_node for key_node, _ in last_item.value]
            if any(key_node.start_mark.column != column for key_node in keys):
                return None
            for source in added:
                block = _emitted(source, flow=False)
                if block is None:
                    return None
                rows = block.split("\n")
                written += [prefix + rows[0], *(" " * column + row for row in rows[1:])]
        return _joined(self.lines[: last + 1] + written + self.lines[last + 1 :])


def _last_line(node: YamlNode) -> int | None:
    """The line on which ``node`` ends: of its last scalar, or of the bracket
    closing a flow collection.  None for a block scalar (``|``, ``>``) or an
    empty value, whose end marks lie beyond what they hold."""
    while True:
        if isinstance(node, ScalarNode):
            if node.style in ("|", ">") or (not node.style and not node.value):
                return None
            break
        assert isinstance(node, CollectionNode)
        if node.flow_style:
            break
        if not node.value:
            return None
        child = node.value[-1]
        node = child[1] if isinstance(node, MappingNode) else child
    end = node.end_mark
    return int(end.line) if end.column > 0 else None


def _blank_or_comment(line: str) -> bool:
    stripped = line.strip(" ")
    return not stripped or stripped.startswith("#")


def _joined(lines: list[str]) -> str:
    return "".join(line + "\n" for line in lines)


def _emitted(source: NewSource, *, flow: bool) -> str | None:
    """``source`` as a YAML mapping, one line a key (or one line in all, in
    flow style), without its final newline; None if a value would take more.

    PyYAML's emitter quotes a value wherever PyYAML's reader (every
    command's) would not read it back as that text: ``'a: b'``, ``'#1'``,
    and ``'yes'``, ``'on'``, which YAML 1.1 reads as true."""
    text = emit_yaml(source.as_dict(), flow=flow).removesuffix("\n")
    rows = text.split("\n")
    expected = 1 if flow else source.rows()
    return text if len(rows) == expected else None


# -- the round trip, for the other layouts -----------------------------------------


def _load_round_trip(text: str, path: Path) -> tuple[YAML, CommentedMap]:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    round_trip = YAML(typ="rt")
    round_trip.preserve_quotes = True
    # No line is folded: a long URL or title stays on its line, as written.
    round_trip.width = sys.maxsize
    try:
        document = round_trip.load(text)
    except YAMLError as error:
        # ruamel's duplicate key message quotes both values whole (a line of
        # 700 kB for a list of 10,000 sources); PyYAML read the file already.
        mark = error.problem_mark if isinstance(error, MarkedYAMLError) else None
        line = mark.line + 1 if mark is not None else None
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        raise ConfigError(f"invalid YAML: {problem}", path=str(path), line=line) from None
    if document is None:
        document = CommentedMap()
    if not isinstance(document, CommentedMap):
        raise ConfigError("expected a mapping of keys to values", path=str(path), line=1)
    mapping, sequence, offset = _indentation(text)
    round_trip.indent(mapping=mapping, sequence=sequence, offset=offset)
    return round_trip, document


def _round_trip_sources(document: CommentedMap, path: Path, *, create: bool) -> CommentedSeq:
    from ruamel.yaml.comments import CommentedSeq

    sources = document.get("sources")
    if sources is None and create:
        sources = document["sources"] = CommentedSeq()
    if sources is None:
        return CommentedSeq()
    if not isinstance(sources, CommentedSeq):
        line = _line(document, "sources")
        raise ConfigError("expected a list of sources", path=str(path), line=line, key="sources")
    return sources


def _append(document: CommentedMap, source: NewSource, path: Path) -> None:
    """``source`` at the end of the document's list; what followed the list (a
    blank line before the next key, a comment) follows it still."""
    from ruamel.yaml.comments import CommentedMap

    sources = _round_trip_sources(document, path, create=True)
    if not sources:
        sources.fa.set_block_style()  # "sources: []" grows one source per block
    entry = CommentedMap(source.as_dict())
    if source.headers:
        entry["headers"] = _round_trip_headers(source.headers)
    last = sources[-1] if sources else None
    if isinstance(last, CommentedMap) and last:
        # What follows the list hangs on the last key of the last entry, a
        # nested one (a source's headers) included; it moves to the new
        # entry's, which a nested mapping of its own may hold too.
        holder, key = _last_key(last)
        slot = holder.ca.items.get(key)
        if slot and len(slot) > 2 and slot[2] is not None:
            new_holder, new_key = _last_key(entry)
            new_holder.ca.items[new_key] = [None, None, slot[2], None]
            slot[2] = None
    sources.append(entry)


def _last_key(mapping: CommentedMap) -> tuple[CommentedMap, object]:
    """The mapping holding the last key written of ``mapping``, and that key:
    its last key's, or the last key of the mapping that is its value."""
    from ruamel.yaml.comments import CommentedMap

    key = list(mapping)[-1]
    value = mapping[key]
    if isinstance(value, CommentedMap) and value:
        return _last_key(value)
    return mapping, key


def _round_trip_headers(headers: SourceHeaders) -> CommentedMap:
    """A new source's headers for ruamel.yaml to write, in the order given,
    each value quoted where PyYAML, which reads the file for every command,
    would not read it back as that text ('yes', '2'): ruamel.yaml follows
    YAML 1.2 and would leave them plain."""
    from ruamel.yaml.comments import CommentedMap
    from ruamel.yaml.scalarstring import SingleQuotedScalarString

    written = CommentedMap()
    for name, value in headers:
        written[name] = value if reads_as_itself(value) else SingleQuotedScalarString(value)
    return written


def _delete(document: CommentedMap, name: str, path: Path) -> None:
    """The source named ``name`` out of the document's list."""
    from ruamel.yaml.comments import CommentedMap

    sources = _round_trip_sources(document, path, create=False)
    wanted = same_name_key(name)
    for index, entry in enumerate(sources):
        if isinstance(entry, CommentedMap) and same_name_key(str(entry.get("name"))) == wanted:
            _keep_trailing_comment(sources, index)
            del sources[index]
            return
