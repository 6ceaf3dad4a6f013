"""Nothing dangerous reaches a published file, whatever the sources put in their feeds.

A corpus of script-injection payloads goes into every place a feed can carry
text or a URL (entry titles, content, summaries, links, authors, the feed's
own title and link), in RSS, Atom and JSON Feed, escaped and in CDATA
sections, through the real ``aggregate --once``.  Every output is then
*parsed* (XML, JSON, and the HTML inside them), never only grepped, since an
escaped ``&lt;script&gt;`` inside XML is text and harmless.  What counts as
dangerous: an element that runs or embeds (script, iframe, object, embed,
applet, frame, form, base, style outside the page's own head, svg and math),
a ``meta http-equiv``, an ``on*`` handler, a ``style`` attribute, or a URL
whose scheme is not http(s) (``javascript:``, ``vbscript:``, ``data:``),
however it is spelled.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from contextlib import redirect_stdout
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aggregator.cli import main
from tests.feedserver import FeedServer, Route

PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=http://evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror\n=alert(1)>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=javascript:alert(1)></iframe>",
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "<object data=javascript:alert(1)></object>",
    "<embed src=javascript:alert(1)>",
    "<applet code=x></applet>",
    '<a href="javascript:alert(1)">js</a>',
    '<a href="JaVaScRiPt:alert(1)">js</a>',
    '<a href="java&#x09;script:alert(1)">tab</a>',
    '<a href=" &#14; javascript:alert(1)">lead</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">ent</a>',
    '<a href="vbscript:msgbox(1)">vb</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
    '<div style="background:url(javascript:alert(1))">bg</div>',
    '<p style="width:expression(alert(1))">expr</p>',
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<link rel="stylesheet" href="javascript:alert(1)">',
    '<base href="http://evil.example/">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    "<body onload=alert(1)>",
    "<form action=javascript:alert(1)><input type=submit></form>",
    "<button formaction=javascript:alert(1)>b</button>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "<details open ontoggle=alert(1)>",
    "<video><source onerror=alert(1)></video>",
    '<img srcset="javascript:alert(1) 1x">',
    "<table background=javascript:alert(1)><tr><td>t</td></tr></table>",
    "<frameset onload=alert(1)>",
    "<marquee onstart=alert(1)>m</marquee>",
    "<div onmouseover=alert(1)>hover</div>",
    '"><script>alert(1)</script>',
    "'><img src=x onerror=alert(1)>",
    "<scr<script>ipt>alert(1)</script>",
    "<<script>script>alert(1)<</script>/script>",
    "<!--<script>alert(1)</script>-->",
    '<xss:script xmlns:xss="http://www.w3.org/1999/xhtml">alert(1)</xss:script>',
    "<template><script>alert(1)</script></template>",
    "&lt;script&gt;alert('double escaped')&lt;/script&gt;",
    "&amp;lt;script&amp;gt;alert('triple')&amp;lt;/script&amp;gt;",
    "<isindex action=javascript:alert(1)>",
    "<keygen autofocus onfocus=alert(1)>",
    "<a href=\"http://ok.example/\" onclick='alert(1)'>ok link, bad handler</a>",
    "<img src='http://ok.example/i.png' style='position:fixed;top:0'>",
    "<object><param name=src value=javascript:alert(1)></object>",
]
LINKS = [
    "javascript:alert(1)",
    "JAVASCRIPT:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "vbscript:msgbox(1)",
    "data:text/html,<script>alert(1)</script>",
    'http://ok.example/"><script>alert(1)</script>',
    "http://ok.example/x?<img src=x onerror=alert(1)>",
]
assert len(PAYLOADS) >= 50

RUNS = re.compile(r"^(?:javascript|vbscript|data|livescript|mocha):", re.IGNORECASE)
DANGEROUS_TAGS = frozenset(
    {"script", "iframe", "object", "embed", "applet", "frame", "frameset", "form", "base",
     "svg", "math", "param", "isindex", "keygen", "noscript", "template", "button", "input"}
)  # fmt: skip
URL_ATTRIBUTES = frozenset(
    {"href", "src", "action", "formaction", "background", "data", "poster", "cite", "srcset"}
)
VOCABULARY = [
    "officials",
    "ministers",
    "council",
    "harbour",
    "railway",
    "budget",
    "tariff",
    "vaccine",
    "orchard",
    "glacier",
    "festival",
    "library",
    "museum",
    "bridge",
    "tunnel",
    "airport",
    "election",
    "referendum",
    "drought",
    "harvest",
    "satellite",
    "telescope",
    "reactor",
    "pipeline",
    "vineyard",
    "lighthouse",
]


def body_text(index: int) -> str:
    """Two sentences of their own per entry, so no two entries read as one story."""
    words = [VOCABULARY[(index * 7 + k * (index % 5 + 1)) % len(VOCABULARY)] for k in range(24)]
    first, second = " ".join(words[:12]), " ".join(words[12:])
    return f"<p>Story {index} says the {first} met today.</p><p>Then the {second} agreed.</p>"


def rss_feed(cdata: bool) -> bytes:
    def wrap(text: str) -> str:
        return f"<![CDATA[{text}]]>" if cdata else escape(text)

    items = []
    for i, payload in enumerate(PAYLOADS):
        link = LINKS[i % len(LINKS)] if i % 3 == 0 else f"http://rss.example/{int(cdata)}/{i}"
        items.append(
            f"<item><title>{wrap(payload + f' rss title {i}')}</title>"
            f"<link>{escape(link)}</link><guid isPermaLink='false'>r{int(cdata)}-{i}</guid>"
            f"<author>{escape('x@example.com (' + payload + ')')}</author>"
            f"<description>{wrap(payload + body_text(i))}</description>"
            "<pubDate>Mon, 03 Jun 2024 12:00:00 GMT</pubDate></item>"
        )
    title = wrap(PAYLOADS[0] + " RSS feed title")
    return (
        "<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel>"
        f"<title>{title}</title><link>{escape(LINKS[0])}</link>{''.join(items)}</channel></rss>"
    ).encode()


def atom_feed(xhtml: bool) -> bytes:
    entries = []
    for i, payload in enumerate(PAYLOADS):
        link = LINKS[i % len(LINKS)] if i % 3 == 1 else f"http://atom.example/{int(xhtml)}/{i}"
        if xhtml:
            content = (
                "<content type='xhtml'><div xmlns='http://www.w3.org/1999/xhtml'>"
                f"<![CDATA[{payload}]]>{body_text(i)}</div></content>"
            )
        else:
            content = f"<content type='html'>{escape(payload + body_text(i))}</content>"
        entries.append(
            f"<entry><title type='html'>{escape(payload + f' atom title {i}')}</title>"
            f"<id>urn:atom:{int(xhtml)}:{i}</id><link rel='alternate' href='{escape(link)}'/>"
            f"<author><name>{escape(payload)}</name><uri>{escape(LINKS[0])}</uri></author>"
            f"<updated>2024-06-03T12:00:00Z</updated>"
            f"<summary type='html'>{escape(payload)}</summary>{content}</entry>"
        )
    return (
        "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
        f"<title type='html'>{escape(PAYLOADS[2] + ' Atom feed title')}</title>"
        f"<link href='{escape(LINKS[1])}'/><id>urn:atom:{int(xhtml)}</id>"
        f"<updated>2024-06-03T12:00:00Z</updated>{''.join(entries)}</feed>"
    ).encode()


def json_feed() -> bytes:
    items = [
        {
            "id": f"j{i}",
            "url": LINKS[i % len(LINKS)] if i % 3 == 2 else f"http://json.example/{i}",
            "external_url": LINKS[(i + 1) % len(LINKS)],
            "title": payload + f" json title {i}",
            "content_html": payload + body_text(i),
            "summary": payload,
            "authors": [{"name": payload, "url": LINKS[0]}],
            "date_published": "2024-06-03T12:00:00Z",
        }
        for i, payload in enumerate(PAYLOADS)
    ]
    feed = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": PAYLOADS[4] + " JSON feed title",
        "home_page_url": LINKS[2],
        "items": items,
    }
    return json.dumps(feed).encode()


class Findings(HTMLParser):
    """Everything dangerous in an HTML document or fragment, as readable strings."""

    def __init__(self, where: str, *, allow_head_style: bool = False):
        super().__init__(convert_charrefs=True)
        self.where = where
        self.allow_head_style = allow_head_style
        self.in_head = False
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        tag = tag.lower()
        if tag == "head":
            self.in_head = True
        if tag in DANGEROUS_TAGS or (
            tag == "style" and not (self.allow_head_style and self.in_head)
        ):
            self.found.append(f"{self.where}: <{tag}>")
        for name, value in attrs:
            name = name.lower()
            value = value or ""
            if name.startswith("on") or name == "style":
                self.found.append(f"{self.where}: <{tag} {name}=...>")
            if tag == "meta" and name == "http-equiv":
                self.found.append(f"{self.where}: <meta http-equiv>")
            if name in URL_ATTRIBUTES and not safe_url(value):
                self.found.append(f"{self.where}: <{tag} {name}={value!r}>")

    def handle_endtag(self, tag: str) -> None:
        if tag.lower() == "head":
            self.in_head = False


def safe_url(value: str) -> bool:
    """http(s), relative or a fragment; browsers ignore whitespace and controls in schemes."""
    cleaned = re.sub(r"[\x00-\x20\x7f]", "", value)
    if RUNS.match(cleaned):
        return False
    scheme = urlsplit(cleaned).scheme.lower()
    return scheme in ("", "http", "https", "mailto")


def http_url(value: str) -> bool:
    return safe_url(value) and urlsplit(value).scheme in ("http", "https")


def html_findings(fragment: str, where: str, *, page: bool = False) -> list[str]:
    parser = Findings(where, allow_head_style=page)
    parser.feed(fragment)
    parser.close()
    return parser.found


def xml_findings(data: bytes, where: str) -> list[str]:
    """Every element's text read as HTML; every URL-bearing attribute and link checked."""
    found = []
    root = ET.fromstring(data)
    for element in root.iter():
        tag = element.tag.rsplit("}", 1)[-1].lower()
        if tag in DANGEROUS_TAGS:
            found.append(f"{where}: element <{tag}>")
        for name, value in element.attrib.items():
            local = name.rsplit("}", 1)[-1].lower()
            if local.startswith("on") or local == "style":
                found.append(f"{where}: <{tag} {local}=...>")
            if local in URL_ATTRIBUTES | {"url", "uri"} and not safe_url(value):
                found.append(f"{where}: <{tag} {local}={value!r}>")
        text = element.text or ""
        url = text.strip()
        if tag in ("link", "uri", "comments", "docs") and url and not http_url(url):
            found.append(f"{where}: <{tag}>{text!r}")
        found += html_findings(text, f"{where} <{tag}>")
    return found


URL_KEYS = frozenset(
    {"url", "external_url", "home_page_url", "feed_url", "site_link", "item_link", "image"}
)


def json_findings(value: object, where: str, key: str = "") -> list[str]:
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            found += json_findings(v, f"{where}.{k}", k)
    elif isinstance(value, list):
        for index, v in enumerate(value):
            found += json_findings(v, f"{where}[{index}]", key)
    elif isinstance(value, str):
        if key in URL_KEYS and not http_url(value):
            found.append(f"{where}: {value!r}")
        found += html_findings(value, where)
    return found


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp_path = tmp_path_factory.mktemp("xss")
    server = FeedServer().start()
    feeds = {
        "rss-escaped": (rss_feed(cdata=False), "application/rss+xml"),
        "rss-cdata": (rss_feed(cdata=True), "application/rss+xml"),
        "atom-html": (atom_feed(xhtml=False), "application/atom+xml"),
        "atom-xhtml": (atom_feed(xhtml=True), "application/atom+xml"),
        "json-feed": (json_feed(), "application/feed+json"),
    }
    try:
        lines = [
            "title: XSS corpus",
            "base_url: https://digest.example/",
            "allow_private: true",
            "output:",
            "  max_entries: 1000",
            "sources:",
        ]
        for name, (body, content_type) in feeds.items():
            server.add("/" + name, Route(body, content_type=content_type))
            lines += [
                f"  - name: {name}",
                f"    url: {server.url('/' + name)}",
                f"    section: {name}",
            ]
        config = tmp_path / "feeds.yaml"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        with redirect_stdout(io.StringIO()) as output:
            code = main(["--once", "-c", str(config)])
    finally:
        server.stop()
    assert code == 0, output.getvalue()
    status = output.getvalue()
    assert status.count("\nnew ") + status.startswith("new ") == len(feeds), status
    return tmp_path / "out"


def test_the_corpus_is_published(published: Path) -> None:
    items = json.loads((published / "feed.json").read_bytes())["items"]
    # Every payload's story arrived; its copies from the five feeds are one
    # entry (the same text), which names the others as its sources.
    assert len(items) >= len(PAYLOADS)
    assert max(len(item["_aggregator"]["sources"]) for item in items) == 5
    assert any("Story 7 says" in item["content_html"] for item in items)


@pytest.mark.parametrize("name", ["feed.atom", "feed.rss"])
def test_xml_feeds_carry_nothing_dangerous(published: Path, name: str) -> None:
    assert xml_findings((published / name).read_bytes(), name) == []


def test_section_feeds_carry_nothing_dangerous(published: Path) -> None:
    sections = sorted((published / "sections").glob("*.atom"))
    assert len(sections) == 5
    for path in sections:
        assert xml_findings(path.read_bytes(), path.name) == []


def test_json_feed_carries_nothing_dangerous(published: Path) -> None:
    assert json_findings(json.loads((published / "feed.json").read_bytes()), "feed.json") == []


def test_page_carries_nothing_dangerous(published: Path) -> None:
    page = (published / "index.html").read_text(encoding="utf-8")
    assert html_findings(page, "index.html", page=True) == []
    # Summary sentences may quote markup as text ("&lt;script&gt;" on the page):
    # what matters is that the parsed page holds no such element or attribute.


def test_titles_and_authors_are_plain_text(published: Path) -> None:
    items = json.loads((published / "feed.json").read_bytes())["items"]
    for item in items:
        for text in [item["title"], *(a["name"] for a in item.get("authors", []))]:
            assert not re.search(r"<[a-z!/?]", text, re.IGNORECASE), text
        for source in item["_aggregator"]["sources"]:
            assert not re.search(r"<[a-z!/?]", source["title"], re.IGNORECASE), source


def test_the_checker_finds_what_it_looks_for() -> None:
    """The checks themselves, on outputs that do carry attacks."""
    assert html_findings('<a href="java\tscript:x">x</a>', "t")
    assert html_findings("<p onclick=x>", "t")
    assert html_findings('<meta http-equiv="refresh" content="0">', "t")
    assert html_findings("<svg><script>x</script></svg>", "t")
    assert not html_findings("&lt;script&gt;alert(1)&lt;/script&gt;", "t")
    atom = b"<feed><entry><content type='html'>&lt;img src=x onerror=y&gt;</content></entry></feed>"
    assert xml_findings(atom, "t")
    assert json_findings({"url": "javascript:x"}, "t")
    assert json_findings({"content_html": "<iframe src=x>"}, "t")
