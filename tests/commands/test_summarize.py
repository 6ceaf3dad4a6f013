"""``aggregate summarize``: a file, stdin, a URL, and --jsonl, through the real CLI."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from aggregator.cli import main
from aggregator.parse.xmlguard import MAX_DEPTH
from tests.conftest import DATA
from tests.feedserver import FeedServer, Route
from tests.hostile import corpus
from tests.summarize.seed import SEED, SEED_HEADINGS

ARTICLE = DATA / "summarize" / "article.md"
EXPECTED = DATA / "summarize" / "article.md.summary.txt"

ENGLISH = (
    "The city council met on Monday to debate the new transport budget. "
    "Buses have been late for months and riders are angry. "
    "The mayor proposed doubling the number of buses on the busiest routes. "
    "Critics said the budget ignores cyclists. "
    "The council will vote on the transport budget next week."
)
UKRAINIAN = (
    "Переговори про постачання зброї відновилися в понеділок. "
    "Міністри обговорили постачання ракет і снарядів. "
    "Постачання ракет почнеться навесні, повідомили в міністерстві. "
    "Журналістів на зустріч не пустили."
)


def run(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *args: str,
    stdin: str = "",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(["summarize", *args])
    out, err = capsys.readouterr()
    return code, out, err


# --- one text -----------------------------------------------------------------


def test_an_article_file_matches_its_golden_summary(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Title line, "Photo:", "Share this:" and "Read more @" lines are not text;
    # numbered Markdown headings each keep their key sentence, and the summary
    # a third of the words.
    code, out, err = run(capsys, monkeypatch, str(ARTICLE), "--sentences", "2")
    assert (code, err) == (0, "")
    assert out == EXPECTED.read_text(encoding="utf-8")


def test_the_seed_prints_headings_then_sentences(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, str(SEED), "--sentences", "1")
    assert code == 0
    blocks = out.rstrip("\n").split("\n\n")
    assert len(blocks) == 1 + len(SEED_HEADINGS)
    assert len(blocks[0].splitlines()) == 1  # the lead: no heading, one sentence
    for block, heading in zip(blocks[1:], SEED_HEADINGS, strict=True):
        assert block.splitlines()[0] == heading
        assert len(block.splitlines()) == 2
    assert "Read More" not in out


def test_stdin_is_the_default_input(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, _ = run(capsys, monkeypatch, "--sentences", "2", stdin=ENGLISH)
    assert code == 0
    assert len(out.splitlines()) == 2
    code, dash, _ = run(capsys, monkeypatch, "-", "--sentences", "2", stdin=ENGLISH)
    assert dash == out


@pytest.mark.parametrize("algorithm", ["lead", "LexRank", "edmundson"])
def test_algorithm_and_language_options(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, algorithm: str
) -> None:
    code, out, _ = run(
        capsys,
        monkeypatch,
        "--algorithm",
        algorithm,
        "--language",
        "uk",
        "--sentences",
        "1",
        stdin=UKRAINIAN,
    )
    assert code == 0
    assert len(out.splitlines()) == 1 and out.strip() in UKRAINIAN
    if algorithm == "lead":
        assert UKRAINIAN.startswith(out.strip())


def test_max_sentences_lets_long_sections_grow(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    long_text = " ".join(f"Sentence number {i} says something about topic {i}." for i in range(60))
    _, fixed, _ = run(capsys, monkeypatch, "--sentences", "2", stdin=long_text)
    _, grown, _ = run(
        capsys, monkeypatch, "--sentences", "2", "--max-sentences", "3", stdin=long_text
    )
    assert (len(fixed.splitlines()), len(grown.splitlines())) == (2, 3)


def test_a_feed_file_is_summarized_item_by_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(
        "<?xml version='1.0'?><rss version='2.0'><channel><title>T</title>"
        "<link>https://example.com/</link><description>d</description>"
        f"<item><title>Buses</title><link>https://example.com/1</link>"
        f"<description>{ENGLISH}</description></item>"
        f"<item><title>Зброя</title><link>https://example.com/2</link>"
        f"<description>{UKRAINIAN}</description></item>"
        "</channel></rss>",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, monkeypatch, str(feed), "--sentences", "1")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "# Buses" and lines[2] in ENGLISH
    assert lines[4] == "# Зброя" and lines[6] in UKRAINIAN


def test_a_url_is_fetched_with_the_project_client(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (
        "<!doctype html><html><head><title>Site</title></head><body>"
        "<nav>Home News</nav><article><h1>Buses</h1>"
        f"<p>{ENGLISH}</p><figure><figcaption>Photo: the mayor</figcaption></figure>"
        "<h2>Reactions</h2><p>Riders welcomed the plan. Shop owners worried about parking. "
        "A cyclists' group called it short-sighted.</p></article>"
        "<footer>© Site</footer></body></html>"
    )
    feed_server.add("/story", Route(page.encode(), content_type="text/html; charset=utf-8"))
    url = feed_server.url("/story")

    code, out, err = run(capsys, monkeypatch, url, "--sentences", "1")
    assert code == 1 and "private" in err  # loopback is refused unless asked for

    code, out, _ = run(capsys, monkeypatch, url, "--sentences", "1", "--allow-private")
    assert code == 0
    blocks = out.rstrip("\n").split("\n\n")
    assert blocks[0].splitlines()[0] == "Buses" and blocks[0].splitlines()[1] in ENGLISH
    assert blocks[1].splitlines()[0] == "Reactions"
    assert "Home" not in out and "Photo" not in out and "©" not in out


def test_a_page_cannot_drive_the_terminal(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """ESC, BEL and C1 sequences in what a server sent never reach the terminal."""
    escape = "\x1b]0;owned\x07\x1b[2J\x9b1m\u202e"
    page = (
        f"<!doctype html><html><body><h1>Buses{escape}</h1><p>{ENGLISH}{escape}</p></body></html>"
    )
    feed_server.add("/page", Route(page.encode(), content_type="text/html; charset=utf-8"))
    rss = (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>Title{escape}</title><description>{ENGLISH}{escape}</description>"
        f"</item></channel></rss>"
    )
    feed_server.add("/feed", Route(rss.encode("utf-8")))
    for path in ("/page", "/feed"):
        code, out, err = run(capsys, monkeypatch, feed_server.url(path), "--allow-private")
        assert code == 0, err
        assert "Buses" in out or "# Title" in out
        assert not any(char in out for char in "\x1b\x07\x9b\u202e"), repr(out)


@pytest.mark.parametrize("charset", ["\xe9", "utf-\xfc8", "undefined", "rot13"])
def test_a_charset_that_names_no_encoding_is_ignored(
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    charset: str,
) -> None:
    # The server's header bytes as they are (http.server sends them as Latin-1).
    page = f"<!doctype html><html><body><h1>Buses</h1><p>{ENGLISH}</p></body></html>"
    feed_server.add("/page", Route(page.encode(), content_type=f"text/html; charset={charset}"))
    rss = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>t</title>'
        f"<item><title>Caf\u00e9</title><description>{ENGLISH}</description></item>"
        "</channel></rss>"
    )
    feed_server.add(
        "/feed",
        Route(rss.encode("utf-8"), content_type=f"application/rss+xml; charset={charset}"),
    )
    code, out, err = run(capsys, monkeypatch, feed_server.url("/page"), "--allow-private")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == "Buses" and out.splitlines()[1] in ENGLISH
    code, out, err = run(capsys, monkeypatch, feed_server.url("/feed"), "--allow-private")
    assert (code, err) == (0, "")
    assert out.startswith("# Caf\u00e9\n\n") and out.splitlines()[2] in ENGLISH
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING], caplog.text


# What each gives as a source (tests/hostile/corpus.py), as one line, exit code 1.
@pytest.mark.parametrize(
    ("body", "phrase"),
    [
        (corpus.billion_laughs(), "refused: entity 'lol1' refers to entity 'lol' (nested)"),
        (corpus.xxe("system"), "refused: external entity 'xxe'"),
        (corpus.rss(b"<item><title>Unclosed</item>"), "not a well-formed feed: "),
        (corpus.deep_xml(MAX_DEPTH), f"refused: elements nested more than {MAX_DEPTH} deep"),
        # No prolog, served as a feed: the root says what it is.
        (b"<rss version='2.0'><channel><item><title>a</item></channel>", "not a well-formed"),
        (b"<feed xmlns='http://www.w3.org/2005/Atom'><entry>", "not a well-formed feed"),
    ],
    ids=["billion-laughs", "xxe", "unclosed-tags", "deep", "rss-root", "atom-root"],
)
def test_a_refused_or_broken_feed_is_its_error_not_a_page(
    feed_server: FeedServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
    phrase: str,
) -> None:
    feed_server.add("/feed", Route(body, content_type="application/rss+xml"))
    url = feed_server.url("/feed")
    code, out, err = run(capsys, monkeypatch, url, "--allow-private")
    assert (code, out) == (1, "")
    assert err.startswith(f"aggregate summarize: {url}: ") and err.count("\n") == 1
    assert phrase in err
    # The same file on disk.
    path = tmp_path / "feed.xml"
    path.write_bytes(body)
    code, out, err = run(capsys, monkeypatch, str(path))
    assert (code, out) == (1, "")
    assert err.startswith(f"aggregate summarize: {path}: ") and phrase in err


def test_xml_that_is_a_page_or_no_feed_is_still_summarized_as_a_page(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    xhtml = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\n'
        f'<html xmlns="http://www.w3.org/1999/xhtml"><body><h1>Buses</h1><p>{ENGLISH}</p>'
        "</body></html>"
    )
    other = f'<?xml version="1.0"?><article><p>{ENGLISH}</p></article>'
    feed_server.add("/xhtml", Route(xhtml.encode(), content_type="application/xml"))
    feed_server.add("/other", Route(other.encode(), content_type="application/xml"))
    for path in ("/xhtml", "/other"):
        code, out, err = run(capsys, monkeypatch, feed_server.url(path), "--allow-private")
        assert (code, err) == (0, ""), path
        assert any(line in ENGLISH for line in out.splitlines() if line), (path, out)


# JSON that does not read, or reads as no JSON Feed: its error, one line,
# exit code 1; never its braces and quotes summarized as a page.
@pytest.mark.parametrize(
    ("body", "content_type", "phrase"),
    [
        (
            b'{\n "version": "https://jsonfeed.org/version/1.1",\n'
            b' "items": [\n  {"id": "1" "t": 1}',
            "application/feed+json",
            "not valid JSON: Expecting ',' delimiter: line 4 column 14",
        ),
        (
            b'{"version": "https://jsonfeed.org/version/1.1", "items": [{"content_text": "'
            + ENGLISH.encode(),
            "text/plain",
            "not valid JSON: Unterminated string starting at: line 1 column 76",
        ),
        (ENGLISH.encode(), "application/json", "not valid JSON: Expecting value: line 1 column 1"),
        (b'{"a": 1}', "application/json", "JSON document is not a JSON Feed (no jsonfeed.org"),
        (b"[1, 2, 3]", "application/json", "not a JSON Feed (an array, not an object)"),
    ],
    ids=["broken-feed", "cut-short-as-text", "text-as-json", "other-object", "array"],
)
def test_json_that_does_not_read_or_holds_no_feed_is_its_error_not_a_page(
    feed_server: FeedServer,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    body: bytes,
    content_type: str,
    phrase: str,
) -> None:
    feed_server.add("/feed", Route(body, content_type=content_type))
    url = feed_server.url("/feed")
    code, out, err = run(capsys, monkeypatch, url, "--allow-private")
    assert (code, out) == (1, "")
    assert err == f"aggregate summarize: {url}: {err.split(': ', 2)[2]}"
    assert err.count("\n") == 1 and phrase in err, err
    assert len(err) < len(url) + 120  # the problem, not the bytes
    # The same file on disk.
    path = tmp_path / "feed.json"
    path.write_bytes(body)
    code, out, err = run(capsys, monkeypatch, str(path))
    assert (code, out) == (1, "")
    assert err.startswith(f"aggregate summarize: {path}: ") and phrase in err, err


def test_text_that_only_starts_like_json_is_still_a_page(
    feed_server: FeedServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    text = "[Updated] " + ENGLISH
    feed_server.add("/notes", Route(text.encode(), content_type="text/plain; charset=utf-8"))
    code, out, err = run(capsys, monkeypatch, feed_server.url("/notes"), "--allow-private")
    assert (code, err) == (0, "")
    assert out and all(line in text for line in out.splitlines())


@pytest.mark.parametrize(
    "content_type", ["image/png", "application/octet-stream", "application/pdf", "audio/mpeg"]
)
def test_a_url_that_is_not_text_is_refused(
    feed_server: FeedServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content_type: str,
) -> None:
    body = b"\x89PNG\r\n\x1a\n" + ENGLISH.encode()  # text inside, yet not a text type
    feed_server.add("/file", Route(body, content_type=content_type))
    code, out, err = run(capsys, monkeypatch, feed_server.url("/file"), "--allow-private")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and content_type in err and "not text" in err


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["/no/such/file.txt"], 1, "No such file"),
        (["--sentences", "3", "--max-sentences", "2"], 2, "less than"),
        (["--sentences", "0"], 2, "at least 1"),
        (["--algorithm", "nope"], 2, "invalid choice"),
        (["file.txt", "--jsonl"], 2, "stdin only"),
    ],
)
def test_errors(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    code: int,
    message: str,
) -> None:
    try:
        got, _, err = run(capsys, monkeypatch, *args)
    except SystemExit as exit:  # argparse's own usage errors
        got, err = int(exit.code or 0), capsys.readouterr().err
    assert got == code
    assert message in err


def test_summarize_must_come_first(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-c", "feeds.yaml", "summarize"]) == 2
    assert "summarize --help" in capsys.readouterr().err


# --- JSON lines -------------------------------------------------------------------


def jsonl(*records: object) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)


def test_jsonl_round_trip(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = jsonl(
        {"id": "a", "text": ENGLISH},
        {"id": 2, "text": UKRAINIAN, "language": "uk"},
        {"id": None, "text": "<h2>Head</h2><p>One. Two. Three. Four.</p>"},
        {"id": "short", "text": "Only this."},
        {"id": "empty", "text": ""},
    )
    code, out, err = run(capsys, monkeypatch, "--jsonl", "--sentences", "2", stdin=stdin + "\n")
    assert (code, err) == (0, "")
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["id"] for r in records] == ["a", 2, None, "short", "empty"]
    assert all(set(r) == {"id", "summary"} for r in records)
    assert [len(r["summary"]) for r in records] == [2, 2, 2, 1, 0]
    assert all(s in ENGLISH for s in records[0]["summary"])
    assert "Head" not in records[2]["summary"]  # headings are left out
    # The same text gives the same summary as the one-text mode.
    _, single, _ = run(capsys, monkeypatch, "--sentences", "2", stdin=ENGLISH)
    assert records[0]["summary"] == single.splitlines()


def test_jsonl_bad_lines_are_reported_and_the_rest_go_on(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    stdin = "not json\n" + jsonl([1, 2], {"id": 7, "text": 5}, {"id": 8, "text": ENGLISH})
    code, out, err = run(capsys, monkeypatch, "--jsonl", stdin=stdin)
    assert code == 1
    records = [json.loads(line) for line in out.splitlines()]
    assert [r.get("id") for r in records] == [None, None, 7, 8]
    assert ["error" in r for r in records] == [True, True, True, False]
    assert "line 1:" in err and "line 3:" in err


def test_jsonl_in_worker_processes_gives_the_same_answer(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [ENGLISH, UKRAINIAN, "Short one."] * 30  # over the pool threshold
    stdin = jsonl(*({"id": i, "text": t} for i, t in enumerate(texts)))
    _, serial, _ = run(capsys, monkeypatch, "--jsonl", "--jobs", "1", stdin=stdin)
    code, pooled, _ = run(capsys, monkeypatch, "--jsonl", "--jobs", "2", stdin=stdin)
    assert code == 0
    assert pooled == serial
    assert len(pooled.splitlines()) == len(texts)


def test_the_installed_command_runs(tmp_path: Path) -> None:
    command = Path(sys.executable).with_name("aggregate")
    if not command.exists():
        pytest.skip("no 'aggregate' script beside this Python")
    done = subprocess.run(
        [str(command), "summarize", "--jsonl", "--sentences", "1", "--language", "en"],
        input=jsonl({"id": "x", "text": ENGLISH}),
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONWARNINGS": "error"},
    )
    assert done.returncode == 0, done.stderr
    [record] = [json.loads(line) for line in done.stdout.splitlines()]
    assert record["id"] == "x" and len(record["summary"]) == 1


def test_sentences_default_is_the_configurations(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from aggregator.commands.summarize import main as summarize
    from aggregator.config import SummaryConfig

    with pytest.raises(SystemExit):
        summarize(["--help"])
    help_text = capsys.readouterr().out
    default = SummaryConfig().sentences
    assert f"key sentences per section (default: {default})" in " ".join(help_text.split())
    _, implicit, _ = run(capsys, monkeypatch, stdin=ENGLISH)
    _, explicit, _ = run(capsys, monkeypatch, "--sentences", str(default), stdin=ENGLISH)
    _, other, _ = run(capsys, monkeypatch, "--sentences", str(default + 1), stdin=ENGLISH)
    assert implicit == explicit != other
