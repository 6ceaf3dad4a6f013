"""Article pages chosen by the feed's author, end to end: ``aggregate --once``
against a loopback feed whose items link to hostile pages.  A bad page costs
its item the full text, with its reason in ``aggregate status``; the source
and the pass go on."""

from __future__ import annotations

from pathlib import Path

from tests.feedserver import FeedServer, Route
from tests.fulltext.test_full_text import article_page, published, run, serve, write_config


def test_allow_private_lets_pages_be_private_only_on_the_feeds_own_host(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """The feed lives on 127.0.0.1 and its source allows that; its items may
    link anywhere (a feed on localhost made by a bridge from public sites),
    so a page on another private host, or a redirect from the feed's host to
    one, is refused before any request reaches it."""
    port = feed_server.url("/").rsplit(":", 1)[1].rstrip("/")
    elsewhere = f"http://localhost:{port}"  # the same server, under another host's name
    own = serve(feed_server, 3)
    secret = feed_server.add(
        "/metadata", Route(body=article_page(9, "Secret"), content_type="text/html")
    )
    away = Route(status=302, etag=False, headers={"Location": f"{elsewhere}/metadata"})
    feed_server.add("/articles/2", away)
    items = (
        f"<item><title>Story 1</title><link>{feed_server.url('/articles/1')}</link>"
        "<guid>s1</guid><description>Teaser one.</description></item>"
        f"<item><title>Story 2</title><link>{feed_server.url('/articles/2')}</link>"
        "<guid>s2</guid><description>Teaser two.</description></item>"
        f"<item><title>Story 3</title><link>{elsewhere}/metadata</link>"
        "<guid>s3</guid><description>Teaser three.</description></item>"
    )
    feed = f"<rss version='2.0'><channel><title>H</title>{items}</channel></rss>"
    feed_server.add("/feed.xml", Route(body=feed.encode()))
    config = write_config(tmp_path, feed_server, "true")

    code, output = run(["--once", "-c", str(config)])

    assert code == 0, output
    assert "full text: 3 pages, 2 failed" in output, output
    assert secret.requests == 0
    assert own[0].requests == 1
    summaries = published(tmp_path / "out")
    assert "Background" in summaries["Story 1"], summaries
    assert "Teaser two" in summaries["Story 2"] and "Teaser three" in summaries["Story 3"]
    code, status = run(["status", "-c", str(config)])
    line = next(line for line in status.splitlines() if "full text:" in line)
    assert "localhost resolves to 127.0.0.1, which is not a public address" in line, line
    assert "only on its feed's host" in line, line


def test_a_source_listing_its_private_hosts_gets_pages_on_those_hosts_only(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """An intranet feed on one host (127.0.0.1, standing in for news.corp)
    whose items link to another (localhost, for wiki.corp, the same server
    under another name).  Listing the feed's host alone, the pages are
    refused before any request reaches them; listing both, they are read,
    and a redirect from there to a host not listed is refused.  By host:
    the one server answers both names on its one port."""
    port = feed_server.url("/").rsplit(":", 1)[1].rstrip("/")
    wiki = f"http://localhost:{port}"
    page = feed_server.add(
        "/wiki/1", Route(body=article_page(1, "Story 1"), content_type="text/html")
    )
    away = Route(status=302, etag=False, headers={"Location": f"http://127.0.0.2:{port}/wiki/1"})
    feed_server.add("/wiki/2", away)
    items = "".join(
        f"<item><title>Story {n}</title><link>{wiki}/wiki/{n}</link><guid>s{n}</guid>"
        f"<description>Teaser {n}.</description></item>"
        for n in (1, 2)
    )
    feed = f"<rss version='2.0'><channel><title>News</title>{items}</channel></rss>"
    feed_server.add("/feed.xml", Route(body=feed.encode()))

    def configured(hosts: str) -> Path:
        folder = tmp_path / hosts.strip("[]").replace(", ", "+")
        folder.mkdir()
        config = folder / "feeds.yaml"
        config.write_text(
            "digest: {sentences: 0}\nfetch: {timeout: 2, read_timeout: 1}\nsources:\n"
            f"  - name: intranet\n    url: {feed_server.url('/feed.xml')}\n    section: S\n"
            f"    full_text: true\n    allow_private: {hosts}\n"
        )
        return config

    # The feed's host alone: the feed is read, the pages on the other host are not.
    config = configured("[127.0.0.1]")
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert "full text: 2 pages, 2 failed" in output, output
    assert page.requests == 0 and away.requests == 0
    code, status = run(["status", "-c", str(config)])
    line = next(line for line in status.splitlines() if "full text:" in line)
    assert "localhost resolves to 127.0.0.1, which is not a public address" in line, line
    assert "list the hosts allowed in allow_private" in line, line

    # Both hosts: the page is read; the redirect off a listed host is checked.
    config = configured("[127.0.0.1, LocalHost]")
    code, output = run(["--once", "-c", str(config)])
    assert code == 0, output
    assert "full text: 2 pages, 1 failed" in output, output
    assert page.requests == 1 and away.requests == 1
    summaries = published(config.parent / "out")
    assert "Background" in summaries["Story 1"], summaries
    assert "Teaser 2" in summaries["Story 2"], summaries
    code, status = run(["status", "-c", str(config)])
    line = next(line for line in status.splitlines() if "full text:" in line)
    assert line.startswith(f"intranet: full text: 1 of 2 pages failed, last: {wiki}/wiki/2: "), line
    assert "redirect to http://127.0.0.2" in line and "not a public address" in line, line


def test_a_sources_headers_go_to_article_pages_on_its_feeds_origin_only(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """A cookie-walled site wants its cookie for its article pages too: a
    page on the feed's origin gets the source's headers; a page on another
    host (localhost, the same server under another name), or a redirect
    from the feed's origin to one, gets none of them."""
    port = feed_server.url("/").rsplit(":", 1)[1].rstrip("/")
    elsewhere = f"http://localhost:{port}"
    own, other, redirected = (
        feed_server.add(
            f"/articles/{n}", Route(body=article_page(n, f"Story {n}"), content_type="text/html")
        )
        for n in (1, 2, 4)
    )
    away = Route(status=302, etag=False, headers={"Location": f"{elsewhere}/articles/4"})
    feed_server.add("/articles/3", away)
    links = [
        feed_server.url("/articles/1"),
        f"{elsewhere}/articles/2",
        feed_server.url("/articles/3"),
    ]
    items = "".join(
        f"<item><title>Story {n}</title><link>{link}</link><guid>s{n}</guid>"
        f"<description>Teaser {n}.</description></item>"
        for n, link in enumerate(links, start=1)
    )
    feed = f"<rss version='2.0'><channel><title>Walled</title>{items}</channel></rss>"
    feed_server.add("/feed.xml", Route(body=feed.encode()))
    config = tmp_path / "feeds.yaml"
    config.write_text(
        "digest: {sentences: 0}\nfetch: {timeout: 2, read_timeout: 1}\nsources:\n"
        f"  - name: walled\n    url: {feed_server.url('/feed.xml')}\n    section: S\n"
        "    full_text: true\n    allow_private: [127.0.0.1, localhost]\n"
        "    headers:\n      Cookie: paywall=subscr1ber\n      Authorization: Bearer t0kenvalue\n"
    )

    code, output = run(["--once", "-c", str(config)])

    assert code == 0, output
    assert "walled: 3 new, 0 updated, 0 unchanged; full text: 3 pages\n" in output, output
    for page in (own, away):
        assert page.last_headers.get("Cookie") == "paywall=subscr1ber"
        assert page.last_headers.get("Authorization") == "Bearer t0kenvalue"
    for page in (other, redirected):
        assert page.requests == 1
        assert "Cookie" not in page.last_headers and "Authorization" not in page.last_headers
    assert "Background" in published(tmp_path / "out")["Story 1"]


def test_a_page_of_many_tiny_elements_is_refused_and_the_others_are_read(
    feed_server: FeedServer, tmp_path: Path
) -> None:
    """30,000 tiny paragraphs (120 KB) take trafilatura tens of seconds; a
    million, past its time limit.  Refused by their count, at once."""
    pages = serve(feed_server, 2)
    crowded = b"<html><body><article>" + b"<p>a" * 30_000 + b"</article></body></html>"
    feed_server.add("/articles/2", Route(body=crowded, content_type="text/html"))
    config = write_config(tmp_path, feed_server, "true")

    code, output = run(["--once", "-c", str(config)])

    assert code == 0, output
    assert "full text: 2 pages, 1 failed" in output, output
    summaries = published(tmp_path / "out")
    assert "Background" in summaries["Story 1"] and "teaser of the story 2" in summaries["Story 2"]
    code, status = run(["status", "-c", str(config)])
    assert "the page has more than 25,000 elements" in status, status
    assert pages[0].requests == 1
