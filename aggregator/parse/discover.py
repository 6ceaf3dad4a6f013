"""Feed autodiscovery: the feeds a web page names for itself.

    feed_links(page) -> the http(s) URLs of its <link rel="alternate"> feeds, in its order

What Miniflux and FreshRSS do when given a site's address instead of its
feed's (``aggregate add https://example.com/``): a page names its feeds in
``<link rel="alternate" type="application/rss+xml" href="...">`` tags, by
convention in its head (RSS autodiscovery, the Atom and JSON Feed specs).
Only those tags count, not ``<a>`` links to something that looks like a
feed: a guess would subscribe to a comments feed or a page.  An ``href`` is
taken relative to the page's ``<base href>``, else to the page's own URL
(after redirects), and kept only if it is an http(s) URL that
:func:`.normalize.http_url` keeps.  Pure: bytes in, URLs out.
"""

from __future__ import annotations

from html.parser import HTMLParser

from ..models import Document
from .normalize import http_url

# The media types of feeds, as pages declare them (parameters left out).
FEED_TYPES = frozenset(
    {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
        "application/json",
    }
)
# Feeds a page may name, at most: the rest are not looked at.
MAX_FEED_LINKS = 20


def feed_links(page: Document) -> list[str]:
    """The feeds ``page`` names, first named first, each once."""
    finder = _FeedLinks(page.location)
    # The bytes' encoding matters little: URLs are ASCII, or percent-encoded.
    finder.feed(page.body.decode("utf-8", "replace"))
    finder.close()
    return finder.found


class _FeedLinks(HTMLParser):
    def __init__(self, location: str):
        super().__init__(convert_charrefs=True)
        self.base = location
        self.based = False  # the first <base href> only counts, as in browsers
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, dict(attrs))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag(tag, dict(attrs))

    def _tag(self, tag: str, attributes: dict[str, str | None]) -> None:
        href = attributes.get("href")
        if tag == "base" and href and not self.based:
            self.based = True
            self.base = http_url(href, self.base) or self.base
            return
        if tag != "link" or not href or len(self.found) >= MAX_FEED_LINKS:
            return
        rel = (attributes.get("rel") or "").lower().split()
        kind = (attributes.get("type") or "").split(";")[0].strip().lower()
        if "alternate" not in rel or kind not in FEED_TYPES:
            return
        url = http_url(href.strip(), self.base)
        if url is not None and url not in self.found:
            self.found.append(url)
