from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from aggregator.serve import create_app
from tests.serve.live import Controls, LiveServer


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    directory = tmp_path / "out"
    directory.mkdir()
    return directory


@pytest.fixture
def controls() -> Controls:
    return Controls()


@pytest.fixture
def server(out_dir: Path, controls: Controls) -> Iterator[LiveServer]:
    def opml() -> bytes:
        controls.opml_calls += 1
        return controls.opml

    def status() -> dict[str, object]:
        controls.status_calls += 1
        return controls.status

    app = create_app(
        out_dir,
        status=status,
        healthy=lambda: controls.healthy,
        opml=opml,
        published=lambda: controls.published,
        cache_max_age=120,
        refresh=0,  # every request calls back: the tests change what the callbacks say
    )
    live = LiveServer(app).start()
    try:
        yield live
    finally:
        live.stop()
