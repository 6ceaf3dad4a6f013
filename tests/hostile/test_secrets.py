"""Credentials in a source URL never leave the configuration (issue 12, section 2).

A source configured as ``http://USER:PASSWORD@host/feed?token=TOKEN`` is
fetched with its credentials, but neither the password, the user name nor a
secret-looking query value appears in anything published or shown: the files
in the output directory, the ``--once`` lines, ``aggregate status``, and the
daemon's ``/status``, ``/sources.opml``, feeds and log; not even where the
feed repeats them, in its links or in its text.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
from collections.abc import Iterator
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest

from aggregator.cli import main
from tests.feedserver import FeedServer, Route
from tests.test_daemon import AGGREGATE, Daemon
from tests.waiting import wait_until

USER = "feedadmin"
PASSWORD = "hunter2pass"
TOKEN = "S3CRETTOKEN"
API_KEY = "K3YVALUE"
SECRETS = (USER, PASSWORD, TOKEN, API_KEY)

# Relative links resolve against the feed's own URL: they must not carry its
# user info (or its token, for a link that is the feed's URL itself).
RSS = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Private feed</title><link>/</link>
<description>d</description>
<item><title>Relative story</title><link>/news/one</link><guid>rel-1</guid>
<pubDate>Tue, 19 Nov 2024 08:00:00 +0000</pubDate>
<description>A story whose link is relative to the feed.</description></item>
<item><title>Same-page story</title><link>#two</link><guid>rel-2</guid>
<pubDate>Tue, 19 Nov 2024 09:00:00 +0000</pubDate>
<description>A story whose link is the feed's own address.</description></item>
</channel></rss>"""


def secret_url(server: FeedServer, path_and_query: str) -> str:
    return server.url(path_and_query).replace("http://", f"http://{USER}:{PASSWORD}@", 1)


def write_config(tmp_path: Path, server: FeedServer, extra: str = "") -> Path:
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""\
allow_private: true
interval: 1s
min_interval: 1s
serve:
  port: 0
{extra}sources:
  - name: Private
    url: {secret_url(server, f"/feed.xml?token={TOKEN}&page=1")}
    section: News
  - name: Missing
    url: {secret_url(server, f"/missing.xml?api_key={API_KEY}")}
    section: News
  - name: Guarded
    url: {secret_url(server, f"/guarded.xml?sig={TOKEN}")}
    section: News
    allow_private: false
""",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def private_feed(feed_server: FeedServer) -> Iterator[Route]:
    route = feed_server.add(f"/feed.xml?token={TOKEN}&page=1", Route(RSS))
    yield route


def assert_no_secret(where: str, text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"{secret!r} in {where}: {text[:2000]}"


def private_sources(tmp_path: Path, server: FeedServer, *sources: tuple[str, str, str]) -> Path:
    """feeds.yaml with each (name, path and query, section) as a source at its
    URL with the user and password (see :func:`secret_url`)."""
    config = tmp_path / "feeds.yaml"
    listed = "".join(
        f"  - name: {name}\n    url: {secret_url(server, path)}\n    section: {section}\n"
        for name, path, section in sources
    )
    config.write_text(f"allow_private: true\nsources:\n{listed}", encoding="utf-8")
    return config


def published_files(out: Path) -> list[Path]:
    return [p for p in out.rglob("*") if p.is_file()]


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    with redirect_stdout(out), redirect_stderr(out):
        code = main(argv)
    return code, out.getvalue()


def test_once_publishes_and_shows_no_credentials(
    tmp_path: Path, feed_server: FeedServer, private_feed: Route
) -> None:
    config = write_config(tmp_path, feed_server)
    code, lines = run(["--once", "-c", str(config)])

    # The credentials were used: the server got them as Basic authentication.
    expected = base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
    assert private_feed.last_headers.get("Authorization") == f"Basic {expected}"
    assert code == 0, lines
    assert "Missing" in lines and "404" in lines and "Guarded" in lines
    assert_no_secret("the --once lines", lines)

    published = published_files(tmp_path / "out")
    assert {p.name for p in published} >= {"feed.atom", "feed.rss", "feed.json", "index.html"}
    for path in published:
        assert_no_secret(str(path), path.read_text(encoding="utf-8", errors="replace"))
    # The source is still named, by its public address.
    atom = (tmp_path / "out" / "feed.atom").read_text(encoding="utf-8")
    assert f"{feed_server.base}/feed.xml?token=***&amp;page=1" in atom
    assert f"{feed_server.base}/news/one" in atom

    code, status = run(["status", "-c", str(config)])
    assert code == 0 and "HTTP 404" in status and "refused" in status
    assert_no_secret("aggregate status", status)


# What a feed gives in its own links: another reader's user info (a link
# copied from a logged-in session), its source's credentials written out
# again, and its source's token repeated in every link, as private feeds do.
FEED_USER = "alicefeeduser"
FEED_PASSWORD = "opensesame42"
FEED_SECRETS = (FEED_USER, FEED_PASSWORD)


def given_links_rss(server: FeedServer) -> bytes:
    """An RSS feed whose links are relative (to a URL with user info) or carry
    credentials of their own: in the entry link, the enclosure, the image."""
    host = server.base.removeprefix("http://")
    return f"""<?xml version="1.0"?>
<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Private podcast</title><link>site/</link><description>d</description>
<item><title>Relative episode</title><link>/episodes/one</link><guid>p-1</guid>
<pubDate>Tue, 19 Nov 2024 08:00:00 +0000</pubDate>
<description><![CDATA[<p>Heard <a href="notes.html">the notes</a>.
<img src="/img/cover.png"></p>]]></description>
<enclosure url="/audio/one.mp3" type="audio/mpeg" length="1000"/>
<media:thumbnail url="../thumbs/one.png"/></item>
<item><title>Episode with user info</title>
<link>http://{FEED_USER}:{FEED_PASSWORD}@example.com/episodes/two</link><guid>p-2</guid>
<pubDate>Tue, 19 Nov 2024 09:00:00 +0000</pubDate>
<description>An episode whose link carries a user and password.</description>
<enclosure url="http://{USER}:{PASSWORD}@{host}/audio/two.mp3" type="audio/mpeg"/>
<media:thumbnail url="http://{FEED_USER}@example.com/thumbs/two.png"/></item>
<item><title>Episode with the token</title>
<link>http://example.com/episodes/three?token={TOKEN}&amp;t=30</link><guid>p-3</guid>
<pubDate>Tue, 19 Nov 2024 10:00:00 +0000</pubDate>
<description>An episode whose links repeat the feed's token.</description>
<enclosure url="/audio/three.mp3?token={TOKEN}" type="audio/mpeg"/></item>
</channel></rss>""".encode()


# Atom resolves against xml:base, itself relative to the document's URL, or
# holding user info of its own.
GIVEN_LINKS_ATOM = f"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="blog/">
<title>Private blog</title><id>urn:private-blog</id><updated>2024-11-19T08:00:00Z</updated>
<link href="./"/>
<entry><title>Based post</title><id>urn:b-1</id><updated>2024-11-19T08:30:00Z</updated>
<link href="posts/one"/><link rel="enclosure" href="files/one.pdf" type="application/pdf"/>
<content type="html">&lt;p&gt;A post &lt;img src="one.png"&gt;&lt;/p&gt;</content></entry>
<entry xml:base="http://{FEED_USER}:{FEED_PASSWORD}@example.org/"><title>Post under a base</title>
<id>urn:b-2</id><updated>2024-11-19T09:30:00Z</updated><link href="posts/two"/>
<content type="html">A post whose base carries a password.</content></entry>
</feed>""".encode()

# JSON Feed: a relative home page, item URL, image and attachment.
GIVEN_LINKS_JSON = json.dumps(
    {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "Private notes",
        "home_page_url": "home/",
        "items": [
            {
                "id": "n-1",
                "url": "notes/one",
                "title": "Relative note",
                "content_html": "<p>A note <img src='pic.png'></p>",
                "image": "pic.png",
                "attachments": [{"url": "files/one.txt", "mime_type": "text/plain"}],
                "date_published": "2024-11-19T11:00:00Z",
            }
        ],
    }
).encode()


def test_links_a_feed_gives_publish_no_credentials(tmp_path: Path, feed_server: FeedServer) -> None:
    """Every link a source brings to the output, relative to its URL with
    credentials or written with credentials of its own, is published
    without them: in every file of the output directory (the merged and the
    section feeds, the page, the OPML list) and in ``aggregate status``."""
    feed_server.add(f"/podcast.xml?token={TOKEN}", Route(given_links_rss(feed_server)))
    feed_server.add(
        f"/blog.atom?token={TOKEN}", Route(GIVEN_LINKS_ATOM, content_type="application/atom+xml")
    )
    feed_server.add(
        f"/notes.json?token={TOKEN}", Route(GIVEN_LINKS_JSON, content_type="application/feed+json")
    )
    config = private_sources(
        tmp_path,
        feed_server,
        ("Podcast", f"/podcast.xml?token={TOKEN}", "Audio"),
        ("Blog", f"/blog.atom?token={TOKEN}", "Reading"),
        ("Notes", f"/notes.json?token={TOKEN}", "Reading"),
    )
    code, lines = run(["--once", "-c", str(config)])
    assert code == 0, lines
    assert "3 sources, 0 failed; 6 new items" in lines, lines

    out = tmp_path / "out"
    published = published_files(out)
    assert {p.relative_to(out).as_posix() for p in published} >= {
        "feed.atom",
        "feed.rss",
        "feed.json",
        "index.html",
        "sources.opml",
        "sections/audio.atom",
        "sections/reading.json",
    }
    for path in published:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in (*SECRETS, *FEED_SECRETS):
            assert secret not in text, f"{secret!r} in {path.relative_to(out)}"

    # The links are all there, in their public form.
    base = feed_server.base
    atom = (out / "feed.atom").read_text(encoding="utf-8")
    for link in (
        f"{base}/episodes/one",
        f"{base}/audio/one.mp3",
        f"{base}/thumbs/one.png",
        "http://example.com/episodes/two",
        f"{base}/audio/two.mp3",
        "http://example.com/thumbs/two.png",
        "http://example.com/episodes/three?token=***&amp;t=30",
        "http://example.com/audio/three.mp3?token=***",  # relative to its entry's link
        f"{base}/blog/posts/one",
        f"{base}/blog/files/one.pdf",
        f"{base}/blog/",
        "http://example.org/posts/two",
        f"{base}/notes/one",
        f"{base}/notes/pic.png",
        f"{base}/notes/files/one.txt",
        f"{base}/home/",
    ):
        assert f'"{link}"' in atom, link

    code, status = run(["status", "-c", str(config)])
    assert code == 0 and "Podcast" in status
    for secret in (*SECRETS, *FEED_SECRETS):
        assert secret not in status, status


# A private feed that repeats its credentials in what it writes, as GitHub's
# and GitLab's private activity feeds do: in titles, authors, the text of its
# entries (a "manage your subscription" footer quoting the feed's address),
# and in the links of their HTML.
def credential_quoting_rss(server: FeedServer) -> bytes:
    feed_url = f"{server.base}/activity.xml?token={TOKEN}"
    return f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Activity</title><link>{server.base}/home/{TOKEN}/</link>
<description>d</description>
<item><title>Weekly report {TOKEN} edition</title><link>{server.base}/reports/1</link>
<guid>r-1</guid><pubDate>Tue, 19 Nov 2024 08:00:00 +0000</pubDate>
<description><![CDATA[<p>Manage your subscription at {feed_url} any time.
Your build password is {PASSWORD} until Friday.
See <a href="{feed_url}&amp;password={PASSWORD}">the settings page</a> for more.</p>]]>
</description></item>
</channel></rss>""".encode()


def credential_quoting_atom(server: FeedServer) -> bytes:
    return f"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Pushes</title><id>urn:pushes</id><updated>2024-11-19T09:00:00Z</updated>
<entry><title>Pushed with password {PASSWORD} again</title><id>urn:p-1</id>
<updated>2024-11-19T09:00:00Z</updated><link href="{server.base}/pushes/1"/>
<author><name>Deploy bot {TOKEN}</name></author>
<content type="html">&lt;h2&gt;Access {TOKEN} granted&lt;/h2&gt;
&lt;p&gt;The runner logged in as deploy with {PASSWORD} today.
It used &lt;a href="{server.base}/pushes.atom?token={TOKEN}"&gt;the feed&lt;/a&gt;
to check.&lt;/p&gt;
</content></entry>
</feed>""".encode()


def credential_quoting_json(server: FeedServer) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": f"Issues for {TOKEN}",
            "home_page_url": f"{server.base}/issues/",
            "items": [
                {
                    "id": "i-1",
                    "url": f"{server.base}/issues/1",
                    "title": f"Issue opened by token {TOKEN} holder",
                    "content_html": (
                        f"<p>Reply to this issue with key {TOKEN} by mail.</p>"
                        f'<p>Or follow <a href="{server.base}/issues.json?token={TOKEN}">'
                        f"this link</a> while {PASSWORD} is still valid.</p>"
                    ),
                    "authors": [{"name": f"Tracker {PASSWORD}"}],
                    "date_published": "2024-11-19T10:00:00Z",
                }
            ],
        }
    ).encode()


def test_text_a_feed_gives_publishes_no_credentials(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """A source's password and token written out in its entries' titles,
    authors and text (an href of the text's HTML too) are published as ***,
    in every format, its section's feeds, the page and the digests; the
    words around them are published as the feed wrote them."""
    feed_server.add(f"/activity.xml?token={TOKEN}", Route(credential_quoting_rss(feed_server)))
    feed_server.add(
        f"/pushes.atom?token={TOKEN}",
        Route(credential_quoting_atom(feed_server), content_type="application/atom+xml"),
    )
    feed_server.add(
        f"/issues.json?token={TOKEN}",
        Route(credential_quoting_json(feed_server), content_type="application/feed+json"),
    )
    config = private_sources(
        tmp_path,
        feed_server,
        ("Activity", f"/activity.xml?token={TOKEN}", "Work"),
        ("Pushes", f"/pushes.atom?token={TOKEN}", "Work"),
        ("Issues", f"/issues.json?token={TOKEN}", "Tracker"),
    )
    code, lines = run(["--once", "-c", str(config)])
    assert code == 0, lines
    assert "3 sources, 0 failed; 3 new items" in lines, lines

    out = tmp_path / "out"
    published = published_files(out)
    assert {p.relative_to(out).as_posix() for p in published} >= {
        "feed.atom",
        "feed.rss",
        "feed.json",
        "index.html",
        "sections/work.atom",
        "sections/work.rss",
        "sections/tracker.json",
    }
    for path in published:
        assert_no_secret(str(path.relative_to(out)), path.read_text(encoding="utf-8"))

    # The text around each secret is published as written, in every format.
    base = feed_server.base
    for name in ("feed.atom", "feed.rss", "feed.json", "index.html", "sections/work.rss"):
        text = (out / name).read_text(encoding="utf-8")
        for shown in (
            "Weekly report *** edition",
            f"Manage your subscription at {base}/activity.xml?token=*** any time.",
            "Your build password is *** until Friday.",
            "Pushed with password *** again",
            "The runner logged in as deploy with *** today.",
        ):
            assert shown in text, (name, shown)
    atom = (out / "feed.atom").read_text(encoding="utf-8")
    assert "<name>Deploy bot ***</name>" in atom
    assert "Access *** granted" in atom  # a heading of the summary
    feed = json.loads((out / "feed.json").read_text(encoding="utf-8"))
    issue = next(item for item in feed["items"] if item.get("url") == f"{base}/issues/1")
    assert issue["title"] == "Issue opened by token *** holder"
    assert issue["authors"] == [{"name": "Tracker ***"}]
    assert "Reply to this issue with key *** by mail." in issue["content_html"]
    assert issue["_aggregator"]["sources"][0]["title"] == "Issues for ***"
    # The digests quote the summaries' sentences: masked as well.
    digests = [item for item in feed["items"] if "digest" in item["title"]]
    assert digests and all("***" in item["content_html"] for item in digests)

    code, status = run(["status", "-c", str(config)])
    assert code == 0 and "Activity" in status and "Issues" in status
    assert_no_secret("aggregate status", status)


# Two private feeds with the same story, each quoting its own token.
OTHER_TOKEN = "0THERTOKEN99"


def same_story_rss(server: FeedServer, footer: str) -> bytes:
    return f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>Copy</title><link>{server.base}/</link>
<description>d</description>
<item><title>Harbour works begin</title><link>https://news.example/harbour</link>
<guid>h-1</guid><pubDate>Tue, 19 Nov 2024 08:00:00 +0000</pubDate>
<description>The harbour works begin on Monday. {footer}</description></item>
</channel></rss>""".encode()


def test_a_merged_storys_text_is_masked_with_the_shown_copys_credentials(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The copy a merged item shows may be another source's than its lead's
    (``dedup: lead: complete`` shows the one with the most text): its text is
    published without that source's credentials."""
    lead_footer = f"Unsubscribe with token {TOKEN} now."
    shown_footer = (
        "Crews close the quay for six weeks. "
        f"Manage this feed at {feed_server.base}/second.xml?token={OTHER_TOKEN} if you like."
    )
    feed_server.add(f"/first.xml?token={TOKEN}", Route(same_story_rss(feed_server, lead_footer)))
    feed_server.add(
        f"/second.xml?token={OTHER_TOKEN}", Route(same_story_rss(feed_server, shown_footer))
    )
    first = f"""\
  - name: First
    url: {feed_server.url(f"/first.xml?token={TOKEN}")}
    section: News
"""
    second = f"""\
  - name: Second
    url: {feed_server.url(f"/second.xml?token={OTHER_TOKEN}")}
    section: News
"""
    config = tmp_path / "feeds.yaml"
    head = "allow_private: true\ndedup:\n  lead: complete\nsources:\n"
    # The first source alone, then both: the first copy leads, the second's is shown.
    config.write_text(head + first, encoding="utf-8")
    code, lines = run(["--once", "-c", str(config)])
    assert code == 0 and "1 new items" in lines, lines
    config.write_text(head + first + second, encoding="utf-8")
    code, lines = run(["--once", "-c", str(config)])
    assert code == 0 and "1 merged" in lines, lines

    out = tmp_path / "out"
    for path in published_files(out):
        text = path.read_text(encoding="utf-8")
        for secret in (TOKEN, OTHER_TOKEN):
            assert secret not in text, f"{secret!r} in {path.relative_to(out)}"
    atom = (out / "feed.atom").read_text(encoding="utf-8")
    # The second copy's text is shown (the longer one), as its source wrote it, but the token.
    assert f"Manage this feed at {feed_server.base}/second.xml?token=*** if you like." in atom
    assert "Unsubscribe with token" not in atom


@pytest.mark.slow
def test_daemon_shows_no_credentials(
    tmp_path: Path, feed_server: FeedServer, private_feed: Route
) -> None:
    config = write_config(tmp_path, feed_server)
    daemon = Daemon(config, tmp_path / "daemon.log")
    try:
        assert wait_until(lambda: b"Relative story" in daemon.get("/feed.atom")[2], 15)

        def failures_recorded() -> bool:
            sources = json.loads(daemon.get("/status")[2])["sources"]
            return all(s["last_error"] for s in sources if s["name"] != "Private")

        assert wait_until(failures_recorded, 15)
        for path in ("/status", "/sources.opml", "/feed.atom", "/feed.rss", "/feed.json", "/"):
            code, _headers, body = daemon.get(path)
            assert code == 200, path
            assert_no_secret(path, body.decode("utf-8", errors="replace"))
        opml = daemon.get("/sources.opml")[2].decode()
        assert re.search(
            r'xmlUrl="http://127\.0\.0\.1:\d+/feed\.xml\?token=\*\*\*&amp;page=1"', opml
        )
    finally:
        daemon.process.terminate()
        daemon.process.wait(10)
    assert_no_secret("the daemon's log", daemon.log_text())


# -- a source's own request headers --------------------------------------------

BEARER = "B3ARERTOKEN77"
COOKIE = "C00KIEVALUE55"
HEADER_KEY = "HDRKEYVALUE33"
HEADER_SECRETS = (BEARER, COOKIE, HEADER_KEY, "MyReader/1.0")
OWN_HEADERS = f"""\
    headers:
      Authorization: Bearer {BEARER}
      Cookie: session={COOKIE}; theme=dark
      X-Api-Key: {HEADER_KEY}
      User-Agent: MyReader/1.0
"""
SENT = {
    "Authorization": f"Bearer {BEARER}",
    "Cookie": f"session={COOKIE}; theme=dark",
    "X-Api-Key": HEADER_KEY,
    "User-Agent": "MyReader/1.0",
}


def header_quoting_rss(title: str) -> bytes:
    """A private feed that repeats what its requests carry, in its text."""
    return f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>{title}</title><link>/</link><description>d</description>
<item><title>Key {HEADER_KEY} rotated</title><link>/news/{title}</link><guid>{title}-1</guid>
<pubDate>Tue, 19 Nov 2024 08:00:00 +0000</pubDate>
<description>Your session {COOKIE} and the token Bearer {BEARER} expire on Friday.
Read with MyReader/1.0 as configured.</description></item>
</channel></rss>""".encode()


def assert_no_header_secret(where: str, text: str) -> None:
    for secret in HEADER_SECRETS:
        assert secret not in text, f"{secret!r} in {where}: {text[:2000]}"


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_a_sources_headers_reach_its_origin_only_and_are_never_shown(
    store: str, tmp_path: Path, feed_server: FeedServer, request: pytest.FixtureRequest
) -> None:
    """``headers`` go with every request to the feed's origin (its feed,
    conditional requests, redirects that stay there), through the SQLite
    pass and the PostgreSQL one (whose polls are the cluster's jobs) alike;
    a redirect to another origin (localhost: the same server under another
    name) carries none of them; and no value is published, printed by
    ``--once`` or ``aggregate status``, even where the feed or the server
    repeats it."""
    elsewhere = feed_server.base.replace("127.0.0.1", "localhost")
    api = feed_server.add("/api/feed.xml", Route(header_quoting_rss("api")))
    moved = feed_server.add(
        "/moved.xml", Route(status=301, etag=False, headers={"Location": "/hop.xml"})
    )
    hop = feed_server.add(
        "/hop.xml",
        Route(status=301, etag=False, headers={"Location": f"{elsewhere}/elsewhere.xml"}),
    )
    away = feed_server.add("/elsewhere.xml", Route(RSS))
    feed_server.add(
        "/refused.xml",
        Route(raw=f"HTTP/1.1 401 Bearer {BEARER} is {COOKIE}\r\n\r\n".encode()),
    )
    db = request.getfixturevalue("postgres_url") if store == "postgresql" else "state.db"
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""\
allow_private: true
store: '{db}'
sources:
  - name: Private API
    url: {feed_server.url("/api/feed.xml")}
    section: Work
{OWN_HEADERS}  - name: Moved
    url: {feed_server.url("/moved.xml")}
    section: Work
{OWN_HEADERS}  - name: Refused
    url: {feed_server.url("/refused.xml")}
    section: Work
{OWN_HEADERS}""",
        encoding="utf-8",
    )

    code, lines = run(["--once", "-c", str(config)])

    assert code == 0, lines
    assert "Refused" in lines and "HTTP 401 ***" in lines, lines
    for route in (api, moved, hop):
        assert {name: route.last_headers.get(name) for name in SENT} == SENT
    assert away.requests == 1
    assert not {"Authorization", "Cookie", "X-Api-Key"} & set(away.last_headers)
    assert away.last_headers["User-Agent"].startswith("aggregator/")
    assert_no_header_secret("the --once lines", lines)

    # Again: a conditional request, with the headers.  Moved's permanent
    # redirects, seen on three polls, move it to another origin, where it is
    # fetched directly from then on (no request to /moved.xml): without them.
    for poll in range(2, 5):
        code, again = run(["--once", "-c", str(config)])
        assert code == 0, again
        assert "Private API" in again and "not modified" in again, again
        assert api.last_headers["If-None-Match"] == api.etag_value
        assert {name: api.last_headers.get(name) for name in SENT} == SENT
        assert away.requests == poll
        assert not {"Authorization", "Cookie", "X-Api-Key"} & set(away.last_headers)
        assert_no_header_secret(f"the --once lines of pass {poll}", again)
    assert moved.requests == 3

    out = tmp_path / "out"
    published = published_files(out)
    assert {p.name for p in published} >= {"feed.atom", "feed.rss", "index.html", "sources.opml"}
    for path in published:
        assert_no_header_secret(str(path), path.read_text(encoding="utf-8", errors="replace"))
    atom = (out / "feed.atom").read_text(encoding="utf-8")
    assert "Key *** rotated" in atom  # the text around a value, as the feed wrote it
    assert "Your session *** and the token *** expire on Friday." in atom

    code, status = run(["status", "-c", str(config)])
    assert code == 0 and "Refused" in status and "HTTP 401" in status, status
    assert_no_header_secret("aggregate status", status)


# -- the top-level headers, every URL source's defaults ------------------------

DEFAULT_BEARER = "D3FAULTBEARER11"
DEFAULT_KEY = "D3FAULTKEY22"
OWN_BEARER = "0WNBEARER44"
DEFAULT_SECRETS = (DEFAULT_BEARER, DEFAULT_KEY, OWN_BEARER, "TeamReader/3.0")


def default_quoting_rss(title: str) -> bytes:
    """A private feed that repeats the default headers' values in its text."""
    return f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>{title}</title><link>/</link><description>d</description>
<item><title>Key {DEFAULT_KEY} rotated</title><link>/news/{title}</link><guid>{title}-1</guid>
<pubDate>Tue, 19 Nov 2024 08:00:00 +0000</pubDate>
<description>The token Bearer {DEFAULT_BEARER} and Bearer {OWN_BEARER} expire on Friday.
Read with TeamReader/3.0 as configured.</description></item>
</channel></rss>""".encode()


def test_top_level_headers_reach_every_url_sources_origin_only_and_are_never_shown(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    """The top-level ``headers`` go with every URL source's requests to its
    own origin, under the source's own of the same name (in any case); a
    redirect to another origin carries none of them; a source read from
    files is no error and sends nothing; and no value is in what
    ``aggregate --once`` (the installed command) prints or publishes, or in
    ``aggregate status``, where the feed or a server repeats it."""
    elsewhere = feed_server.base.replace("127.0.0.1", "localhost")
    default_authorization = {"Authorization": f"Bearer {DEFAULT_BEARER}"}
    team = feed_server.add(
        "/team.xml", Route(default_quoting_rss("team"), require=default_authorization)
    )
    own = feed_server.add(
        "/own.xml",
        Route(default_quoting_rss("own"), require={"Authorization": f"Bearer {OWN_BEARER}"}),
    )
    moved = feed_server.add(
        "/moved.xml",
        Route(
            status=301,
            etag=False,
            headers={"Location": f"{elsewhere}/elsewhere.xml"},
            require=default_authorization,
        ),
    )
    away = feed_server.add("/elsewhere.xml", Route(RSS))
    feed_server.add(
        "/refused.xml",
        Route(raw=f"HTTP/1.1 401 Bearer {DEFAULT_BEARER} is {DEFAULT_KEY}\r\n\r\n".encode()),
    )
    articles = tmp_path / "articles"
    articles.mkdir()
    (articles / "note.md").write_text("# A local note\n\nWritten here, read from disk.\n")
    config = tmp_path / "feeds.yaml"
    config.write_text(
        f"""\
allow_private: true
headers:
  User-Agent: TeamReader/3.0
  Authorization: Bearer {DEFAULT_BEARER}
  X-Api-Key: {DEFAULT_KEY}
sources:
  - name: Team
    url: {feed_server.url("/team.xml")}
    section: Work
  - name: Own
    url: {feed_server.url("/own.xml")}
    section: Work
    headers:
      authorization: Bearer {OWN_BEARER}
  - name: Moved
    url: {feed_server.url("/moved.xml")}
    section: Work
  - name: Refused
    url: {feed_server.url("/refused.xml")}
    section: Work
  - name: Local
    path: articles
    section: Notes
""",
        encoding="utf-8",
    )

    once = subprocess.run(
        [AGGREGATE, "--once", "-c", str(config)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    lines = once.stdout + once.stderr

    assert once.returncode == 0, lines
    assert "5 sources, 1 failed" in lines and "HTTP 401 ***" in lines, lines
    defaults = {
        "User-Agent": "TeamReader/3.0",
        "Authorization": f"Bearer {DEFAULT_BEARER}",
        "X-Api-Key": DEFAULT_KEY,
    }
    for route in (team, moved):
        assert {name: route.last_headers.get(name) for name in defaults} == defaults
    # Its own Authorization, in its own case, alone; and the other defaults.
    assert own.requests == 1
    sent_own = [(name.lower(), value) for name, value in own.last_headers.items()]
    assert [value for name, value in sent_own if name == "authorization"] == [
        f"Bearer {OWN_BEARER}"
    ]
    assert own.last_headers.get("X-Api-Key") == DEFAULT_KEY
    assert own.last_headers.get("User-Agent") == "TeamReader/3.0"
    # The redirect's other origin: none of them, the fetcher's own User-Agent.
    assert away.requests == 1
    assert not {"Authorization", "X-Api-Key"} & set(away.last_headers)
    assert away.last_headers["User-Agent"].startswith("aggregator/")
    for secret in DEFAULT_SECRETS:
        assert secret not in lines, (secret, lines)

    out = tmp_path / "out"
    published = published_files(out)
    atom = (out / "feed.atom").read_text(encoding="utf-8")
    assert "A local note" in atom and "Key *** rotated" in atom
    assert "The token *** and *** expire on Friday." in atom
    for path in published:
        text = path.read_text(encoding="utf-8", errors="replace")
        for secret in DEFAULT_SECRETS:
            assert secret not in text, (secret, path)

    code, status = run(["status", "-c", str(config)])
    assert code == 0 and "Refused" in status and "HTTP 401" in status, status
    for secret in DEFAULT_SECRETS:
        assert secret not in status, (secret, status)
