from __future__ import annotations

import json
from pathlib import Path

import pytest

from aggregator import config as config_module
from aggregator.cli import main
from aggregator.config import (
    Config,
    Overrides,
    PostgresURL,
    headers_written,
    load_config,
    parse_config,
    parse_duration,
    read_again,
)
from aggregator.errors import ConfigError
from tests.conftest import DATA, REPO

VALID = """\
title: Test
sources:
  - name: Local
    path: articles
    section: One
    interval: 90s
  - name: Remote
    url: http://127.0.0.1:9/feed.xml
    section: Two
    allow_private: true
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "articles").mkdir(exist_ok=True)
    path = tmp_path / "feeds.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_valid_config_resolves_paths_against_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID))
    local, remote = config.sources
    assert local.path == str((tmp_path / "articles").resolve())
    assert local.interval == 90
    assert remote.interval == 1800  # the default
    assert remote.allow_private and not local.allow_private
    assert config.output.dir == tmp_path.resolve() / "out"
    assert config.output.max_entries == 200
    assert config.sections == ("One", "Two")


def test_shipped_config_is_valid() -> None:
    config = load_config(REPO / "feeds.yaml")
    assert any(s.path for s in config.sources)
    assert 2 <= len(config.sections) <= 3


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("sources: [\n", 2, "invalid YAML"),
        (VALID + "outptu:\n  dir: x\n", 11, "unknown key 'outptu'; did you mean 'output'?"),
        (VALID.replace("interval: 90s", "interval: 0s"), 6, "greater than zero"),
        (VALID.replace("interval: 90s", "interval: soon"), 6, "not a duration"),
        (VALID.replace("allow_private: true", "allow_private: maybe"), 10, "true or false"),
        (VALID.replace("http://127.0.0.1:9/feed.xml", "ftp://x/y"), 8, "not an http(s) URL"),
        (VALID.replace("name: Remote", "name: Local"), 7, "duplicate source name 'Local'"),
        (VALID + "  - name: Again\n    path: articles\n    section: One\n", 12, "duplicate source"),
        (VALID.replace("path: articles", "path: missing-dir"), 4, "no such file"),
        (VALID + "output:\n  max_entries: -3\n", 12, "greater than 0"),
        ("title: x\n", 1, "sources"),
    ],
)
def test_errors_name_file_line_and_key(tmp_path: Path, text: str, line: int, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert expected in message
    assert message.startswith(f"{path}:{line}")
    assert "\n" not in message


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


# Over a cap of 1,000 bytes; read whole, it is another error (not a
# configuration that runs), so a cap that fails shows as a wrong message.
OVER_THE_CAP = VALID + "# padding\n" * 100 + "titel: read past the cap\n"


def test_a_file_over_the_size_cap_is_one_error_naming_the_file_and_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", 1000)
    path = write(tmp_path, OVER_THE_CAP)
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert str(raised.value) == f"{path}: the file is over the 1,000-byte cap on a configuration"

    # At the cap exactly, it is read as any file.
    path.write_text(VALID + "#" * (1000 - len(VALID) - 1) + "\n", encoding="utf-8")
    assert path.stat().st_size == 1000
    assert load_config(path).title == "Test"


def test_the_daemons_reload_keeps_its_configuration_when_the_file_is_over_the_cap(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = write(tmp_path, VALID)
    running = load_config(path)
    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", 1000)
    path.write_text(OVER_THE_CAP, encoding="utf-8")

    assert read_again(running, running, lambda: load_config(path)) is None

    assert [record.getMessage() for record in caplog.records] == [
        "SIGHUP: the running configuration is kept: "
        f"{path}: the file is over the 1,000-byte cap on a configuration"
    ]


def test_cli_prints_one_line_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID.replace("section: Two", "sektion: Two"))
    assert main(["--once", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "unknown key 'sektion'; did you mean 'section'?" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("30m", 1800),
        ("2h", 7200),
        ("1d", 86400),
        ("45", 45),
        ("1.5h", 5400),
        ("2 h", 7200),
        ("h", None),
        ("-1s", None),
    ],
)
def test_parse_duration(text: str, seconds: float | None) -> None:
    assert parse_duration(text) == seconds


def test_an_unknown_tag_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, VALID.replace("name: Remote", "name: !foo Remote"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:7: sources[1].name: cannot read this value")


@pytest.mark.parametrize(
    ("value", "expected"),
    [("7", 7), ("'7'", None), ("!!int '7'", 7), ("!!str 7", None), ("yes", None), ("0x10", 16)],
)
def test_scalars_read_as_yaml_types(tmp_path: Path, value: str, expected: int | None) -> None:
    """Values are built from their nodes' resolved tags: a quoted number is a
    string, an explicit tag wins, a bare 'yes' is a boolean."""
    path = write(tmp_path, VALID + f"output:\n  max_entries: {value}\n")
    if expected is not None:
        assert load_config(path).output.max_entries == expected
    else:
        with pytest.raises(ConfigError, match="expected a whole number"):
            load_config(path)


def test_yaml_errors_are_reported_as_the_pure_python_parser_words_them(tmp_path: Path) -> None:
    # libyaml reads valid files; the message of an invalid one stays PyYAML's.
    path = write(tmp_path, "sources:\n  - name: a\n   bad: [\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    import yaml

    try:
        yaml.compose(path.read_text(), Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None)
    assert problem and problem in str(caught.value)


def test_the_store_is_kept_out_of_the_published_directory_by_default(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, VALID))
    assert config.store == tmp_path.resolve() / ".aggregator" / "aggregator.db"
    assert not config.store.is_relative_to(config.output.dir)
    shipped = load_config(REPO / "feeds.yaml")
    assert not shipped.store.is_relative_to(shipped.output.dir)


@pytest.mark.parametrize(
    ("extra", "line", "key"),
    [
        ("store: out/aggregator.db\n", 11, "store"),
        ("store: site/deep/state.db\noutput:\n  dir: site\n", 11, "store"),
        ("output:\n  dir: .\n", 12, "output.dir"),  # the default store would be in it
    ],
)
def test_a_store_inside_the_output_directory_is_refused(
    tmp_path: Path, extra: str, line: int, key: str
) -> None:
    path = write(tmp_path, VALID + extra)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: {key}: the store ")
    assert "inside the output directory" in str(caught.value)


def test_command_line_overrides_may_not_put_the_store_in_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID)
    site = tmp_path / "site"
    assert main(["--once", "-c", str(path), "--out", str(site), "--db", str(site / "a.db")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith("aggregate: configuration error: --db: the store ")


@pytest.mark.parametrize(
    ("extra", "db", "out", "store"),
    [
        ("store: out/aggregator.db\n", "state/a.db", None, "state/a.db"),
        ("store: out/aggregator.db\n", None, "site", "out/aggregator.db"),
        ("output:\n  dir: .\n", None, "site", ".aggregator/aggregator.db"),
    ],
)
def test_command_line_overrides_lift_the_files_store_in_output_check(
    tmp_path: Path, extra: str, db: str | None, out: str | None, store: str
) -> None:
    """The file alone would put the store in the output directory; what the
    options make of it does not, and is what a pass uses."""
    path = write(tmp_path, VALID + extra)
    with pytest.raises(ConfigError):
        load_config(path)
    overrides = Overrides(db=tmp_path / db if db else None, out=tmp_path / out if out else None)
    config = load_config(path, overrides)
    assert config.store == tmp_path / store
    assert config.output.dir == (overrides.out or tmp_path / "out")


def test_status_with_db_reads_a_file_whose_own_store_is_in_the_output(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, VALID + "store: out/aggregator.db\n")
    assert main(["status", "-c", str(path), "--db", str(tmp_path / "a.db")]) == 0
    assert "nothing polled" in capsys.readouterr().err


def test_a_database_left_in_the_output_directory_by_an_earlier_version_is_refused(
    tmp_path: Path,
) -> None:
    """Before, the default store was out/aggregator.db: served with the feeds.
    Starting afresh beside it would leave it published and lose its history."""
    path = write(tmp_path, VALID)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "aggregator.db").write_bytes(b"")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}:1: store: ")
    new_home = tmp_path.resolve() / ".aggregator" / "aggregator.db"
    assert "move it" in message and str(new_home) in message
    (tmp_path / ".aggregator").mkdir()
    (tmp_path / "out" / "aggregator.db").rename(tmp_path / ".aggregator" / "aggregator.db")
    assert load_config(path).store == new_home


ONE_SOURCE = "sources: [{name: a, url: 'https://a.example/feed', section: S}]\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("state.db", "state.db"),
        ("sqlite:///state.db", "state.db"),
        ("sqlite:///sub/state.db", "sub/state.db"),
        ("SQLite:///state.db", "state.db"),
    ],
)
def test_store_is_a_path_or_a_sqlite_url(tmp_path: Path, value: str, expected: str) -> None:
    config = parse_config(f"store: '{value}'\n{ONE_SOURCE}", tmp_path / "feeds.yaml")
    assert config.store == (tmp_path / expected).resolve()


def test_an_absolute_sqlite_url_is_absolute(tmp_path: Path) -> None:
    config = parse_config(f"store: 'sqlite:///{tmp_path}/abs.db'\n{ONE_SOURCE}", tmp_path / "f.y")
    assert config.store == tmp_path / "abs.db"


@pytest.mark.parametrize(
    "url",
    ["postgresql://me@db.example/news", "postgres://me:pw@db.example:6432/news?sslmode=require"],
)
def test_store_may_be_a_postgresql_url_printed_without_its_password(
    tmp_path: Path, url: str
) -> None:
    config = parse_config(f"store: '{url}'\n{ONE_SOURCE}", tmp_path / "feeds.yaml")
    assert config.store == PostgresURL(url)
    assert isinstance(config.store, PostgresURL) and config.store.url == url
    assert "pw" not in str(config.store) and "pw" not in repr(config.store)
    assert str(config.store).startswith(url.split(":")[0] + "://me")


def test_a_postgresql_store_is_never_inside_the_output_directory(tmp_path: Path) -> None:
    """(What is published is files; a database on a server is not one of them.)"""
    text = f"output:\n  dir: .\n{ONE_SOURCE}store: 'postgresql://db/news'\n"
    assert parse_config(text, tmp_path / "f.y").store == PostgresURL("postgresql://db/news")
    other = PostgresURL("postgres://me:pw@db/other")
    moved = parse_config(text, tmp_path / "f.y", Overrides(out=tmp_path, db=other))
    assert moved.store == other


@pytest.mark.parametrize("value", ["mysql://me@db.example/news", "sqlite://", "redis://x"])
def test_a_store_url_of_another_kind_is_one_line_naming_the_key(tmp_path: Path, value: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(f"{ONE_SOURCE}store: '{value}'\n", tmp_path / "feeds.yaml")
    assert raised.value.key == "store" and raised.value.line == 2
    assert "\n" not in str(raised.value)


def test_the_cluster_section_is_read_with_its_defaults(tmp_path: Path) -> None:
    config = parse_config(f"cluster:\n  tick: 2s\n  concurrency: 3\n{ONE_SOURCE}", tmp_path / "f.y")
    assert config.cluster.tick == 2.0
    assert config.cluster.concurrency == 3
    assert config.cluster.stall_timeout == 30.0  # the default
    assert parse_config(ONE_SOURCE, tmp_path / "f.y").cluster.tick == 5.0


@pytest.mark.parametrize(
    ("cluster", "key"),
    [
        ("tick: 0s", "tick"),
        ("stall_timeout: soon", "stall_timeout"),
        ("concurrency: 0", "concurrency"),
    ],
)
def test_a_bad_cluster_value_names_its_key(tmp_path: Path, cluster: str, key: str) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(f"cluster:\n  {cluster}\n{ONE_SOURCE}", tmp_path / "feeds.yaml")
    assert f"cluster.{key}:" in str(raised.value)
    assert "\n" not in str(raised.value)


def test_reloaded_keeps_what_was_made_at_start_and_names_it(tmp_path: Path) -> None:
    from aggregator.config import reloaded

    def config(text: str) -> Config:
        return parse_config(text, tmp_path / "feeds.yaml")

    base = "sources:\n  - {name: a, url: 'https://a.example/', section: S}\n"
    started = config(base + "serve: {port: 0}\n")
    running = parse_config(
        base + "serve: {port: 0}\n",
        tmp_path / "feeds.yaml",
        Overrides(out=tmp_path / "elsewhere", port=8123),
    )
    loaded = config(
        "title: New title\nfetch: {timeout: 5s}\nsources:\n"
        "  - {name: b, url: 'https://b.example/', section: T, enabled: false}\n"
    )

    applied, kept = reloaded(running, started, loaded)

    assert kept == ("serve", "fetch")
    assert applied.title == "New title"
    assert [(s.name, s.enabled) for s in applied.sources] == [("b", False)]
    assert applied.polled_sources == ()
    # The running daemon's own: its port, its output directory, its HTTP client.
    assert applied.serve.port == 8123 and applied.output.dir == tmp_path / "elsewhere"
    assert applied.fetch == running.fetch and applied.store == running.store
    assert reloaded(running, started, started)[1] == ()


def test_retention_and_keep_tracking_are_read_with_their_defaults(tmp_path: Path) -> None:
    default = parse_config(ONE_SOURCE, tmp_path / "f.y")
    assert default.retention is None  # kept for ever, as before
    assert default.output.keep_tracking is False
    config = parse_config(
        f"retention: 90d\noutput: {{keep_tracking: true}}\n{ONE_SOURCE}", tmp_path / "f.y"
    )
    assert config.retention == 90 * 86400.0
    assert config.output.keep_tracking is True
    assert parse_config(f"retention: 3650d\n{ONE_SOURCE}", tmp_path / "f.y").retention


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("retention: soon", "retention", "not a duration"),
        ("retention: 0d", "retention", "not a duration"),
        ("retention: true", "retention", "not a duration"),
        ("retention: 40000d", "retention", "too long"),
        ("output: {keep_tracking: maybe}", "output.keep_tracking", ""),
    ],
)
def test_a_bad_retention_or_keep_tracking_names_its_key(
    tmp_path: Path, text: str, key: str, words: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_config(f"{text}\n{ONE_SOURCE}", tmp_path / "feeds.yaml")
    message = str(raised.value)
    assert f"feeds.yaml:1: {key}:" in message and words in message
    assert "\n" not in message


def test_nothing_the_yaml_parser_made_outlives_reading_the_file(tmp_path: Path) -> None:
    # Each string kept from the parser's tree would keep a page of that tree
    # (30 MB for 10,000 sources) in the process for as long as it runs.
    import gc
    import tracemalloc
    from urllib.parse import urlsplit

    import yaml

    text = "sources:\n" + "".join(
        f"  - {{name: feed-{n}, url: 'https://e.example/{n}', section: S{n % 3}}}\n"
        for n in range(500)
    )
    parse_config(text, tmp_path / "feeds.yaml")  # warm: caches of its own are not the tree
    tracemalloc.start()
    try:
        config = parse_config(text, tmp_path / "feeds.yaml")
        urlsplit.cache_clear()  # type: ignore[attr-defined]  # urllib caches 128 URLs split
        gc.collect()
        snapshot = tracemalloc.take_snapshot()
    finally:
        tracemalloc.stop()
    from_parser = snapshot.filter_traces([tracemalloc.Filter(True, yaml.__file__)])
    assert len(config.sources) == 500 and config.sources[499].name == "feed-499"
    assert sum(stat.count for stat in from_parser.statistics("filename")) == 0


@pytest.mark.parametrize(
    "written",
    [
        "plain words",
        "'quoted: with a colon'",
        '"double \\u00e9 quoted"',
        "!!str 2026-01-01",
        "!!str 12",
        "|\n      a literal block\n",
        "'  spaced  '",
    ],
)
def test_a_string_is_read_as_yaml_loads_it(tmp_path: Path, written: str) -> None:
    """Strings are taken from their nodes directly, not through the constructor:
    the same value, however the YAML writes it."""
    import yaml

    text = f"sources:\n  - name: {written}\n    url: 'https://a.example/feed'\n    section: S\n"
    expected = yaml.safe_load(text)["sources"][0]["name"].strip()
    assert parse_config(text, tmp_path / "feeds.yaml").sources[0].name == expected


@pytest.mark.parametrize("written", ["12", "2026-01-01", "true", "null", "1.5", "[a]"])
def test_a_name_that_yaml_reads_as_another_type_is_refused(tmp_path: Path, written: str) -> None:
    text = f"sources:\n  - name: {written}\n    url: 'https://a.example/feed'\n    section: S\n"
    with pytest.raises(ConfigError) as raised:
        parse_config(text, tmp_path / "feeds.yaml")
    assert "sources[0].name" in str(raised.value)


def test_names_and_sections_in_any_script_are_read_as_written(tmp_path: Path) -> None:
    names = ["Café – Économie", "Київ Daily", "新闻 東京", "👩\u200d💻 dev"]
    text = VALID.replace("name: Local", f"name: {names[0]}").replace(
        "section: One", f"section: {names[1]}"
    )
    text = text.replace("name: Remote", f'name: "{names[2]}"')
    text = text.replace("section: Two", f"section: {names[3]}")

    config = load_config(write(tmp_path, text))

    assert [(s.name, s.section) for s in config.sources] == [
        (names[0], names[1]),
        (names[2], names[3]),
    ]


# allow_private as written -> what the sources get: the top-level value is
# every source's unless it sets its own; a list is of hosts, spelled as the
# fetcher compares them (lower case, IDNA, IP addresses short).
INTRANET = "sources:\n  - {name: news, url: 'http://news.corp/feed', section: S%s}\n"


@pytest.mark.parametrize(
    ("top", "own", "expected"),
    [
        ("", "", False),
        ("allow_private: true\n", "", True),
        ("allow_private: [news.corp, wiki.corp]\n", "", frozenset({"news.corp", "wiki.corp"})),
        ("allow_private: [news.corp]\n", ", allow_private: false", False),
        ("allow_private: true\n", ", allow_private: [News.Corp]", frozenset({"news.corp"})),
        (
            "allow_private:\n  - ' WIKI.corp '\n  - Bücher.Corp\n  - xn--bcher-kva.corp\n"
            "  - '[::1]'\n  - 10.0.0.5\n  - build_01.corp\n  - wiki.corp\n",
            "",
            frozenset({"wiki.corp", "xn--bcher-kva.corp", "::1", "10.0.0.5", "build_01.corp"}),
        ),
    ],
    ids=["default", "true", "list", "source-says-no", "source-list", "normalized"],
)
def test_allow_private_is_true_false_or_a_list_of_hosts(
    tmp_path: Path, top: str, own: str, expected: object
) -> None:
    config = load_config(write(tmp_path, top + INTRANET % own))
    assert config.sources[0].allow_private == expected


@pytest.mark.parametrize(
    ("top", "own", "line", "where"),
    [
        ("allow_private: maybe\n", "", 1, "allow_private: expected true or false, or a list"),
        ("allow_private: {a: b}\n", "", 1, "allow_private: expected true or false, or a list"),
        ("allow_private: []\n", "", 1, "allow_private: expected a list of one or more host"),
        (
            "allow_private: [wiki.corp, 'http://wiki.corp/']\n",
            "",
            1,
            "allow_private[1]: 'http://wiki.corp/' is not a host name",
        ),
        ("allow_private:\n  - wiki.corp\n  - '*.corp'\n", "", 3, "allow_private[1]: '*.corp'"),
        (
            "",
            ", allow_private: [wiki.corp:8080]",
            2,
            "sources[0].allow_private[0]: 'wiki.corp:8080'",
        ),
        ("", ", allow_private: ['']", 2, "sources[0].allow_private[0]: '' is not a host name"),
        ("", ", allow_private: [3]", 2, "sources[0].allow_private[0]: '3' is not a host name"),
        ("", ", allow_private: [[a]]", 2, "sources[0].allow_private[0]: expected a single value"),
        (
            "",
            ", allow_private: ['wiki corp']",
            2,
            "sources[0].allow_private[0]: 'wiki corp' is not",
        ),
        (
            "",
            ", allow_private: ['fe80::1%eth0']",
            2,
            "sources[0].allow_private[0]: 'fe80::1%eth0' is not",
        ),
    ],
)
def test_a_bad_allow_private_is_an_error_naming_file_line_and_key(
    tmp_path: Path, top: str, own: str, line: int, where: str
) -> None:
    path = write(tmp_path, top + INTRANET % own)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: {where}")
    assert "\n" not in str(caught.value)


def test_a_bad_host_in_allow_private_is_shown_without_its_password(tmp_path: Path) -> None:
    path = write(tmp_path, "allow_private: ['http://me:s3cret@wiki.corp/']\n" + INTRANET % "")
    with pytest.raises(ConfigError, match="is not a host name") as caught:
        load_config(path)
    assert "s3cret" not in str(caught.value)


# -- a source's headers: golden pairs ------------------------------------------

HEADER_CASES = DATA / "config" / "headers"
# A valid case has its expected headers beside it (NAME.yaml.expected.json);
# each other case is an error.
HEADER_VALID = sorted(
    p.name for p in HEADER_CASES.glob("*.yaml") if p.with_name(p.name + ".expected.json").exists()
)
HEADER_ERRORS = sorted(p.name for p in HEADER_CASES.glob("*.yaml") if p.name not in HEADER_VALID)
# The value every invalid case holds somewhere: no message may show it.
HEADER_SECRET = "hunter2hunter2"
# A credential each valid case holds.
HEADER_VALID_SECRETS = {"valid.yaml": "abc123secret", "defaults.yaml": "d3faultsecret"}


@pytest.mark.parametrize("case", HEADER_VALID)
def test_headers_read_as_the_golden_file_says(case: str) -> None:
    config = load_config(HEADER_CASES / case)
    expected_file = HEADER_CASES / f"{case}.expected.json"
    expected = json.loads(expected_file.read_text("utf-8"))

    read = {source.name: [list(pair) for pair in source.headers] for source in config.sources}

    assert read == expected
    # Shown anywhere (a log line, a traceback's repr), a value is ***.
    secret = HEADER_VALID_SECRETS[case]
    assert secret not in repr(config) and "'Authorization': '***'" in repr(config)


@pytest.mark.parametrize("case", HEADER_ERRORS)
def test_each_bad_header_is_one_line_naming_file_line_and_key(case: str) -> None:
    """Each file says its error in its first line (``# error: LINE: KEY: MESSAGE``)."""
    path = HEADER_CASES / case
    expected = path.read_text("utf-8").splitlines()[0].removeprefix("# error: ")

    with pytest.raises(ConfigError) as raised:
        load_config(path)

    assert str(raised.value) == f"{path}:{expected}"
    assert HEADER_SECRET not in str(raised.value)


# full_text_selector as written -> each source's: the top-level value is every
# source's unless it sets its own (null: none, the extractor's choice).
PAGES = (
    "sources:\n"
    "  - {name: a, url: 'http://a.example/feed', section: S, full_text: true%s}\n"
    "  - {name: b, url: 'http://b.example/feed', section: S, full_text: true%s}\n"
)


@pytest.mark.parametrize(
    ("top", "own_a", "own_b", "expected"),
    [
        ("", "", "", (None, None)),
        ("full_text_selector: article .post-body\n", "", "", ("article .post-body",) * 2),
        (
            "full_text_selector: 'article .post-body, .byline'\n",
            ", full_text_selector: 'main > p:nth-of-type(2)'",
            ", full_text_selector: null",
            ("main > p:nth-of-type(2)", None),
        ),
        ("", ", full_text_selector: '  div#body  '", "", ("div#body", None)),
        (
            "full_text_selector: >-\n  article h2,\n  article p\n",
            "",
            "",
            ("article h2, article p",) * 2,
        ),
    ],
    ids=["default", "top-level", "own-and-null", "only-one-source", "folded"],
)
def test_full_text_selector_is_every_sources_unless_it_sets_its_own(
    tmp_path: Path, top: str, own_a: str, own_b: str, expected: tuple[str | None, ...]
) -> None:
    config = load_config(write(tmp_path, top + PAGES % (own_a, own_b)))
    assert tuple(s.full_text_selector for s in config.sources) == expected


@pytest.mark.parametrize(
    ("top", "own_b", "line", "where"),
    [
        ("full_text_selector: 'div['\n", "", 1, "full_text_selector: not a CSS selector: "),
        (
            "title: T\nfull_text_selector: 'p::text'\n",
            "",
            2,
            "full_text_selector: not a CSS selector: Pseudo-elements are not supported.",
        ),
        (
            "",
            ", full_text_selector: 'article >> p'",
            3,
            "sources[1].full_text_selector: not a CSS selector: ",
        ),
        ("", ", full_text_selector: ''", 3, "sources[1].full_text_selector: expected a non-empty"),
        ("", ", full_text_selector: 3", 3, "sources[1].full_text_selector: expected a non-empty"),
        ("", ", full_text_selector: [a]", 3, "sources[1].full_text_selector: expected a single"),
    ],
    ids=["syntax", "pseudo-element", "source", "empty", "number", "list"],
)
def test_a_bad_full_text_selector_is_one_line_naming_file_line_and_key(
    tmp_path: Path, top: str, own_b: str, line: int, where: str
) -> None:
    path = write(tmp_path, top + PAGES % ("", own_b))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}:{line}: {where}")
    assert "\n" not in str(caught.value)


def test_a_bad_full_text_selector_stops_the_pass_before_it_starts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, PAGES % ("", ", full_text_selector: '.post-body['"))
    assert main(["--once", "-c", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(
        f"aggregate: configuration error: {path}:3: sources[1].full_text_selector: "
        "not a CSS selector: "
    ), err
    assert err.count("\n") == 1 and "Traceback" not in err, err


@pytest.mark.parametrize(
    ("written", "read"),
    [
        (
            {"User-Agent": " MyReader/1.0 ", "X-Team": "news"},
            (("User-Agent", "MyReader/1.0"), ("X-Team", "news")),
        ),
        (None, ()),
        ("User-Agent: MyReader/1.0", ()),  # not a mapping
        ({"Host": "a.example"}, ()),  # the fetcher's own
        ({"X-Pin": 1234}, ()),  # not a string
        ({"X-Token": "a\r\nX-Injected: 1"}, ()),
        ({"X-Team": "a", "x-team": "b"}, ()),
    ],
    ids=["valid", "missing", "text", "fetchers", "number", "crlf", "twice"],
)
def test_headers_as_written_are_every_one_or_none(
    written: object, read: tuple[tuple[str, str], ...]
) -> None:
    """What ``aggregate add`` sends of a file with no sources yet: its
    top-level headers if each is one a source may send, else none (the
    file is refused when the edit is saved)."""
    assert headers_written(written).pairs == read
