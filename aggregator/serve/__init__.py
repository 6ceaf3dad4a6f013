"""The HTTP side: serves the published output directory to feed readers.

    app = create_app(out_dir, status=..., healthy=..., opml=...)
    server = Server(app); await server.start(host, port); ...; await server.stop()

The caller runs the server on its own event loop; see
:mod:`aggregator.serve.app` for the routes and caching rules.
"""

from __future__ import annotations

from aggregator.serve.app import Server, create_app

__all__ = ["Server", "create_app"]
