"""Editing feeds.yaml: the splice against ruamel.yaml's round trip.

Golden pairs in three tables.  SAME: layouts where the splice must write
exactly what ruamel.yaml's round trip writes (both are called).  BETTER:
layouts where they differ, each with the text the splice writes and why it
is the better one.  FALLBACK: layouts the splice leaves to ruamel.yaml
(``splice`` returns None, and so does ``FeedsFile.spliced``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from aggregator import feeds_file
from aggregator.cli import main
from aggregator.config import ConfigError, compose_config, load_config, parse_config
from aggregator.feeds_file import FeedsFile, NewSource, splice
from aggregator.request_headers import SourceHeaders
from tests.conftest import DATA
from tests.feedserver import FeedServer, Route

NEW = NewSource("New", "https://new.example/feed", "S")
QUOTED = [
    NewSource("a: b", "https://q.example/a#frag", "#1 news"),
    NewSource("Café – Ñews", "https://q.example/b?x=1&y=2", "[x]"),
    NewSource("Bob's - @home", "https://q.example/c", "100", enabled=False),
]


def entries(*names: str, indent: str = "  ", dash: str = "- ", blank: bool = False) -> str:
    """Block entries, ``{indent}{dash}name: X`` then the keys under ``name``."""
    under = indent + " " * len(dash)
    between = "\n" if blank else ""
    return between.join(
        f"{indent}{dash}name: {name}\n{under}url: https://{name.lower()}.example/\n"
        f"{under}section: S\n"
        for name in names
    )


@dataclass(frozen=True)
class Edit:
    text: str
    remove: str | None = None
    add: tuple[NewSource, ...] = ()


def edited(tmp_path: Path, edit: Edit, data: bytes | None = None) -> FeedsFile:
    path = tmp_path / "feeds.yaml"
    path.write_bytes(edit.text.encode("utf-8") if data is None else data)
    feeds = FeedsFile.read(path)
    if edit.remove is not None:
        assert feeds.remove(edit.remove)
    for source in edit.add:
        feeds.add(source)
    return feeds


# A source's own request headers, under the entry above them.
HEADERS_BLOCK = """\
    headers:
      # from the reader's settings page
      Authorization: 'Bearer abc123secret'
      Cookie: "session=xyz; theme=dark"
      User-Agent: MyReader/1.0
"""
# A source added with headers of its own (aggregate add --header).
PRIVATE = NewSource(
    "Private",
    "https://private.example/feed",
    "S",
    headers=SourceHeaders(
        (("Authorization", "Bearer abc123secret"), ("X-Version", "2"), ("Cookie", "a=b; c=d"))
    ),
)
ABC = "sources:\n" + entries("A", "B", "C")
SPACED = "sources:\n" + entries("A", "B", "C", blank=True)
START = (
    "# My feeds\ntitle: T\n\nsources:\n"
    + entries("A", "B")
    + "\noutput:\n    dir: out   # four spaces\n"
)

SAME = {
    "remove-middle": Edit(ABC, remove="B"),
    "remove-first": Edit(ABC, remove="A"),
    "remove-last": Edit(ABC, remove="C"),
    "add": Edit(ABC, add=(NEW,)),
    "add-several": Edit(ABC, add=(NEW, NewSource("Newer", "https://newer.example/", "T"))),
    "indent-4-remove": Edit("sources:\n" + entries("A", "B", indent="    "), remove="A"),
    "indent-4-add": Edit("sources:\n" + entries("A", "B", indent="    "), add=(NEW,)),
    "dash-not-indented-add": Edit(
        "sources:\n" + entries("A", "B", indent="") + "title: T\n", add=(NEW,)
    ),
    "dash-not-indented-remove-last": Edit(
        "sources:\n" + entries("A", "B", indent="") + "title: T\n", remove="B"
    ),
    "wide-dash-add": Edit("sources:\n" + entries("A", "B", indent="", dash="-   "), add=(NEW,)),
    "blank-lines-remove-middle": Edit(SPACED, remove="B"),
    "blank-lines-remove-first": Edit(SPACED, remove="A"),
    "blank-lines-remove-last": Edit(SPACED, remove="C"),
    "blank-lines-add": Edit(SPACED, add=(NEW,)),
    "other-keys-after-add": Edit(START, add=(NEW,)),
    "other-keys-after-remove-last": Edit(START, remove="B"),
    "other-keys-after-remove-first": Edit(START, remove="A"),
    "comment-above-next-remove": Edit(
        "sources:\n" + entries("A", "B") + "  # about C\n" + entries("C"), remove="B"
    ),
    "commented-out-entries-after-add": Edit(
        "sources:\n" + entries("A") + "  # - name: Old\n  #   url: https://old/\n\ntitle: T\n",
        add=(NEW,),
    ),
    "blank-lines-at-the-end-add": Edit(ABC + "\n\n", add=(NEW,)),
    "no-final-newline-add": Edit(ABC.removesuffix("\n"), add=(NEW,)),
    "no-final-newline-remove": Edit(ABC.removesuffix("\n"), remove="A"),
    "quoted-values-kept-and-written": Edit(
        "sources:\n  - name: 'A'\n    url: \"https://a.example/\"\n    section: S\n"
        "    interval: 2h\n    enabled: false\n",
        add=tuple(QUOTED),
    ),
    "unicode-names-remove": Edit("sources:\n" + entries("Café", "Ñews", "Zürich"), remove="Ñews"),
    # B's own rule is "sources[1].filters[0]" before the edit, "sources[0]..." after.
    "remove-above-a-source-with-filters": Edit(
        "filters:\n  - block:\n      title: '^Ad:'\nsources:\n"
        + entries("A", "B").replace(
            "b.example/\n", "b.example/\n    filters:\n      - keep:\n          title: x\n"
        )
        + entries("C"),
        remove="A",
    ),
    # A source's headers block (a nested mapping, quoted values, a comment)
    # above or below the entry edited.
    "remove-above-a-source-with-headers": Edit(
        "sources:\n" + entries("A") + entries("B") + HEADERS_BLOCK + entries("C"), remove="A"
    ),
    "remove-below-a-source-with-headers": Edit(
        "sources:\n" + entries("A") + HEADERS_BLOCK + entries("B"), remove="B"
    ),
    "add-after-a-source-with-headers": Edit(
        "sources:\n" + entries("A") + HEADERS_BLOCK + "title: T\n", add=(NEW,)
    ),
    # A source added with its own headers: a nested mapping under the entry,
    # its values quoted where YAML needs it; the comment after the list
    # stays after it, a last entry's headers block before it or not.
    "add-with-headers": Edit(ABC, add=(PRIVATE,)),
    "add-with-headers-beside-top-level-ones": Edit(
        "headers:\n  User-Agent: MyReader/1.0\nsources:\n"
        + entries("A", indent="    ")
        + "# the end\n",
        add=(PRIVATE,),
    ),
    "add-with-headers-after-a-source-with-headers": Edit(
        "sources:\n" + entries("A") + HEADERS_BLOCK + "# the end\n\ntitle: T\n", add=(PRIVATE,)
    ),
    "long-lines": Edit(
        "sources:\n  - name: A\n    url: https://a.example/?" + "x" * 5000 + "\n    section: S\n",
        add=(NEW,),
    ),
}


@pytest.mark.parametrize("edit", SAME.values(), ids=SAME.keys())
def test_the_splice_writes_what_ruamel_writes(edit: Edit, tmp_path: Path) -> None:
    feeds = edited(tmp_path, edit)

    spliced = feeds.spliced()

    assert spliced is not None
    assert spliced[0] == feeds.rewritten()
    assert feeds.text() == spliced[0]


@pytest.mark.parametrize(
    ("head", "newline"),
    [("", "\r\n"), ("\ufeff", "\n"), ("\ufeff", "\r\n")],
    ids=["crlf", "bom", "both"],
)
@pytest.mark.parametrize(
    "edit", [Edit(START, remove="A"), Edit(START, add=(NEW,))], ids=["remove", "add"]
)
def test_line_ends_and_a_byte_order_mark_are_kept_as_ruamel_keeps_them(
    head: str, newline: str, edit: Edit, tmp_path: Path
) -> None:
    data = (head + edit.text.replace("\n", newline)).encode("utf-8")
    feeds = edited(tmp_path, edit, data)

    spliced = feeds.spliced()

    assert spliced is not None
    written = feeds.encoded(spliced[0])
    assert written == feeds.encoded(feeds.rewritten())
    assert written.startswith(head.encode("utf-8") + b"# My feeds" + newline.encode())
    assert written.count(b"\n") == written.count(newline.encode())


def test_quoted_values_read_back_as_written(tmp_path: Path) -> None:
    feeds = edited(tmp_path, SAME["quoted-values-kept-and-written"])

    spliced = feeds.spliced()

    assert spliced is not None
    assert spliced[0].endswith(
        "  - name: 'a: b'\n    url: https://q.example/a#frag\n    section: '#1 news'\n"
        "  - name: Café – Ñews\n    url: https://q.example/b?x=1&y=2\n    section: '[x]'\n"
        "  - name: Bob's - @home\n    url: https://q.example/c\n    section: '100'\n"
        "    enabled: false\n"
    )
    read = spliced[1].sources[1:]
    assert [(s.name, s.url, s.section, s.enabled) for s in read] == [
        (s.name, s.url, s.section, s.enabled) for s in QUOTED
    ]


# Each: the edit, what the splice writes, and what ruamel.yaml wrote.
BETTER = {
    # The blank line before "output:" went, and the comment about B stayed
    # glued to "output:".  The splice keeps every line but B's own.
    "remove-an-entry-after-a-comment": (
        Edit(
            "sources:\n"
            + entries("A")
            + "\n  # about B\n"
            + entries("B")
            + "\noutput:\n  dir: out\n",
            remove="B",
        ),
        "sources:\n" + entries("A") + "\n  # about B\n\noutput:\n  dir: out\n",
        "sources:\n" + entries("A") + "\n  # about B\noutput:\n  dir: out\n",
    ),
    # ruamel took the comment lines after A with it: the comment about B.
    "remove-the-first-entry-before-a-comment": (
        Edit("sources:\n" + entries("A") + "  # about B\n" + entries("B"), remove="A"),
        "sources:\n  # about B\n" + entries("B"),
        "sources:\n" + entries("B"),
    ),
    # ruamel moved the comment at the end of B's last line to the new entry.
    "add-after-an-end-of-line-comment": (
        Edit("sources:\n" + entries("A") + entries("B").replace("S\n", "S  # B's\n"), add=(NEW,)),
        "sources:\n"
        + entries("A")
        + entries("B").replace("S\n", "S  # B's\n")
        + "  - name: New\n    url: https://new.example/feed\n    section: S\n",
        "sources:\n"
        + entries("A")
        + entries("B")
        + "  - name: New\n    url: https://new.example/feed\n    section: S  # B's\n",
    ),
    # ruamel wrote the new entry in block style among one-line entries.
    "add-to-flow-entries": (
        Edit("sources:\n- {name: A, url: 'https://a/', section: S}\n", add=(NEW,)),
        "sources:\n- {name: A, url: 'https://a/', section: S}\n"
        "- {name: New, url: 'https://new.example/feed', section: S}\n",
        "sources:\n- {name: A, url: 'https://a/', section: S}\n"
        "- name: New\n  url: https://new.example/feed\n  section: S\n",
    ),
    "add-to-padded-flow-entries": (
        Edit("sources:\n  - { name: A, url: 'https://a/', section: S }\n", add=(NEW,)),
        "sources:\n  - { name: A, url: 'https://a/', section: S }\n"
        "  - { name: New, url: 'https://new.example/feed', section: S }\n",
        "sources:\n  - {name: A, url: 'https://a/', section: S}\n"
        "  - name: New\n    url: https://new.example/feed\n    section: S\n",
    ),
    # ruamel indented "output:" as it guessed from "fetch:", a line no edit was about.
    "add-where-mappings-are-indented-unevenly": (
        Edit(
            "fetch:\n   timeout: 10\nsources:\n" + entries("A") + "output:\n  dir: out\n",
            add=(NEW,),
        ),
        "fetch:\n   timeout: 10\nsources:\n"
        + entries("A")
        + "  - name: New\n    url: https://new.example/feed\n    section: S\noutput:\n  dir: out\n",
        "fetch:\n   timeout: 10\nsources:\n"
        + entries("A")
        + "  - name: New\n    url: https://new.example/feed\n    section: S\n"
        + "output:\n   dir: out\n",
    ),
}


@pytest.mark.parametrize(("edit", "spliced", "rewritten"), BETTER.values(), ids=BETTER.keys())
def test_where_the_splice_and_ruamel_differ(
    edit: Edit, spliced: str, rewritten: str, tmp_path: Path
) -> None:
    feeds = edited(tmp_path, edit)

    made = feeds.spliced()

    assert made is not None
    assert made[0] == spliced
    assert feeds.rewritten() == rewritten


@pytest.mark.parametrize("value", ["yes", "on", "No", "1_000"])
def test_a_name_yaml_11_reads_as_a_boolean_or_number_is_quoted(value: str, tmp_path: Path) -> None:
    # ruamel.yaml (YAML 1.2) wrote "name: yes" unquoted; PyYAML, which reads
    # the file for every command, reads it as true, and the add was refused.
    feeds = edited(tmp_path, Edit(ABC, add=(NewSource(value, "https://new.example/", value),)))

    made = feeds.spliced()

    assert made is not None
    assert made[0].endswith(
        f"  - name: '{value}'\n    url: https://new.example/\n    section: '{value}'\n"
    )
    assert (made[1].sources[-1].name, made[1].sources[-1].section) == (value, value)
    if value in ("yes", "on", "No"):
        with pytest.raises(ConfigError):
            parse_config(feeds.rewritten(), tmp_path / "feeds.yaml")


@pytest.mark.parametrize(
    "layout",
    [ABC, "sources: [{name: A, url: 'https://a/', section: S}]\n"],
    ids=["splice", "ruamel"],
)
def test_header_values_yaml_reads_otherwise_are_quoted(layout: str, tmp_path: Path) -> None:
    """Whichever way the file is edited, each value of a new source's headers
    reads back as the text it is: a number, a YAML 1.1 boolean, an alias,
    a comment, a flow collection or a key are quoted."""
    values = ("2", "yes", "*alias", "# not a comment", "[x", "a: b", "Bearer abc123secret")
    headers = SourceHeaders(tuple((f"X-{index}", value) for index, value in enumerate(values)))
    added = NewSource("P", "https://p/", "S", headers=headers)
    feeds = edited(tmp_path, Edit(layout, add=(added,)))

    config = feeds.save()

    assert (feeds.spliced() is not None) == (layout == ABC)
    assert config.sources[-1].headers == headers
    assert load_config(tmp_path / "feeds.yaml").sources[-1].headers == headers


# Each: the edit, and the index of the entry removed (for ``splice`` itself).
FALLBACK = {
    "flow-list": (Edit("sources: [{name: A, url: 'https://a/', section: S}]\n", add=(NEW,)), None),
    "flow-list-remove": (
        Edit(
            "sources: [{name: A, url: 'https://a/', section: S},"
            " {name: B, url: 'https://b/', section: S}]\n",
            remove="A",
        ),
        0,
    ),
    "empty-list": (Edit("title: T\nsources: []\n", add=(NEW,)), None),
    "no-list": (Edit("title: T\n", add=(NEW,)), None),
    "empty-file": (Edit("", add=(NEW,)), None),
    "tab-in-a-comment": (Edit(ABC + "#\there\n", add=(NEW,)), None),
    "document-markers": (Edit("---\n" + ABC + "...\n", remove="B"), 1),
    "multi-line-flow-entry": (
        Edit("sources:\n  - {name: A,\n     url: 'https://a/', section: S}\n", add=(NEW,)),
        None,
    ),
    "block-scalar-last": (
        Edit("sources:\n" + entries("A") + "    interval: >-\n      2h\n", add=(NEW,)),
        None,
    ),
    "alias-last": (
        Edit(
            "sources:\n  - name: A\n    url: https://a/\n    section: &s S\n"
            "  - name: B\n    url: https://b/\n    section: *s\n",
            add=(NEW,),
        ),
        None,
    ),
    "entry-below-its-dash": (
        Edit("sources:\n  -\n    name: A\n    url: https://a/\n    section: S\n", add=(NEW,)),
        None,
    ),
    "remove-and-add": (Edit(ABC, remove="B", add=(NEW,)), 1),
}


@pytest.mark.parametrize(("edit", "removed"), FALLBACK.values(), ids=FALLBACK.keys())
def test_layouts_the_splice_leaves_to_ruamel(
    edit: Edit, removed: int | None, tmp_path: Path
) -> None:
    feeds = edited(tmp_path, edit)
    root = compose_config(edit.text, tmp_path / "feeds.yaml")

    assert splice(edit.text, root, removed, edit.add) is None
    assert feeds.spliced() is None
    assert feeds.text() == feeds.rewritten()


def test_an_invalid_file_is_left_to_ruamel_and_refused_as_before(tmp_path: Path) -> None:
    feeds = edited(tmp_path, Edit("sources:\n" + entries("A") + "colour: blue\n", add=(NEW,)))

    assert feeds.spliced() is None
    with pytest.raises(ConfigError, match="unknown key 'colour'"):
        feeds.save()
    assert "New" not in (tmp_path / "feeds.yaml").read_text()


def test_a_splice_that_reads_otherwise_is_not_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An anchor in the removed entry, named by an alias in another: the cut
    # text is no YAML any more.
    anchored = Edit(
        "sources:\n  - name: A\n    url: https://a/\n    section: &s S\n"
        "  - name: B\n    url: https://b/\n    section: *s\n    interval: 2h\n",
        remove="A",
    )
    feeds = edited(tmp_path, anchored)
    assert splice(anchored.text, compose_config(anchored.text, feeds.path), 0, ()) is not None
    assert feeds.spliced() is None

    # A splice that loses another line, changes a setting or a kept source:
    # each is read back, found wrong, and left for ruamel.yaml to make.
    for wrong in (
        lambda text: text.replace("  - name: A\n", "", 1),
        lambda text: "title: Other\n" + text,
        lambda text: text.replace("https://a.example/", "https://z.example/"),
        lambda text: text.replace("section: S\n", "section: S\n    enabled: false\n", 1),
    ):
        original = feeds_file.splice
        monkeypatch.setattr(
            feeds_file,
            "splice",
            lambda *args, wrong=wrong, original=original: wrong(original(*args)),
        )
        feeds = edited(tmp_path, Edit(ABC, remove="C"))
        assert feeds.spliced() is None
        config = feeds.save()
        assert (tmp_path / "feeds.yaml").read_text() == "sources:\n" + entries("A", "B")
        assert [s.name for s in config.sources] == ["A", "B"]
        monkeypatch.setattr(feeds_file, "splice", original)


# -- through the command line, on a large file --------------------------------------


def test_add_and_remove_on_10000_sources_splice_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, feed_server: FeedServer
) -> None:
    feed_server.add("/feed", Route((DATA / "feeds" / "rss20.xml").read_bytes()))
    lines = ["title: Many", "allow_private: true", "sources:"]
    for n in range(10_000):
        lines += [f"  - name: feed{n:05d}", f"    url: https://f{n}.example/rss", "    section: S"]
    lines += ["", "output:", "  dir: out", ""]
    original = "\n".join(lines)
    path = tmp_path / "feeds.yaml"
    path.write_text(original)

    def slow(self: FeedsFile) -> str:
        raise AssertionError("rewritten by ruamel.yaml")

    monkeypatch.setattr(FeedsFile, "rewritten", slow)
    url = feed_server.url("/feed")

    assert main(["add", url, "--section", "New", "--name", "added: one", "-c", str(path)]) == 0
    added = f"  - name: 'added: one'\n    url: {url}\n    section: New\n"
    assert path.read_text() == original.replace(
        "\n\noutput:", "\n" + added.rstrip("\n") + "\n\noutput:"
    )

    assert main(["remove", "feed04321", "-c", str(path)]) == 0
    cut = "  - name: feed04321\n    url: https://f4321.example/rss\n    section: S\n"
    assert path.read_text() == original.replace(cut, "").replace(
        "\n\noutput:", "\n" + added.rstrip("\n") + "\n\noutput:"
    )
    sources = load_config(path).sources
    assert len(sources) == 10_000
    assert (sources[-1].name, sources[-1].url) == ("added: one", url)


@pytest.mark.parametrize(
    "layout",
    [
        # Block style: every edit is a splice.
        "sources:\n" + entries("Private") + HEADERS_BLOCK + entries("Other"),
        # A flow list: every edit is ruamel.yaml's round trip.
        "sources: [{name: Private, url: 'https://private.example/', section: S, headers: "
        "{Authorization: 'Bearer abc123secret', Cookie: 'session=xyz; theme=dark', "
        "User-Agent: MyReader/1.0}}, {name: Other, url: 'https://other.example/', section: S}]\n",
    ],
    ids=["block", "flow"],
)
def test_add_import_and_remove_keep_a_sources_headers(
    layout: str, tmp_path: Path, feed_server: FeedServer
) -> None:
    """``aggregate add``, ``import`` and ``remove``, editing other sources,
    leave a source's headers as they were: byte for byte where the edit is
    a splice, and reading as the same headers either way."""
    feed_server.add("/feed", Route((DATA / "feeds" / "rss20.xml").read_bytes()))
    path = tmp_path / "feeds.yaml"
    path.write_text("allow_private: true\n" + layout, encoding="utf-8")
    expected = (
        ("Authorization", "Bearer abc123secret"),
        ("Cookie", "session=xyz; theme=dark"),
        ("User-Agent", "MyReader/1.0"),
    )

    def private_headers() -> tuple[tuple[str, str], ...]:
        (private,) = [s for s in load_config(path).sources if s.name == "Private"]
        return private.headers.pairs

    assert private_headers() == expected
    edits = [
        ["add", feed_server.url("/feed"), "--section", "New", "--name", "Added"],
        ["import", str(DATA / "opml" / "newsboat.opml")],
        ["remove", "Other"],
    ]
    for edit in edits:
        assert main([*edit, "-c", str(path)]) == 0, edit
        assert private_headers() == expected, edit
        if layout.startswith("sources:\n"):
            assert HEADERS_BLOCK in path.read_text(encoding="utf-8"), edit
    assert [s.name for s in load_config(path).sources][:2] == ["Private", "Added"]
