"""What is published, named once: each output's file name and media type.

Publishing writes these files, the page advertises the feeds (autodiscovery),
the server serves each with its type, and a pass checks they all exist.  No
other module spells a file name or a feed's media type.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Output:
    name: str  # the file, relative to output.dir (and the path it is served at)
    media_type: str  # without parameters; text types are served as UTF-8
    label: str  # how the page names it


ATOM = Output("feed.atom", "application/atom+xml", "Atom")
RSS = Output("feed.rss", "application/rss+xml", "RSS")
JSON_FEED = Output("feed.json", "application/feed+json", "JSON Feed")
PAGE = Output("index.html", "text/html", "page")
OPML = Output("sources.opml", "text/x-opml", "OPML")

# The merged feed's files: a publish is complete when each of them exists.
MERGED = (ATOM, RSS, JSON_FEED, PAGE)
# One Atom feed per section lives in here, as "<slug>.atom".
SECTIONS_DIR = "sections"
