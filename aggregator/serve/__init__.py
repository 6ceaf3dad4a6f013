"""The HTTP side: serves the published output directory to feed readers.

    app = create_app(out_dir, status=..., healthy=..., opml=...)
    server = Server(app, limits=Limits(...))
    await server.start(host, port); ...; await server.stop()

The caller runs the server on its own event loop; see
:mod:`aggregator.serve.app` for the routes and caching rules and
:mod:`aggregator.serve.connections` for the limits.
"""

from __future__ import annotations

from aggregator.serve.app import Server, create_app
from aggregator.serve.connections import Limits

__all__ = ["Limits", "Server", "create_app"]
