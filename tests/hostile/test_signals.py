"""``aggregate --once`` interrupted by Ctrl-C while its workers are busy: it
stops at once, says so in one line, and leaves no process and no damage.

(The daemon's signals are tested in tests/test_daemon.py.)
"""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

from tests import processes
from tests.feedserver import FeedServer, Route
from tests.store.sqlite_file import integrity
from tests.test_daemon import AGGREGATE, big_feed, write_config
from tests.waiting import wait_until


def test_ctrl_c_stops_a_pass_at_once(tmp_path: Path, feed_server: FeedServer) -> None:
    # Two feeds of 4 MB: a few seconds of work for the worker processes.
    for name in ("one", "two"):
        feed_server.add(f"/{name}", Route(big_feed(300, 110), etag=False))
    config = write_config(tmp_path, feed_server, ["/one", "/two"], ["fetch:", "  max_bytes: 50MB"])
    stderr_path = tmp_path / "stderr"
    with stderr_path.open("wb") as stderr:
        # A session of its own, so that it can be sent what a terminal sends
        # its foreground process group on Ctrl-C.
        once = subprocess.Popen(
            [AGGREGATE, "--once", "-c", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            start_new_session=True,
        )
    try:
        # The resource tracker, the fork server and a worker: the pass is parsing.
        assert wait_until(lambda: len(processes.tree(once.pid)) >= 4, 30)
        started = processes.tree(once.pid)
        os.killpg(once.pid, signal.SIGINT)
        code = once.wait(timeout=10)
    finally:
        if once.poll() is None:
            once.kill()
            once.wait()

    assert code == 130
    assert stderr_path.read_text() == "aggregate: interrupted\n"
    assert wait_until(lambda: not any(p.running() for p in started), 5)
    assert integrity(tmp_path / ".aggregator" / "aggregator.db") == "ok"
