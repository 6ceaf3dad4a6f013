from __future__ import annotations

import aggregator.serve


def test_public_surface() -> None:
    assert aggregator.serve.__all__ == ["Limits", "Server", "create_app"]
    for name in aggregator.serve.__all__:
        assert hasattr(aggregator.serve, name)
