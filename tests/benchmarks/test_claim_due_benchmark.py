"""benchmarks/claim_due.py at a tiny size, so the script does not rot unnoticed."""

from __future__ import annotations

import contextlib
import importlib.util
import io

from tests.conftest import REPO
from tests.postgres import TestServer


def test_the_ticks_at_a_thousand_sources(postgres_server: TestServer) -> None:
    spec = importlib.util.spec_from_file_location(
        "benchmark_claim_due", REPO / "benchmarks" / "claim_due.py"
    )
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        code = bench.main(["--sources", "1000", "--ticks", "3", "--server", postgres_server.server])
    text = output.getvalue()
    assert code == 0, text
    assert "first tick (251 due at once, all claimed)" in text
    assert "backlog tick (all 1000 due, 500 claimed)" in text
    # (Which plan: at this size, where every source is due, reading the table is cheaper.)
    assert "EXPLAIN ANALYZE of the backlog tick:\nUpdate on sources" in text
