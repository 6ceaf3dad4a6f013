"""``aggregate import``, ``add`` and ``remove`` through the command line, against
real files and a loopback feed server.

Golden pairs: ``tests/data/opml/NAME.opml`` imported into ``start.yaml`` gives
``NAME.expected.yaml``, byte for byte (comments, blank lines, indentation and
order of the file kept; the new sources at the end of the list).
"""

from __future__ import annotations

import logging
import os
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from aggregator import config as config_module
from aggregator.cli import main
from aggregator.config import load_config
from tests.conftest import DATA
from tests.feedserver import FeedServer, Route

OPML = DATA / "opml"
RSS = (DATA / "feeds" / "rss20.xml").read_bytes()
START = (OPML / "start.yaml").read_text(encoding="utf-8")


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "feeds.yaml"
    path.write_text(START, encoding="utf-8")
    return path


@pytest.mark.parametrize("export", ["newsboat", "miniflux", "freshrss", "category"])
def test_import_golden(export: str, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(OPML / f"{export}.opml"), "-c", str(config)]) == 0

    expected = (OPML / f"{export}.expected.yaml").read_text(encoding="utf-8")
    assert config.read_text(encoding="utf-8") == expected
    # What was written is a configuration every command reads.
    assert load_config(config).sources[0].name == "The Kyiv Independent"
    out = capsys.readouterr().out
    assert out.splitlines()[-1].startswith(f"{_added(expected)} added to {config}")


def _added(expected: str) -> int:
    return expected.count("- name:") - START.count("- name:")


def test_import_twice_adds_nothing_and_says_why(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(OPML / "miniflux.opml"), "-c", str(config)]) == 0
    once = config.read_bytes()
    capsys.readouterr()

    assert main(["import", str(OPML / "miniflux.opml"), "-c", str(config)]) == 0

    assert config.read_bytes() == once
    lines = capsys.readouterr().out.splitlines()
    assert "skipped DW – Europe: already in the configuration as 'DW – Europe'" in lines
    assert lines[-1] == f"0 added to {config}, 4 skipped"


def test_miniflux_paused_feed_is_imported_paused(config: Path) -> None:
    assert main(["import", str(OPML / "miniflux.opml"), "-c", str(config)]) == 0
    sources = {s.name: s for s in load_config(config).sources}
    assert sources["Old blog"].enabled is False
    assert sources["DW – Europe"].enabled is True
    assert [s.name for s in load_config(config).polled_sources].count("Old blog") == 0


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<opml><body><outline", "not well-formed XML"),
        (b"<rss version='2.0'><channel/></rss>", "not an OPML document: its root is <rss>"),
        (
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<opml version="2.0"><body><outline text="&lol2;" xmlUrl="https://a.example/"/>'
            b"</body></opml>",
            "refers to entity 'lol' (nested)",
        ),
        (
            b'<?xml version="1.0"?><!DOCTYPE opml [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
            b'<opml version="2.0"><body><outline text="&x;" xmlUrl="https://a.example/"/>'
            b"</body></opml>",
            "external",
        ),
        (b'<opml version="2.0"><body><outline text="Empty folder"/></body></opml>', "no feeds"),
    ],
)
def test_bad_opml_is_one_line_and_leaves_the_file(
    body: bytes, message: str, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.opml"
    bad.write_bytes(body)

    assert main(["import", str(bad), "-c", str(config)]) == 1

    assert config.read_text(encoding="utf-8") == START
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("aggregate import: ")
    assert message in err and "Traceback" not in err
    assert not list(tmp_path.glob(".feeds.yaml.*"))  # no temporary file left


def test_outlines_whose_url_no_configuration_takes_are_skipped_and_the_rest_imported(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # urllib raised on the first (a traceback); the next two passed the scheme
    # check and then failed the whole import as an invalid feeds.yaml.
    opml = tmp_path / "list.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline type="rss" text="v6" xmlUrl="http://[::1"/>'
        '<outline type="rss" text="port" xmlUrl="http://a.example:99999/feed"/>'
        '<outline type="rss" xmlUrl="http:///no-host"/>'
        '<outline type="rss" text="gopher" xmlUrl="gopher://a.example/1"/>'
        '<outline type="rss" text="Good" xmlUrl="https://good.example/feed"/>'
        "</body></opml>",
        encoding="utf-8",
    )

    assert main(["import", str(opml), "-c", str(config)]) == 0

    assert [s.name for s in load_config(config).sources][-1] == "Good"
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "added Good (News): https://good.example/feed",
        "skipped v6: not a valid URL: Invalid IPv6 URL",
        "skipped port: not a valid URL: Port out of range 0-65535",
        "skipped http:///no-host: not an http(s) URL",
        "skipped gopher: not an http(s) URL",
        f"1 added to {config}, 4 skipped",
    ]


def test_a_list_of_nothing_but_skipped_outlines_says_why_each_and_writes_nothing(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opml = tmp_path / "v6.opml"
    opml.write_text(
        '<opml version="2.0"><body><outline type="rss" text="u" xmlUrl="http://[::1"/>'
        "</body></opml>",
        encoding="utf-8",
    )

    assert main(["import", str(opml), "-c", str(config)]) == 1

    assert config.read_text(encoding="utf-8") == START
    captured = capsys.readouterr()
    assert captured.out == "skipped u: not a valid URL: Invalid IPv6 URL\n"
    assert captured.err == f"aggregate import: {opml}: the list has no feeds to add (1 skipped)\n"


def test_import_into_an_invalid_configuration_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text("sources:\n  - name: a\n    section: S\n", encoding="utf-8")

    assert main(["import", str(OPML / "newsboat.opml"), "-c", str(config)]) == 2

    assert config.read_text(encoding="utf-8") == "sources:\n  - name: a\n    section: S\n"
    err = capsys.readouterr().err
    assert err == (
        f"aggregate import: configuration error: {config}:2: sources[0]: "
        "a source needs exactly one of 'url' or 'path'\n"
    )


# Read whole, the first is another error (nothing is fetched or written);
# the second, with no sources yet, is read by the editor alone.
PADDED = START + "# padding\n" * 100 + "titel: x\n"
PADDED_EMPTY = "allow_private: true\nsources: []\n" + "# padding\n" * 100


@pytest.mark.parametrize(
    ("command", "text"),
    [
        (["import", str(OPML / "miniflux.opml")], PADDED),
        (["import", str(OPML / "miniflux.opml")], PADDED_EMPTY),
        (["add", "https://a.example/feed", "--section", "S"], PADDED),
        (["remove", "LWN.net"], PADDED),
    ],
    ids=["import", "import-first", "add", "remove"],
)
def test_a_file_over_the_size_cap_is_left_as_it_is(
    command: list[str],
    text: str,
    config: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(config_module, "MAX_CONFIG_BYTES", 1000)
    config.write_text(text, encoding="utf-8")

    assert main([*command, "-c", str(config)]) == 2

    assert config.read_text(encoding="utf-8") == text
    assert capsys.readouterr().err == (
        f"aggregate {command[0]}: configuration error: {config}: "
        "the file is over the 1,000-byte cap on a configuration\n"
    )


def test_import_from_a_url_and_into_a_new_file(
    feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    route = feed_server.add(
        "/export.opml", Route((OPML / "freshrss.opml").read_bytes(), content_type="text/x-opml")
    )
    config = tmp_path / "feeds.yaml"
    # Settings, and no sources yet: where a first import starts.
    config.write_text("# mine\nallow_private: true\nsources: []\n", encoding="utf-8")

    assert main(["import", feed_server.url("/export.opml"), "-c", str(config)]) == 0

    assert route.requests == 1
    names = [s.name for s in load_config(config).sources]
    assert names == ["FreshRSS releases", "The New York Times – World", "Euromaidan Press"]
    assert config.read_text().startswith(
        "# mine\nallow_private: true\nsources:\n  - name: FreshRSS releases\n"
    )


def test_add_creates_a_missing_file(
    feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.add("/feed", Route(RSS))
    config = tmp_path / "new.yaml"
    url = feed_server.url("/feed")

    # No file: no allow_private, so the loopback server is refused.
    assert main(["add", url, "--section", "S", "-c", str(config)]) == 1
    assert not config.exists()
    config.write_text("allow_private: true\n")
    assert main(["add", url, "--section", "S", "-c", str(config)]) == 0

    assert config.read_text() == (
        f"allow_private: true\nsources:\n  - name: Kyiv Daily\n    url: {url}\n    section: S\n"
    )


@pytest.mark.parametrize("with_sources", [False, True], ids=["first-source", "more-sources"])
def test_add_fetches_on_the_private_hosts_allow_private_lists_only(
    feed_server: FeedServer, tmp_path: Path, with_sources: bool
) -> None:
    feed_server.add("/feed", Route(RSS))
    config = tmp_path / "feeds.yaml"
    url = feed_server.url("/feed")
    before = "  - {name: Other, url: 'http://192.0.2.1/feed', section: S}\n" if with_sources else ""

    config.write_text(f"allow_private: [localhost]\nsources:\n{before}")
    assert main(["add", url, "--section", "S", "-c", str(config)]) == 1  # 127.0.0.1: not listed
    config.write_text(f"allow_private: [localhost, 127.0.0.1]\nsources:\n{before}")
    assert main(["add", url, "--section", "S", "-c", str(config)]) == 0
    assert load_config(config).sources[-1].allow_private == frozenset({"localhost", "127.0.0.1"})


def test_an_opml_url_is_fetched_within_the_limits(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    big = (
        (OPML / "miniflux.opml")
        .read_bytes()
        .replace(b"</body>", b"<!--" + b"x" * 5000 + b"--></body>")
    )
    feed_server.add("/big.opml", Route(big))
    config.write_text(START + "fetch:\n  max_bytes: 4kB\n")

    assert main(["import", feed_server.url("/big.opml"), "-c", str(config)]) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "4000" in err, err
    assert config.read_text() == START + "fetch:\n  max_bytes: 4kB\n"


def test_import_from_a_private_url_is_refused_by_default(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    route = feed_server.add("/export.opml", Route((OPML / "freshrss.opml").read_bytes()))
    config.write_text(START.replace("allow_private: true", "allow_private: false"))

    assert main(["import", feed_server.url("/export.opml"), "-c", str(config)]) == 1

    assert route.requests == 0
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "private" in err


# -- add -----------------------------------------------------------------------


def test_add_takes_the_feeds_title(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    route = feed_server.add("/feed", Route(RSS))

    assert main(["add", feed_server.url("/feed"), "--section", "Ukraine", "-c", str(config)]) == 0

    assert route.requests == 1
    added = load_config(config).sources[-1]
    assert (added.name, added.url, added.section) == (
        "Kyiv Daily",
        feed_server.url("/feed"),
        "Ukraine",
    )
    assert config.read_text().startswith(START.split("output:")[0].rstrip("\n"))
    assert capsys.readouterr().out.startswith("added Kyiv Daily (Ukraine): ")


def site_page(*hrefs: str) -> Route:
    links = "".join(
        f'<link rel="alternate" type="application/rss+xml" title="News" href="{href}">'
        for href in hrefs
    )
    page = f"<!doctype html><html><head><title>Site</title>{links}</head><body>Hi</body></html>"
    return Route(page.encode(), content_type="text/html; charset=utf-8")


def test_add_given_a_sites_page_adds_the_feed_it_names(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.add("/news/feed.xml", Route(RSS))
    feed_server.add("/news/", site_page("feed.xml", "/other.xml"))
    page, feed = feed_server.url("/news/"), feed_server.url("/news/feed.xml")

    assert main(["add", page, "--section", "S", "-c", str(config)]) == 0

    added = load_config(config).sources[-1]
    assert (added.name, added.url) == ("Kyiv Daily", feed)  # the feed's, not the page's
    out = capsys.readouterr().out.splitlines()
    assert (
        out[0]
        == f"{page} is a page; its feed: {feed} (and 1 more: {feed_server.url('/other.xml')})"
    )
    assert out[1].startswith(f"added Kyiv Daily (S): {feed}, ")
    # Given the page again: its feed is already there, and nothing is written.
    before = config.read_bytes()
    assert main(["add", page, "--section", "S", "-c", str(config)]) == 1
    assert f"{feed} is already in {config} as 'Kyiv Daily'" in capsys.readouterr().err
    assert config.read_bytes() == before


def test_a_feed_a_page_names_is_fetched_under_the_same_guard(
    feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The page's link is its author's: the feed it names meets the address
    guard as any URL does.  Here the page's host is allowed a private
    address and the feed's, another name of the same loopback server, is not,
    as a public page naming a feed on 169.254.169.254 would be."""
    feed_server.add("/feed.xml", Route(RSS))
    feed_server.add("/", site_page(feed_server.url("/feed.xml").replace("127.0.0.1", "localhost")))
    config = tmp_path / "feeds.yaml"
    config.write_text("allow_private: [127.0.0.1]\nsources: []\n", encoding="utf-8")
    before = config.read_bytes()

    assert main(["add", feed_server.url("/"), "--section", "S", "-c", str(config)]) == 1

    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "localhost" in err and "private" in err, err
    assert feed_server.routes["/feed.xml"].requests == 0
    assert config.read_bytes() == before


def test_add_given_a_page_that_names_no_feed_or_a_broken_one_writes_nothing(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.add("/plain", site_page())
    feed_server.add("/broken", site_page("/gone.xml"))
    feed_server.add("/notfeed", site_page("/plain"))
    before = config.read_bytes()

    for path, said in [
        ("/plain", "not a feed, and names none"),
        ("/broken", "404"),
        ("/notfeed", f"{feed_server.url('/plain')}: not a feed"),
    ]:
        assert main(["add", feed_server.url(path), "--section", "S", "-c", str(config)]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and said in err, (path, err)
    assert config.read_bytes() == before


def test_add_with_a_name_and_refusals(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed_server.add("/feed", Route(RSS))
    page = b"<!doctype html><html><p>Hi</p></html>"
    feed_server.add("/page", Route(page, content_type="text/html"))
    url = feed_server.url("/feed")
    assert main(["add", url, "--section", "S", "--name", "Mine", "-c", str(config)]) == 0
    after = config.read_bytes()
    capsys.readouterr()

    # The same URL, the same name, a page that is no feed: one line each, nothing written.
    assert main(["add", url, "--section", "S", "-c", str(config)]) == 1
    assert f"is already in {config} as 'Mine'" in capsys.readouterr().err
    assert main(["add", url + "?x", "--section", "S", "--name", "Mine", "-c", str(config)]) == 1
    assert f"a source named 'Mine' is already in {config}" in capsys.readouterr().err
    # One name in two spellings (see COMPOSED): the second is the first.
    feed_server.add("/feed2", Route(RSS))
    feed_server.add("/feed3", Route(RSS))
    second, third = feed_server.url("/feed2"), feed_server.url("/feed3")
    assert main(["add", second, "--section", "S", "--name", COMPOSED, "-c", str(config)]) == 0
    after = config.read_bytes()
    assert main(["add", third, "--section", "S", "--name", DECOMPOSED, "-c", str(config)]) == 1
    assert f"a source named '{DECOMPOSED}' is already in {config}" in capsys.readouterr().err
    assert main(["add", feed_server.url("/page"), "--section", "S", "-c", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a feed" in err
    assert main(["add", feed_server.url("/gone"), "--section", "S", "-c", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "404" in err
    assert config.read_bytes() == after


# -- add --header ------------------------------------------------------------

BEARER = "Bearer s3cr3tt0ken"


def test_add_with_a_header_adds_a_feed_behind_authorization(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A feed that answers 401 without its Authorization is added with
    ``--header``: the fetch that checks it sends the header (and the file's
    top-level defaults), the header is written under the new source, and no
    value is printed."""
    route = feed_server.add("/private.xml", Route(RSS, require={"Authorization": BEARER}))
    url = feed_server.url("/private.xml")
    config.write_text(START.replace("sources:", "headers:\n  X-Team: newsdesk\n\nsources:"))
    before = config.read_bytes()

    assert main(["add", url, "--section", "S", "-c", str(config)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HTTP 401" in err, err
    assert config.read_bytes() == before

    command = ["add", url, "--section", "S", "--header", f"Authorization: {BEARER}"]
    assert main([*command, "--header", "X-Version:2", "-c", str(config)]) == 0

    assert route.last_headers.get("Authorization") == BEARER
    assert route.last_headers.get("X-Version") == "2"
    assert route.last_headers.get("X-Team") == "newsdesk"
    captured = capsys.readouterr()
    assert captured.out == (
        f"added Kyiv Daily (S): {url}, 2 items now, with its headers Authorization, X-Version\n"
    )
    assert "s3cr3tt0ken" not in captured.out + captured.err
    text = config.read_text()
    assert text.startswith(before.decode().split("output:")[0].rstrip("\n"))
    assert (
        f"  - name: Kyiv Daily\n    url: {url}\n    section: S\n"
        f"    headers:\n      Authorization: {BEARER}\n      X-Version: '2'\n"
    ) in text
    added = load_config(config).sources[-1]
    assert added.headers.pairs == (
        ("Authorization", BEARER),
        ("X-Version", "2"),
        ("X-Team", "newsdesk"),
    )


def test_a_first_add_sends_the_files_top_level_headers(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A file with settings and no sources yet is no configuration to read:
    its top-level headers, as written, go with the fetch all the same."""
    route = feed_server.add("/feed", Route(RSS, require={"X-Team": "newsdesk"}))
    config = tmp_path / "feeds.yaml"
    config.write_text("allow_private: true\nheaders:\n  X-Team: newsdesk\nsources: []\n")

    assert main(["add", feed_server.url("/feed"), "--section", "S", "-c", str(config)]) == 0

    assert route.requests == 1
    assert load_config(config).sources[-1].headers.pairs == (("X-Team", "newsdesk"),)


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        (["Authorization Bearer s3cr3tt0ken"], "expected 'Name: Value', with a colon"),
        (["X Token: s3cr3tt0ken"], "'X Token' is not a header name: it holds U+0020"),
        (["Host: s3cr3tt0ken.example"], "'Host' is set by the fetcher itself; leave it out"),
        (["Accept-Encoding: s3cr3tt0ken"], "'Accept-Encoding' is set by the fetcher itself"),
        (["X-Token:  "], "'X-Token' has no value"),
        (["X-Token: s3cr3tt0ken\nX-Injected: 1"], "the value holds U+000A, a control character"),
        (
            ["Cookie: a=s3cr3tt0ken", "cookie: b=s3cr3tt0ken"],
            "header 'cookie' given twice (names ignore case)",
        ),
    ],
    ids=["no-colon", "bad-name", "host", "accept-encoding", "empty", "newline", "twice"],
)
def test_a_bad_header_is_one_line_and_exit_2_without_a_fetch_or_an_edit(
    headers: list[str],
    problem: str,
    feed_server: FeedServer,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    route = feed_server.add("/feed", Route(RSS))
    before = config.read_bytes()
    options = [option for header in headers for option in ("--header", header)]

    code = main(["add", feed_server.url("/feed"), "--section", "S", *options, "-c", str(config)])

    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith(f"aggregate add: configuration error: --header: {problem}"), err
    assert err.count("\n") == 1 and "s3cr3tt0ken" not in err
    assert route.requests == 0
    assert config.read_bytes() == before


def test_authorization_beside_a_urls_user_and_password_is_refused(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = feed_server.url("/feed").replace("http://", "http://reader:pw@")
    before = config.read_bytes()

    header = f"Authorization: {BEARER}"

    code = main(["add", url, "--section", "S", "--header", header, "-c", str(config)])

    assert code == 2
    err = capsys.readouterr().err
    assert err == (
        "aggregate add: configuration error: --header: the URL's user and password "
        "are its Authorization already; give one or the other\n"
    )
    assert config.read_bytes() == before


def test_a_pages_feed_on_another_origin_is_not_sent_the_headers(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Given a page whose feed is on another origin (localhost: the same
    server under another name), ``add --header`` refuses: the headers were
    given for the page's origin, and the page's author chose the other."""
    elsewhere = feed_server.url("/feed.xml").replace("127.0.0.1", "localhost")
    feed = feed_server.add("/feed.xml", Route(RSS))
    feed_server.add("/", site_page(elsewhere))
    before = config.read_bytes()
    header = f"Authorization: {BEARER}"

    code = main(
        ["add", feed_server.url("/"), "--section", "S", "--header", header, "-c", str(config)]
    )

    assert code == 1
    err = capsys.readouterr().err
    assert err == (
        f"aggregate add: {elsewhere} is on another origin than {feed_server.url('/')}, and "
        "--header is sent to the URL's origin only: add the feed's own URL\n"
    )
    assert feed.requests == 0
    assert config.read_bytes() == before


def test_a_pages_feed_on_its_origin_is_sent_the_headers(
    feed_server: FeedServer, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    feed = feed_server.add("/feed.xml", Route(RSS, require={"Authorization": BEARER}))
    page = feed_server.add("/", site_page("/feed.xml"))

    command = ["add", feed_server.url("/"), "--section", "S", "--header"]
    assert main([*command, f"Authorization: {BEARER}", "-c", str(config)]) == 0

    assert page.last_headers.get("Authorization") == BEARER
    assert feed.last_headers.get("Authorization") == BEARER
    added = load_config(config).sources[-1]
    assert (added.url, added.headers.pairs) == (
        feed_server.url("/feed.xml"),
        (("Authorization", BEARER),),
    )
    assert "s3cr3tt0ken" not in "".join(capsys.readouterr())


def test_an_opml_url_gets_none_of_the_top_level_headers(
    feed_server: FeedServer, config: Path
) -> None:
    """The top-level headers are every source's; an OPML list's URL is no
    source, and its site is not sent them."""
    route = feed_server.add("/export.opml", Route((OPML / "freshrss.opml").read_bytes()))
    config.write_text(START.replace("sources:", f"headers:\n  Authorization: {BEARER}\n\nsources:"))

    assert main(["import", feed_server.url("/export.opml"), "-c", str(config)]) == 0

    assert route.requests == 1 and "Authorization" not in route.last_headers


def test_add_reads_a_feed_whose_charset_names_no_encoding(
    feed_server: FeedServer,
    config: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A non-ASCII byte where the charset goes: the XML declaration decides.
    route = Route(RSS, content_type="application/rss+xml; charset=\xe9")
    feed_server.add("/feed", route)

    assert main(["add", feed_server.url("/feed"), "--section", "S", "-c", str(config)]) == 0

    assert load_config(config).sources[-1].name == "Kyiv Daily"
    assert capsys.readouterr().err == ""
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


@pytest.mark.parametrize(
    ("options", "error"),
    [
        (
            ["--name", "n\n  url: http://evil.example/\x07\u202e"],
            "--name: holds U+000A, a control character: a name is one line of plain text",
        ),
        (
            ["--section", "S\n - name: evil"],
            "--section: holds U+000A, a control character: a name is one line of plain text",
        ),
        (
            ["--name", "gpj.\u202eexe"],
            "--name: holds U+202E, a bidi control: a name is one line of plain text",
        ),
    ],
    ids=["name-newline", "section-newline", "name-bidi"],
)
def test_add_refuses_a_name_or_section_with_control_characters(
    options: list[str],
    error: str,
    feed_server: FeedServer,
    config: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    route = feed_server.add("/feed", Route(RSS))
    command = ["add", feed_server.url("/feed"), "--section", "S", *options, "-c", str(config)]

    assert main(command) == 2

    assert capsys.readouterr().err == f"aggregate add: configuration error: {error}\n"
    assert config.read_text(encoding="utf-8") == START
    assert route.requests == 0


def test_import_makes_names_and_sections_one_line_of_plain_text(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    opml = tmp_path / "list.opml"
    opml.write_text(
        '<opml version="2.0"><body>'
        '<outline text="Wor&#x202e;ld&#x85;">'
        '<outline type="rss" text="gpj.&#x202e;exe&#x9b;2J" xmlUrl="https://a.example/"/>'
        "</outline>"
        '<outline type="rss" text="&#x2066;" category="/x&#x202e;/"'
        ' xmlUrl="https://b.example/feed"/>'
        "</body></opml>",
        encoding="utf-8",
    )

    assert main(["import", str(opml), "-c", str(config)]) == 0

    added = load_config(config).sources[-2:]
    assert [(s.name, s.section) for s in added] == [("gpj.exe2J", "World"), ("b.example", "x")]
    assert "\u202e" not in config.read_text(encoding="utf-8")

    assert main(["import", str(opml), "-c", str(config), "--section", "a\u2067b"]) == 2
    assert capsys.readouterr().err.endswith(
        "configuration error: --section: holds U+2067, a bidi control: "
        "a name is one line of plain text\n"
    )


def test_remove_refuses_a_name_no_source_can_have_on_one_line(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["remove", "nope\n", "-c", str(config)]) == 2

    assert capsys.readouterr().err == (
        "aggregate remove: configuration error: NAME: holds U+000A, a control character: "
        "a name is one line of plain text\n"
    )
    assert config.read_text(encoding="utf-8") == START


def test_add_needs_a_section(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["add", "https://a.example/feed", "-c", str(config)])
    assert exit.value.code == 2
    assert capsys.readouterr().err == (
        "aggregate add: error: the following arguments are required: --section\n"
    )


# -- remove --------------------------------------------------------------------


def test_remove_keeps_the_rest_as_written(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(OPML / "miniflux.opml"), "-c", str(config)]) == 0
    imported = config.read_text()

    assert main(["remove", "France 24 - Europe", "-c", str(config)]) == 0

    lines = imported.splitlines(keepends=True)
    start = lines.index("  - name: France 24 - Europe\n")
    assert config.read_text() == "".join(lines[:start] + lines[start + 3 :])
    assert capsys.readouterr().out.splitlines()[-1] == (
        f"removed France 24 - Europe from {config}; its stored items are kept"
    )


def test_remove_unknown_or_last(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "feeds.yaml"
    text = "sources:\n  - name: Only one\n    url: https://a.example/\n    section: S\n"
    config.write_text(text)

    assert main(["remove", "Only on", "-c", str(config)]) == 1
    assert capsys.readouterr().err == (
        f"aggregate remove: no source named 'Only on' in {config} (did you mean 'Only one'?)\n"
    )
    assert main(["remove", "Only one", "-c", str(config)]) == 1
    assert "is the last source" in capsys.readouterr().err
    assert config.read_text() == text


COMPOSED, DECOMPOSED = "Caf\u00e9 news", "Cafe\u0301 news"  # one name, two spellings


def test_remove_finds_a_name_however_its_accents_are_encoded(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"sources:\n  - name: {DECOMPOSED}\n    url: https://a.example/\n    section: S\n"
        "  - name: Other\n    url: https://b.example/\n    section: S\n",
        encoding="utf-8",
    )
    assert main(["remove", COMPOSED, "-c", str(config)]) == 0, capsys.readouterr().err
    assert [s.name for s in load_config(config).sources] == ["Other"]


def test_two_spellings_of_one_name_are_a_duplicate(tmp_path: Path) -> None:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"sources:\n  - name: {COMPOSED}\n    url: https://a.example/\n    section: S\n"
        f"  - name: {DECOMPOSED}\n    url: https://b.example/\n    section: S\n",
        encoding="utf-8",
    )
    with pytest.raises(config_module.ConfigError) as raised:
        load_config(config)
    assert "duplicate source name" in str(raised.value) and raised.value.line == 5


def test_edits_keep_the_files_permissions(config: Path) -> None:
    os.chmod(config, 0o600)
    assert main(["remove", "LWN.net", "-c", str(config)]) == 0
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    assert "LWN.net" not in config.read_text()


def test_subcommand_help_describes_its_own_options(capsys: pytest.CaptureFixture[str]) -> None:
    for command, option in [
        ("import", "--section"),
        ("add", "--name"),
        ("add", "--header"),
        ("remove", "NAME"),
    ]:
        with pytest.raises(SystemExit) as exit:
            main([command, "--help"])
        assert exit.value.code == 0
        out = capsys.readouterr().out
        assert out.startswith(f"usage: aggregate {command} ") and option in out
        assert "--stop-grace" not in out  # the daemon's, not this command's


def test_a_failed_write_leaves_the_old_file_whole(
    config: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A disk that fills up as the new file is renamed in: no real one here.
    def full(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)

    assert main(["remove", "LWN.net", "-c", str(config)]) == 1

    assert config.read_text(encoding="utf-8") == START
    assert [p.name for p in config.parent.iterdir()] == ["feeds.yaml"]
    assert capsys.readouterr().err == (
        f"aggregate remove: {config}: cannot write: No space left on device\n"
    )


def test_a_real_newsboat_export_imports_and_runs(
    feed_server: FeedServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """newsboat-e.opml is what newsboat 2.21 printed for ``newsboat -e`` after a
    ``newsboat -x reload`` of tests/data/feeds served on 127.0.0.1:8765 (one
    feed retitled with newsboat's "~Parliament watch" tag)."""
    for path, name in [("/kyiv.xml", "rss20.xml"), ("/rdf.rdf", "rss10.rdf")]:
        feed_server.add(path, Route((DATA / "feeds" / name).read_bytes()))
    feed_server.add("/wire.atom", Route((DATA / "feeds" / "atom10.xml").read_bytes()))
    export = (OPML / "newsboat-e.opml").read_bytes()
    assert export.startswith(b'<?xml version="1.0"?>\n<opml version="1.0">')
    opml = tmp_path / "newsboat.opml"
    opml.write_bytes(export.replace(b"http://127.0.0.1:8765", feed_server.base.encode()))
    config = tmp_path / "feeds.yaml"
    config.write_text("allow_private: true\nsources: []\n")

    assert main(["import", str(opml), "-c", str(config), "--section", "Europe"]) == 0
    assert main(["--once", "-c", str(config)]) == 0

    sources = load_config(config).sources
    assert [(s.name, s.section) for s in sources] == [
        ("Kyiv Daily", "Europe"),
        ("Parliament watch", "Europe"),
        ("Europe Wire", "Europe"),
    ]
    atom = (tmp_path / "out" / "feed.atom").read_text()
    for title in ("Grain corridor", "Parliament debates budget", "Allies weigh new air defence"):
        assert title in atom
    assert "3 sources, 0 failed; " in capsys.readouterr().out


# -- the file edited -----------------------------------------------------------


def test_a_symlinked_file_is_edited_through_the_link(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A feeds.yaml linked from a dotfiles repository: renaming over the link
    # left the real file unedited and the link gone.
    real = tmp_path / "dotfiles" / "feeds.yaml"
    real.parent.mkdir()
    config.rename(real)
    config.symlink_to(real)

    assert main(["remove", "LWN.net", "-c", str(config)]) == 0

    assert config.is_symlink() and config.resolve() == real
    assert "LWN.net" not in real.read_text(encoding="utf-8")
    assert [p.name for p in real.parent.iterdir()] == ["feeds.yaml"]


def test_a_file_that_is_not_a_regular_file_is_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # -c /dev/null replaced the device with a regular file (as root, for the
    # whole system); a FIFO stands for it here.
    fifo = tmp_path / "feeds.yaml"
    os.mkfifo(fifo)
    stop = threading.Event()

    def empty() -> None:
        # Each time the command opens the FIFO, it reads it empty.
        while not stop.is_set():
            os.close(os.open(fifo, os.O_WRONLY))

    writer = threading.Thread(target=empty, daemon=True)
    writer.start()

    code = main(["import", str(OPML / "miniflux.opml"), "-c", str(fifo)])

    stop.set()
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # open until the writer has seen stop
    writer.join()
    os.close(reader)
    assert code == 1
    assert capsys.readouterr().err == (
        f"aggregate import: {fifo}: cannot edit: not a regular file\n"
    )


def test_a_read_only_file_is_left_as_it_is(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The rename needs only the directory to be writable: a chmod a-w was
    # overridden without a word (and always for root).
    os.chmod(config, 0o444)

    assert main(["remove", "LWN.net", "-c", str(config)]) == 1

    assert config.read_text(encoding="utf-8") == START
    assert capsys.readouterr().err == (
        f"aggregate remove: {config}: cannot edit: the file is read-only\n"
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="only root can give a file to another user")
def test_an_edit_by_root_keeps_the_files_owner(config: Path) -> None:
    # Root editing the daemon's feeds.yaml (mode 600) made it root's, and the
    # daemon could no longer read it at its next reload.
    os.chown(config, 65534, 65534)
    os.chmod(config, 0o600)

    assert main(["remove", "LWN.net", "-c", str(config)]) == 0

    status = config.stat()
    assert (status.st_uid, status.st_gid, stat.S_IMODE(status.st_mode)) == (65534, 65534, 0o600)
    assert "LWN.net" not in config.read_text()


def test_two_adds_at_once_both_land(feed_server: FeedServer, config: Path) -> None:
    # Each read the file, fetched its feed, then wrote what it had read plus
    # its own source: both said "added", and the file had one of them.
    together = threading.Barrier(2)
    for path in ("/one", "/two"):
        feed_server.add(path, Route(RSS, together=together))
    command = [sys.executable, "-m", "aggregator.cli", "add", "--section", "S", "-c", str(config)]
    adds = [
        subprocess.Popen(
            [*command, feed_server.url(path), "--name", path[1:]],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for path in ("/one", "/two")
    ]

    outcomes = [(add.communicate(timeout=120), add.returncode) for add in adds]

    assert [code for _, code in outcomes] == [0, 0], outcomes

    assert not together.broken  # both fetched at once, so both had read the file before
    names = [s.name for s in load_config(config).sources]
    assert sorted(names[-2:]) == ["one", "two"]
    assert config.read_text(encoding="utf-8").startswith(START.split("output:")[0].rstrip("\n"))


LONG_URL = "https://a.example/feed?" + "x" * 5000


@pytest.mark.parametrize(
    ("head", "newline", "url"),
    [
        ("\ufeff", "\n", "https://a.example/"),
        ("", "\r\n", "https://a.example/"),
        ("", "\n", LONG_URL),
    ],
    ids=["bom", "crlf", "long-line"],
)
def test_an_edit_keeps_line_ends_a_byte_order_mark_and_long_lines(
    head: str, newline: str, url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Every line of a CRLF file became LF, a BOM went, and a line past 4,096
    # characters was folded in two: a diff of the whole file for one source.
    lines = [
        "# Notepad's",
        "sources:",
        "  - name: A",
        f"    url: {url}",
        "    section: S",
        "  - name: B",
        "    url: https://b.example/",
        "    section: S",
        "",
    ]
    config = tmp_path / "feeds.yaml"
    config.write_bytes((head + newline.join(lines)).encode("utf-8"))

    assert main(["remove", "B", "-c", str(config)]) == 0

    assert config.read_bytes() == (head + newline.join([*lines[:5], ""])).encode("utf-8")
