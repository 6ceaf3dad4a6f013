"""Filter rules: which entries are left out, from the rules to the published feed."""

from __future__ import annotations

import io
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import feedparser
import pytest

from aggregator.cli import main
from aggregator.config import parse_config
from aggregator.errors import ConfigError
from aggregator.filters import EntryFields, Filters, Rule, compile_pattern
from tests.feedserver import FeedServer, Route


def rule(action: str, **patterns: str) -> Rule:
    compiled = tuple((field, compile_pattern(text)) for field, text in patterns.items())
    return Rule(action, compiled, "filters[0]")


def entry(title: str = "A story", content: str = "<p>Text</p>", **more: object) -> EntryFields:
    return EntryFields(
        title, content, more.get("author"), more.get("link"), more.get("categories", ())
    )  # type: ignore[arg-type]


def test_a_block_rule_leaves_out_what_it_matches_case_insensitively() -> None:
    filters = Filters((rule("block", title="sponsored"),))
    assert filters.leaving_out(entry("SPONSORED: buy this")) is filters.rules[0]
    assert filters.leaving_out(entry("A story")) is None


def test_a_pattern_may_ask_for_case() -> None:
    filters = Filters((rule("block", title="(?-i:AD)"),))
    assert filters.leaving_out(entry("AD: buy")) is not None
    assert filters.leaving_out(entry("ad hoc committee")) is None


def test_every_field_of_a_rule_must_match() -> None:
    filters = Filters((rule("block", title="match", author="^bot$"),))
    assert filters.leaving_out(entry("Match day", author="bot")) is not None
    assert filters.leaving_out(entry("Match day", author="a person")) is None


def test_keep_rules_leave_out_what_none_of_them_match() -> None:
    filters = Filters((rule("keep", category="^ai$"), rule("keep", title="linux")))
    assert filters.leaving_out(entry(categories=("Sports", "AI"))) is None
    assert filters.leaving_out(entry("Linux 7.0 is out")) is None
    assert filters.leaving_out(entry("Football")) is filters.rules[0]


def test_content_is_matched_as_text_not_markup() -> None:
    filters = Filters((rule("block", content="affiliate link"),))
    assert filters.leaving_out(entry(content="<p>An <b>affiliate</b> link &amp; more</p>"))
    assert not filters.leaving_out(entry(content='<a class="affiliate-link">x</a>'))


def test_block_wins_over_keep() -> None:
    filters = Filters((rule("keep", title="linux"), rule("block", title="sponsored")))
    assert filters.leaving_out(entry("Sponsored: Linux laptops")) is filters.rules[1]


def test_only_block_rules_on_stored_fields_apply_to_stored_items() -> None:
    filters = Filters(
        (rule("block", title="x"), rule("block", category="y"), rule("keep", title="z"))
    )
    assert filters.for_stored().rules == (filters.rules[0],)


@pytest.mark.parametrize(
    ("yaml", "where"),
    [
        ("filters:\n  - block: {title: '(unclosed'}\n", "filters[0].block.title: not a regular"),
        ("filters:\n  - block: {colour: red}\n", "filters[0].block.colour: unknown key"),
        ("filters:\n  - {keep: {title: a}, block: {title: b}}\n", "filters[0]: a rule is one"),
        (
            "sources:\n  - {name: a, url: 'http://x/', section: S,\n"
            "     filters: [{block: {link: '*'}}]}\n",
            "sources[0].filters[0].block.link: not a regular",
        ),
    ],
)
def test_a_bad_rule_is_a_configuration_error_naming_its_key(
    tmp_path: Path, yaml: str, where: str
) -> None:
    text = (
        yaml
        if "sources:" in yaml
        else yaml + "sources:\n  - {name: a, url: 'http://x/', section: S}\n"
    )
    with pytest.raises(ConfigError) as raised:
        parse_config(text, tmp_path / "feeds.yaml")
    assert where in str(raised.value)
    assert str(raised.value).startswith(f"{tmp_path / 'feeds.yaml'}:")


def rss(*items: tuple[str, str, str]) -> bytes:
    entries = "".join(
        f"<item><title>{title}</title><link>http://example.com/{n}</link><guid>{n}</guid>"
        f"<category>{category}</category><description>{text}</description>"
        f"<pubDate>Mon, 30 Nov 2026 0{n}:00:00 GMT</pubDate></item>"
        for n, (title, category, text) in enumerate(items)
    )
    return f"<rss version='2.0'><channel><title>T</title>{entries}</channel></rss>".encode()


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(argv)
    return code, out.getvalue()


def titles(out: Path) -> set[str]:
    return {e.title for e in feedparser.parse((out / "feed.atom").read_bytes()).entries}


def test_filters_through_once_publish_and_preview(feed_server: FeedServer, tmp_path: Path) -> None:
    feed_server.add(
        "/feed.xml",
        Route(
            body=rss(
                ("Rust 2.0 released", "tech", "A new edition of the language."),
                ("Sponsored: a better laptop", "tech", "Buy it now."),
                ("Cup final tonight", "sports", "The teams are ready."),
                ("Kernel news", "tech", "The scheduler changes again."),
            )
        ),
    )
    config = tmp_path / "feeds.yaml"
    base = (
        "allow_private: true\ndigest: {sentences: 0}\n"
        "filters:\n  - block: {title: sponsored}\n"
        f"sources:\n  - name: news\n    url: {feed_server.url('/feed.xml')}\n    section: S\n"
        "    filters:\n      - keep: {category: '^tech$'}\n"
    )
    config.write_text(base)
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert "2 new" in output and "2 left out by filters" in output, output
    assert titles(tmp_path / "out") == {"Rust 2.0 released", "Kernel news"}

    # A rule added later leaves out a stored item at the next publish; the
    # preview says so first, without changing anything.
    config.write_text(base + "      - block: {content: 'scheduler'}\n")
    code, preview = run(["filters", "-c", str(config)])
    assert code == 0, preview
    assert "leaves out 1 stored item\n    - Kernel news <http://example.com/3>" in preview, preview
    assert "a keep rule: applied as entries are read" in preview
    assert titles(tmp_path / "out") == {"Rust 2.0 released", "Kernel news"}  # unchanged
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert titles(tmp_path / "out") == {"Rust 2.0 released"}

    code, output = run(["filters", "-c", str(config), "--source", "nope"])
    assert code == 2 and "no source named 'nope'" in output


def test_the_preview_shows_titles_and_links_as_published(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A feed that repeats its own token in a title or link: the preview
    masks it, as the published feeds do, and drops user info from links."""
    token = "S3CRETTOKEN1"
    body = rss((f"Sponsored by {token}", "tech", "Buy it now.")).replace(
        b"http://example.com/0", f"http://ad:pw1234@example.com/0?token={token}".encode()
    )
    feed_server.add(f"/feed.xml?token={token}", Route(body=body))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "allow_private: true\ndigest: {sentences: 0}\nsources:\n  - name: news\n"
        f"    url: {feed_server.url('/feed.xml')}?token={token}\n    section: S\n"
    )
    code, output = run(["--once", "-c", str(config)])
    assert code == 0 and "1 new" in output, output
    config.write_text(config.read_text() + "    filters:\n      - block: {title: sponsored}\n")
    code, preview = run(["filters", "-c", str(config)])
    assert code == 0, preview
    assert "    - Sponsored by *** <http://example.com/0?token=***>" in preview, preview
    assert token not in preview and "pw1234" not in preview
