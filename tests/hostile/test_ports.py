"""Links with a port no one can connect to, in every kind of feed, through ``aggregate --once``.

A link whose port urllib cannot read (``:99999``, ``:abc``) is dropped from
its entry, enclosure or feed; the entry is kept, and no published file holds
the link.  (A source URL with such a port is a configuration error:
tests/hostile/test_bad_config.py.)
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from pathlib import Path

from aggregator.cli import main
from tests.feedserver import FeedServer, Route
from tests.hostile.corpus import json_feed
from tests.hostile.test_hostile_pass import status_lines

BAD = ("http://bad.example:99999", "http://bad.example:abc", "https://bad.example:65536")

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"
     xmlns:media="http://search.yahoo.com/mrss/"><channel>
<title>Ports in RSS</title><link>{BAD[1]}/</link>
<atom:link rel="self" href="{BAD[0]}/feed.xml"/>
<item><title>RSS entry with a bad port</title><link>{BAD[0]}/rss</link>
<guid isPermaLink="false">rss-1</guid>
<description>&lt;p&gt;The harbour opened again.
&lt;a href="{BAD[2]}/x"&gt;More&lt;/a&gt;&lt;/p&gt;</description>
<enclosure url="{BAD[1]}/a.mp3" type="audio/mpeg" length="5"/>
<media:thumbnail url="{BAD[0]}/t.jpg"/></item>
</channel></rss>
""".encode()

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Ports in Atom</title><id>urn:ports</id>
<link rel="alternate" href="{BAD[2]}/"/><link rel="self" href="{BAD[0]}/atom"/>
<updated>2024-06-03T12:00:00Z</updated>
<entry><title>Atom entry with a bad port</title><id>urn:ports:1</id>
<link rel="alternate" href="{BAD[1]}/atom"/>
<link rel="enclosure" href="{BAD[0]}/a.mp3" type="audio/mpeg"/>
<updated>2024-06-03T12:00:00Z</updated><summary>Ships came back to the harbour.</summary>
</entry></feed>
""".encode()

JSON = json_feed(
    [
        {
            "id": "json-1",
            "title": "JSON entry with a bad url",
            "url": f"{BAD[0]}/json",
            "image": f"{BAD[2]}/i.png",
            "content_text": "The winter was long.",
            "attachments": [{"url": f"{BAD[1]}/a.mp3", "mime_type": "audio/mpeg"}],
        },
        {
            "id": "json-2",
            "title": "JSON entry with a bad external_url",
            "external_url": f"{BAD[1]}/ext",
            "content_text": "The ferries run again.",
        },
    ]
).replace(b'"items"', f'"home_page_url": "{BAD[0]}/", "items"'.encode())


def test_links_with_a_port_out_of_range_or_not_a_number_are_dropped_entries_kept(
    tmp_path: Path, feed_server: FeedServer
) -> None:
    feed_server.add("/rss", Route(RSS))
    feed_server.add("/atom", Route(ATOM, content_type="application/atom+xml"))
    feed_server.add("/json", Route(JSON, content_type="application/feed+json"))
    lines = ["allow_private: true", "store: state.db", "sources:"]
    lines += [
        f"  - {{name: {n}, url: {feed_server.url('/' + n)}, section: S}}"
        for n in ("rss", "atom", "json")
    ]
    (tmp_path / "feeds.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")

    output = io.StringIO()
    with redirect_stdout(output):
        code = main(["--once", "-c", str(tmp_path / "feeds.yaml")])
    assert code == 0
    status = status_lines(output.getvalue().splitlines())
    assert set(status) == {"rss", "atom", "json"}
    assert all(line.startswith("new") for line in status.values()), status

    out = tmp_path / "out"
    items = json.loads((out / "feed.json").read_bytes())["items"]
    entries = {item["title"]: item for item in items if "bad" in item["title"]}
    assert set(entries) == {
        "RSS entry with a bad port",
        "Atom entry with a bad port",
        "JSON entry with a bad url",
        "JSON entry with a bad external_url",
    }
    assert not any(
        key in entries[title] for key in ("url", "attachments", "image") for title in entries
    )
    published = [path for path in out.rglob("*") if path.is_file()]
    assert {"feed.atom", "feed.rss", "feed.json", "index.html"} <= {p.name for p in published}
    for path in published:
        text = path.read_text(encoding="utf-8")
        assert "bad.example" not in text, path
