"""A source's bytes, wherever it lives: over HTTP (:mod:`.http`) or in local files (:mod:`.local`).

SourceFetcher.fetch(source, its stored state) -> Fetched, or raises the source's FetchError
"""

from __future__ import annotations

import asyncio
from typing import Protocol

from ..config import FetchConfig, SourceConfig
from ..models import Fetched, FetchState, SourceState
from ..request_headers import ScopedHeaders
from .http import HttpFetcher

# Article pages (aggregator.fulltext): a web page, not a feed.
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"


class Fetcher(Protocol):
    """What the pipeline needs to retrieve a source (a seam: tests hand it fakes)."""

    async def __aenter__(self) -> Fetcher: ...
    async def __aexit__(self, *exc_info: object) -> None: ...
    async def fetch(self, source: SourceConfig, state: SourceState) -> Fetched:
        """The source's documents since ``state``, or ``not_modified``; a
        failure to retrieve them raises its :class:`~aggregator.errors.FetchError`."""
        ...

    async def fetch_page(
        self,
        source: str,
        url: str,
        state: FetchState,
        *,
        private_hosts: frozenset[str] = frozenset(),
        headers: ScopedHeaders | None = None,
    ) -> Fetched:
        """An item's web page for ``source``, with the same limits and address
        guard as its feed, conditionally on ``state``; a failure raises its
        :class:`~aggregator.errors.FetchError`.  The page, and each redirect
        on its way, may be on a non-public address only on ``private_hosts``
        (the hosts its source's ``allow_private`` lists, or with ``true`` its
        feed's own: see :func:`aggregator.fulltext.decide.private_hosts`).
        ``headers`` are its source's own, sent only where the page and each
        hop are on its feed's origin (see :mod:`aggregator.request_headers`)."""
        ...


class SourceFetcher:
    """Every source of a pass, through one HTTP client and the file system."""

    def __init__(self, config: FetchConfig):
        self.config = config
        self._http = HttpFetcher(config)

    async def __aenter__(self) -> SourceFetcher:
        await self._http.__aenter__()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._http.__aexit__(None, None, None)

    async def fetch(self, source: SourceConfig, state: SourceState) -> Fetched:
        if source.url is not None:
            # Where confirmed redirects moved it, else where it is configured.
            url = state.url or source.url
            return await self._http.fetch(
                source.name,
                url,
                state.fetch_state,
                allow_private=source.allow_private,
                # Bound to the configured URL's origin, not to where the feed
                # moved: a move to another origin is fetched without them.
                headers=ScopedHeaders.of(source.headers, source.url),
            )
        assert source.path is not None
        from .local import read_local  # a pass of HTTP sources only does not need it

        return await asyncio.to_thread(
            read_local, source.name, source.path, state.fetch_state, max_bytes=self.config.max_bytes
        )

    async def fetch_page(
        self,
        source: str,
        url: str,
        state: FetchState,
        *,
        private_hosts: frozenset[str] = frozenset(),
        headers: ScopedHeaders | None = None,
    ) -> Fetched:
        return await self._http.fetch(
            source, url, state, allow_private=private_hosts, accept=PAGE_ACCEPT, headers=headers
        )
