"""WebSub (W3C Recommendation) as a publisher: name the hubs, and tell them of changes.

    after a publish that wrote feed files:
      notify_hubs(hubs, [self URL of each feed written])
        = POST hub.mode=publish&hub.url=<feed>  to each hub, for each feed   (concurrently)
          | one retry after ``retry_delay`` when it fails; then a warning

The feeds themselves name their hubs and their own URL (``FeedMeta.hubs``,
:mod:`.publish.feeds`), and the daemon's server says the same in ``Link``
headers (:func:`link_header`).  Pinging never fails publishing, never
holds it up and never raises: the files are written before it starts, it
runs beside what comes next (:class:`Notices`), and a hub that is down,
slow or refusing is one warning line naming it.  It does not subscribe to
anything, nor serve as a hub.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING

from .outputs import ATOM, JSON_FEED, RSS
from .redact import redact_url

if TYPE_CHECKING:
    from .config import Config

log = logging.getLogger(__name__)

# The files that are feeds (merged and per section), by extension.
_FEED_SUFFIXES = tuple("." + output.name.rsplit(".", 1)[1] for output in (ATOM, RSS, JSON_FEED))
PING_TIMEOUT = 10.0  # seconds per attempt
RETRY_DELAY = 5.0  # seconds before the one retry

Post = Callable[[str, Sequence[tuple[str, str]]], Awaitable[str | None]]


class Notices:
    """The pings under way, each a task: publishing starts them and goes on.

    A hub that is slow or down (a ping's time cap, its retry) must not hold
    up publishing, nor the daemon's next publish; the end of ``--once``
    waits for them (:meth:`finish`), and a failed or interrupted run drops
    them (:meth:`drop`).
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def start(self, notice: Awaitable[None]) -> None:
        task = asyncio.ensure_future(notice)
        self._tasks.add(task)  # held: the loop keeps only a weak reference
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def finish(self) -> None:
        """Wait for every ping under way (each bounded by its time caps)."""
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def drop(self) -> None:
        """Cancel every ping under way."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def feed_files(names: Sequence[str]) -> list[str]:
    """Those of ``names`` (published files) that are feeds: what a hub is told of."""
    return [name for name in names if name.endswith(_FEED_SUFFIXES)]


def link_header(hubs: Sequence[str], self_url: str) -> str | None:
    """The HTTP ``Link`` header of a feed at ``self_url`` (WebSub 4.): each hub, then
    the feed itself; None without hubs."""
    if not hubs:
        return None
    links = [f'<{hub}>; rel="hub"' for hub in hubs] + [f'<{self_url}>; rel="self"']
    return ", ".join(links)


def feed_link_header(config: Config, path: str) -> str | None:
    """The ``Link`` header the server sends with the published file at ``path``:
    for a feed, its hubs and itself; None for any other file, or without hubs."""
    if not feed_files([path]):
        return None
    # Here, not at the top: aggregator.publish brings feedgen and jinja2,
    # which a pass that publishes nothing never imports.
    from .publish.layout import public_url

    return link_header(config.websub.hubs, public_url(config.base_url, path))


async def notify_hubs(
    hubs: Sequence[str],
    feeds: Sequence[str],
    *,
    post: Post,
    retry_delay: float = RETRY_DELAY,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> list[tuple[str, str, str | None]]:
    """Ping every hub for every feed URL; (hub, feed, None or the error) for each.

    ``post(url, fields)`` sends one form (None: accepted, else why not);
    each ping that fails is tried once more after ``retry_delay`` seconds.
    """

    async def ping(hub: str, feed: str) -> tuple[str, str, str | None]:
        fields = (("hub.mode", "publish"), ("hub.url", feed))
        error = await post(hub, fields)
        if error is not None:
            await sleep(retry_delay)
            error = await post(hub, fields)
        if error is None:
            log.info("WebSub hub %s told of %s", redact_url(hub), feed)
        else:
            log.warning("WebSub hub %s not told of %s: %s", redact_url(hub), feed, error)
        return hub, feed, error

    if not hubs or not feeds:
        return []
    return list(await asyncio.gather(*(ping(hub, feed) for hub in hubs for feed in feeds)))
