"""Bad configuration through the real ``aggregate`` command: one clear line each, exit code 2.

tests/test_config.py checks the messages of ``load_config``; this checks what
a person sees: the command's exit code and a single stderr line naming the
file (and the line and key where there is one), for ``--once``, the daemon
and ``status`` alike, and never a traceback.
"""

from __future__ import annotations

import io
import resource
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from aggregator import config as config_module
from aggregator.cli import main

GOOD = """\
title: Test
sources:
  - name: Local
    path: articles
    section: One
  - name: Remote
    url: http://127.0.0.1:9/feed.xml
    section: Two
    allow_private: true
"""

LATER_MISTAKE = "  - name: Later\n    path: articles\n    sectoin: x\n"

CASES = [
    ("malformed-yaml", "sources: [\n  - name: x\n", "invalid YAML"),
    ("tab-indent", "sources:\n\t- name: x\n", "invalid YAML"),
    ("unknown-top-key", GOOD + "titel: x\n", "unknown key 'titel'; did you mean 'title'?"),
    (
        "unknown-source-key",
        GOOD.replace("section: One", "sectoin: One"),
        "unknown key 'sectoin'; did you mean 'section'?",
    ),
    (
        "unknown-fetch-key",
        GOOD + "fetch:\n  max_byte: 1MB\n",
        "unknown key 'max_byte'; did you mean 'max_bytes'?",
    ),
    ("interval-zero", GOOD + "interval: 0\n", "greater than zero"),
    ("interval-zero-unit", GOOD.replace("section: One", "section: One\n    interval: 0s"), "zero"),
    ("interval-wrong-type", GOOD + "interval: [1, 2]\n", "expected a single value"),
    ("timeout-not-duration", GOOD + "fetch:\n  timeout: soon\n", "not a duration"),
    ("size-not-size", GOOD + "fetch:\n  max_bytes: lots\n", "not a size"),
    ("max-items-zero", GOOD + "fetch:\n  max_items: 0\n", "greater than 0"),
    ("bool-wrong-type", GOOD.replace("allow_private: true", "allow_private: maybe"), "true or"),
    ("name-wrong-type", GOOD.replace("name: Local", "name: [a]"), "expected a single value"),
    ("sources-not-list", "sources: everything\n", "list of sources"),
    ("sources-empty", "sources: []\n", "list of sources"),
    ("no-sources", "title: x\n", "sources"),
    ("duplicate-name", GOOD.replace("name: Remote", "name: Local"), "duplicate source name"),
    (
        "duplicate-url",
        GOOD + "  - name: Again\n    url: http://127.0.0.1:9/feed.xml\n    section: Two\n",
        "duplicate source",
    ),
    ("duplicate-key", GOOD + "title: again\n", "appears twice"),
    ("missing-path", GOOD.replace("path: articles", "path: nowhere"), "no such file"),
    (
        "url-and-path",
        GOOD.replace("path: articles", "path: articles\n    url: http://x/"),
        "one of",
    ),
    ("not-http", GOOD.replace("http://127.0.0.1:9/feed.xml", "file:///etc/passwd"), "http(s)"),
    ("empty-file", "", "empty"),
    # Values Python or SQLite cannot hold, and URLs urllib cannot split: a
    # traceback each before they were checked (issue 12, section 6).
    ("url-open-bracket", GOOD.replace("http://127.0.0.1:9/feed.xml", "http://[::1"), "valid URL"),
    ("url-port", GOOD.replace("127.0.0.1:9/", "127.0.0.1:99999/"), "not a valid URL"),
    (
        "url-port-not-a-number",
        GOOD.replace("127.0.0.1:9/", "127.0.0.1:abc/"),
        ":7: sources[1].url: 'http://127.0.0.1:abc/feed.xml' is not a valid URL: Port could not",
    ),
    ("max-entries-huge", GOOD + "output:\n  max_entries: 100000000000000000000000\n", "too large"),
    ("digest-window-huge", GOOD + "digest:\n  window: 1000000000000d\n", "too long"),
    ("dedup-window-huge", GOOD + "dedup:\n  window: 100000000000000d\n", "too long"),
    ("interval-huge", GOOD + "max_interval: 1000000000000d\n", "too long"),
    # A sub-millisecond interval kept the daemon scheduling polls and nothing else.
    ("interval-sub-second", GOOD + "interval: 0.0001s\n", "too short"),
    ("min-interval-sub-second", GOOD + "min_interval: 0.5\n", "too short"),
    (
        "source-interval-sub-second",
        GOOD.replace("section: One", "section: One\n    interval: 0.001"),
        "too short",
    ),
    # A static server of the output directory would serve the database.
    ("store-in-output", GOOD + "store: out/state.db\n", "inside the output directory"),
    ("alias-bomb", "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n", "unknown key 'a'"),
    # A name is one line of every output: --once split it over two lines,
    # status wrote the NUL and the bidi override, sources.opml kept them.
    # (A mistake after them: without the check, no daemon starts.)
    (
        "name-newline",
        GOOD.replace("name: Local", 'name: "a\\nb\\u202e\\0"') + LATER_MISTAKE,
        ":3: sources[0].name: holds U+000A, a control character",
    ),
    (
        "name-nul",
        GOOD.replace("name: Local", 'name: "a\\0"') + LATER_MISTAKE,
        "sources[0].name: holds U+0000",
    ),
    (
        "name-bidi",
        GOOD.replace("name: Remote", 'name: "evil\\u202etxt.exe"') + LATER_MISTAKE,
        ":6: sources[1].name: holds U+202E, a bidi control",
    ),
    (
        "section-escape",
        GOOD.replace("section: Two", 'section: "Two\\e[2J"') + LATER_MISTAKE,
        ":8: sources[1].section: holds U+001B, a control character",
    ),
    # A traceback from the store, which cannot encode it.
    (
        "name-surrogate",
        GOOD.replace("name: Local", 'name: "a\\ud800"') + LATER_MISTAKE,
        "sources[0].name: holds U+D800, a lone surrogate",
    ),
    (
        "section-tab",
        GOOD.replace("section: One", 'section: "a\\tb"') + LATER_MISTAKE,
        "sources[0].section: holds U+0009",
    ),
]


def run(argv: list[str]) -> tuple[int, str]:
    err = io.StringIO()
    with redirect_stdout(io.StringIO()), redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit:  # argparse's own errors
            code = int(exit.code or 0)
    return code, err.getvalue()


@pytest.mark.parametrize(("name", "text", "phrase"), CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("mode", [["--once"], [], ["status"]], ids=["once", "daemon", "status"])
def test_one_clear_line_and_exit_code_2(
    tmp_path: Path, name: str, text: str, phrase: str, mode: list[str]
) -> None:
    (tmp_path / "articles").mkdir()
    config = tmp_path / "feeds.yaml"
    config.write_text(text, encoding="utf-8")
    code, stderr = run([*mode, "-c", str(config)])
    assert code == 2, stderr
    assert stderr.endswith("\n") and stderr.count("\n") == 1, stderr
    assert stderr.startswith("aggregate: configuration error: ")
    assert str(config) in stderr
    assert phrase in stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("setup", "phrase"),
    [
        ("missing", "not found"),
        ("directory", "cannot read"),
        ("latin-1", "cannot read"),
    ],
)
def test_unreadable_file(tmp_path: Path, setup: str, phrase: str) -> None:
    config = tmp_path / "feeds.yaml"
    if setup == "directory":
        config.mkdir()
    elif setup == "latin-1":
        config.write_bytes(b"title: Caf\xe9\nsources: []\n")
    code, stderr = run(["--once", "-c", str(config)])
    assert code == 2
    assert stderr.count("\n") == 1 and phrase in stderr and str(config) in stderr


@pytest.mark.parametrize("mode", [["--once"], [], ["status"]], ids=["once", "daemon", "status"])
def test_a_file_over_the_size_cap(
    tmp_path: Path, mode: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", 1000)
    (tmp_path / "articles").mkdir()
    config = tmp_path / "feeds.yaml"
    # Read whole, it is another error: a cap that fails does not start a daemon.
    config.write_text(GOOD + "# padding\n" * 100 + "titel: x\n", encoding="utf-8")
    code, stderr = run([*mode, "-c", str(config)])
    assert (code, stderr) == (
        2,
        f"aggregate: configuration error: {config}: "
        "the file is over the 1,000-byte cap on a configuration\n",
    )


def _address_space(limit: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


def test_an_endless_file_is_read_up_to_the_cap_only() -> None:
    """/dev/zero as the configuration grew the process to 24 GB (the kernel's
    out-of-memory killer ended it); under a limit of its address space, a
    regression here is a MemoryError, not a machine out of memory."""
    script = Path(sys.executable).with_name("aggregate")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aggregator.cli"]
    result = subprocess.run(
        [*command, "--once", "-c", "/dev/zero"],
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=lambda: _address_space(2 * 1024**3),
    )
    assert (result.returncode, result.stderr) == (
        2,
        "aggregate: configuration error: /dev/zero: "
        f"the file is over the {config_module.MAX_CONFIG_BYTES:,}-byte cap on a configuration\n",
    )


def test_the_installed_command(tmp_path: Path) -> None:
    """The console script itself, in a process of its own: exit status 2, one line."""
    config = tmp_path / "feeds.yaml"
    config.write_text(GOOD + "outptu: x\n", encoding="utf-8")
    (tmp_path / "articles").mkdir()
    script = Path(sys.executable).with_name("aggregate")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "aggregator.cli"]
    result = subprocess.run(
        [*command, "--once", "-c", str(config)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"aggregate: configuration error: {config}:10: outptu: "
        "unknown key 'outptu'; did you mean 'output'?"
    ]


@pytest.mark.parametrize("port", ["99999", "-1", "http"])
def test_a_port_out_of_range_is_a_usage_error(tmp_path: Path, port: str) -> None:
    (tmp_path / "articles").mkdir()
    config = tmp_path / "feeds.yaml"
    config.write_text(GOOD, encoding="utf-8")
    code, stderr = run(["--port", port, "-c", str(config)])
    assert code == 2
    assert stderr.count("\n") == 1 and "--port" in stderr and "65535" in stderr, stderr
    assert "Traceback" not in stderr


def test_a_bad_url_is_shown_without_its_credentials(tmp_path: Path) -> None:
    (tmp_path / "articles").mkdir()
    config = tmp_path / "feeds.yaml"
    bad = "ftp://reader:hunter2pass@127.0.0.1:9/feed.xml?token=S3CRETTOKEN"
    config.write_text(GOOD.replace("http://127.0.0.1:9/feed.xml", bad), encoding="utf-8")
    code, stderr = run(["--once", "-c", str(config)])
    assert code == 2 and "not an http(s) URL" in stderr
    assert "ftp://127.0.0.1:9/feed.xml?token=***" in stderr
    for secret in ("reader", "hunter2pass", "S3CRETTOKEN"):
        assert secret not in stderr
