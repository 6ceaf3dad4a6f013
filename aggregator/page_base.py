"""What a web page's relative links resolve against: its ``<base href>``, or where it was found.

    page_base(page_url, base_hrefs) -> the URL its links and images resolve against

As a browser reads it (the HTML standard's "frozen base URL"): the first
``<base>`` element that has an ``href`` counts, and no other, even when its
value cannot be used; a relative one is resolved against ``page_url``, the
page's final URL after redirects.  A value that is not a URL, or not an
http(s) one (``javascript:``, ``data:``, ``file:``), is ignored and the
page's own URL stays the base: a page may send its readers' links to another
site, as any absolute link of its own does, but not to a scheme the
sanitizer would then drop every relative link for.

Pure, and on the package's bottom floor beside the other pure policies
(:mod:`.addresses`, :mod:`.redact`): it takes the ``href`` values, in
document order, not the parsed page, so that it needs no HTML parser;
:mod:`aggregator.fulltext.extract` reads them from the tree it has.  It does
not sanitize the links it is the base of: the sanitizer
(:func:`aggregator.parse.normalize.sanitize_html`) resolves each and keeps
the http(s) and mailto ones.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

_BASE_SCHEMES = frozenset({"http", "https"})
# What a browser's URL parser removes before reading a URL: leading and
# trailing C0 controls and spaces, and tabs and newlines anywhere.
_URL_EDGES = "".join(map(chr, range(0x21)))
_TABS_AND_NEWLINES = str.maketrans("", "", "\t\n\r")


def page_base(page_url: str, base_hrefs: Iterable[str | None]) -> str:
    """The URL the page at ``page_url`` (its final URL, after redirects) has
    its relative links resolved against, given the ``href`` of each of its
    ``<base>`` elements in document order (None for one without)."""
    href = next((value for value in base_hrefs if value is not None), None)
    if href is None:
        return page_url
    href = href.strip(_URL_EDGES).translate(_TABS_AND_NEWLINES)
    try:
        resolved = urljoin(page_url, href)
        parts = urlsplit(resolved)
        parts.port  # noqa: B018  (reading it checks it: ValueError when out of range)
    except ValueError:
        return page_url  # such as http://[::1 or a port past 65535
    if parts.scheme.lower() not in _BASE_SCHEMES or not parts.hostname:
        return page_url
    return resolved
