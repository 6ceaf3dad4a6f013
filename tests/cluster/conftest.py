from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from tests.cluster.stories import corpus, rss
from tests.feedserver import FeedServer, Route


@pytest.fixture
def feeds(feed_server: FeedServer) -> Iterator[FeedServer]:
    """The stories' feeds, served at /feed0.xml ... (see tests/cluster/stories.py)."""
    when = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    for n, entries in enumerate(corpus()):
        body = rss(f"feed{n}", feed_server.base, entries, when)
        feed_server.add(f"/feed{n}.xml", Route(body=body))
    yield feed_server
