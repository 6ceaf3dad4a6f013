"""The server under load, on real loopback sockets: silent, trickling and kept-alive
connections, more connections than allowed, slow readers, floods of /status,
and a process out of descriptors.

Timeouts are made small (tenths of a second) so that nothing waits long; every
wait is a bounded poll.
"""

from __future__ import annotations

import functools
import gzip
import http.client
import json
import logging
import os
import random
import select
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

import aggregator.serve.connections
from aggregator.serve import Limits, create_app
from aggregator.serve.app import CHUNK, SEND_BUFFER
from tests.conftest import REPO
from tests.serve.live import Controls, LiveServer, closed_by_peer
from tests.waiting import wait_until

GET_FEED = b"GET /feed.atom HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@contextmanager
def running(
    out_dir: Path, limits: Limits | None = None, controls: Controls | None = None, **app: object
) -> Iterator[LiveServer]:
    controls = controls or Controls()

    def status() -> dict[str, object]:
        controls.status_calls += 1
        return controls.status

    def opml() -> bytes:
        controls.opml_calls += 1
        return controls.opml

    application = create_app(
        out_dir,
        status=status,
        healthy=lambda: controls.healthy,
        opml=opml,
        **app,  # type: ignore[arg-type]
    )
    live = LiveServer(application, limits).start()
    try:
        yield live
    finally:
        live.stop()


@functools.cache
def large_feed() -> bytes:
    """About 4 MB, about as compressible as a real feed, so both variants are large."""
    pick = random.Random(7).choice
    words = [f"word{i}".encode() for i in range(5000)]
    entries = (
        b"<entry><title>%s</title><summary>%s</summary></entry>\n"
        % (b" ".join(pick(words) for _ in range(8)), b" ".join(pick(words) for _ in range(60)))
        for _ in range(6500)
    )
    return b"<?xml version='1.0'?>\n<feed>\n" + b"".join(entries) + b"</feed>\n"


@pytest.fixture
def feed(out_dir: Path) -> bytes:
    (out_dir / "feed.atom").write_bytes(large_feed())
    return large_feed()


def healthz_within(server: LiveServer | Child, seconds: float) -> float:
    """Seconds /healthz took to answer 200; fails when it takes longer than ``seconds``."""
    started = time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=seconds)
    try:
        connection.request("GET", "/healthz")
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, b"ok\n")
    finally:
        connection.close()
    return time.monotonic() - started


def slow_reader(live: LiveServer, request: bytes = GET_FEED) -> socket.socket:
    """A connection that asks for the feed and then reads nothing, with a small receive window."""
    sock = live.raw(receive_buffer=4096)
    sock.sendall(request)
    return sock


def rss() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


# -- idle connections ---------------------------------------------------------------


def test_a_silent_connection_is_closed_after_the_header_timeout(out_dir: Path) -> None:
    with running(out_dir, Limits(header_timeout=0.3)) as live:
        started = time.monotonic()
        sock = live.raw()
        try:
            assert closed_by_peer(sock, timeout=3)
            assert time.monotonic() - started >= 0.25
        finally:
            sock.close()
        assert live.counts().timed_out == 1


def test_trickling_headers_do_not_keep_a_connection_open(out_dir: Path) -> None:
    # A byte every 20 ms: without a header deadline this would go on for minutes.
    header = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 5000
    with running(out_dir, Limits(header_timeout=0.3)) as live:
        sock = live.raw()
        sock.settimeout(0.02)
        started = time.monotonic()
        received = b""
        closed = False
        try:
            for byte in header:
                try:
                    sock.send(bytes([byte]))
                    chunk = sock.recv(1024)
                except TimeoutError:
                    continue
                except (ConnectionResetError, BrokenPipeError):
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                received += chunk
        finally:
            sock.close()
        assert closed, "the server kept reading a header that never ended"
        assert received == b""
        assert 0.25 <= time.monotonic() - started < 3


def test_a_kept_alive_connection_is_closed_when_it_asks_nothing_more(out_dir: Path) -> None:
    with running(out_dir, Limits(header_timeout=0.3)) as live:
        connection = live.connect()
        try:
            assert live.request("/healthz", connection=connection).status == 200
            assert live.request("/healthz", connection=connection).status == 200
            assert connection.sock is not None
            assert closed_by_peer(connection.sock, timeout=3)
        finally:
            connection.close()


def test_above_the_connection_limit_the_longest_idle_are_closed_and_healthz_answers(
    out_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="aggregator.serve.connections")
    with running(out_dir, Limits(max_connections=20)) as live:
        silent = [live.raw() for _ in range(60)]
        try:
            assert wait_until(lambda: live.counts().opened == 60)
            assert healthz_within(live, 1.0) < 1.0
            assert live.open_connections() <= 20
            # The oldest went first; the newest still wait for their request.
            assert all(closed_by_peer(sock, timeout=2) for sock in silent[:40])
            assert not any(closed_by_peer(sock, timeout=0.01) for sock in silent[-10:])
            counts = live.counts()
            assert counts.evicted >= 41 and counts.refused == 0 and counts.timed_out == 0
        finally:
            for sock in silent:
                sock.close()
    said = [r for r in caplog.records if "connection limit reached" in r.getMessage()]
    assert len(said) == 1, [r.getMessage() for r in said]


def test_memory_is_handed_back_once_a_crowd_has_gone(
    out_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    released: list[float] = []
    monkeypatch.setattr(
        aggregator.serve.connections, "release_memory", lambda: released.append(time.monotonic())
    )
    with running(out_dir) as live:
        crowd = [live.raw() for _ in range(80)]
        assert wait_until(lambda: live.open_connections() == 80)
        for sock in crowd[:60]:
            sock.close()
        assert wait_until(lambda: live.open_connections() == 20)
        assert live.on_loop(lambda: released) == []  # a quarter are still here
        for sock in crowd[60:]:
            sock.close()
        assert wait_until(lambda: live.open_connections() == 0)
        assert wait_until(lambda: len(released) == 1)
        # A second crowd is needed for a second release, not a second close.
        assert live.request("/healthz").status == 200
        assert live.on_loop(lambda: len(released)) == 1


# -- running out of descriptors, in a child process with a low limit -------------------


class Child:
    """``tests/serve/rlimited.py``: the server in a process of its own, with few descriptors."""

    def __init__(self, out_dir: Path, log: Path, *options: str) -> None:
        self.log = log
        self._stderr = log.open("wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.serve.rlimited", str(out_dir), *options],
            cwd=REPO,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
        )
        assert self.process.stdout is not None
        self.port = int(self.process.stdout.readline())

    def connect_silently(self, count: int, batch: int = 20) -> list[socket.socket]:
        """``count`` connections that send nothing, ``batch`` at a time, each batch accepted.

        Faster, the listen queue overflows, and Linux then leaves a client
        believing in a connection the server never sees: a batch waits until
        the server has counted it, or no longer (so, when accepting fails, some
        connections may be left waiting in the queue).
        """
        made: list[socket.socket] = []
        while len(made) < count:
            pending = []
            for _ in range(min(batch, count - len(made))):
                sock = socket.socket()
                sock.setblocking(False)
                sock.connect_ex(("127.0.0.1", self.port))
                pending.append(sock)
            deadline = time.monotonic() + 5
            while pending and time.monotonic() < deadline:
                _, writable, _ = select.select([], pending, [], 0.1)
                for sock in writable:
                    pending.remove(sock)
                    assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0
                    sock.setblocking(True)
                    made.append(sock)
            assert not pending, "connections not made"
            wait_until(functools.partial(self.opened_at_least, len(made)), timeout=3)
        return made

    def counts(self) -> dict[str, object]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write("counts\n")
        self.process.stdin.flush()
        counts: dict[str, object] = json.loads(self.process.stdout.readline())
        return counts

    def opened(self) -> int:
        opened = self.counts()["opened"]
        assert isinstance(opened, int)
        return opened

    def opened_at_least(self, count: int) -> bool:
        return self.opened() >= count

    def stop(self) -> str:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        finally:
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            assert self.process.stdout is not None
            self.process.stdout.close()
            self._stderr.close()
        return self.log.read_text(errors="replace")


def test_with_200_descriptors_250_silent_connections_leave_healthz_answering(
    out_dir: Path, tmp_path: Path
) -> None:
    child = Child(out_dir, tmp_path / "server.log", "--nofile", "200")
    silent: list[socket.socket] = []
    try:
        # All at once: a burst fits in the kernel's queue (one at most 34 long
        # would drop SYNs, which come again only a second later).
        started = time.monotonic()
        silent = child.connect_silently(250, batch=250)
        assert time.monotonic() - started < 0.9
        assert wait_until(lambda: child.opened() >= 250)
        assert healthz_within(child, 1.0) < 1.0
    finally:
        for sock in silent:
            sock.close()
        log = child.stop()
    assert "Too many open files" not in log
    assert log.count("connection limit reached") == 1, log[-3000:]


def test_running_out_of_descriptors_is_logged_once_and_the_server_recovers(
    out_dir: Path, tmp_path: Path
) -> None:
    # No reserve, and 100 descriptors taken by "the rest of the process" once
    # serving: accepting runs out well below the connection limit.
    child = Child(
        out_dir, tmp_path / "server.log", "--nofile", "160", "--reserve", "0", "--hog", "100"
    )
    silent: list[socket.socket] = []
    try:
        silent = child.connect_silently(80)
        deadline = time.monotonic() + 10
        answered = False
        while not answered and time.monotonic() < deadline:
            try:
                healthz_within(child, 2.0)
                answered = True
            except OSError:
                pass
        assert answered, "the server never accepted again"
    finally:
        for sock in silent:
            sock.close()
        log = child.stop()
    assert log.count("Too many open files") == 1, log[-3000:]
    assert "Traceback" not in log
    assert len(log) < 2000, log[-3000:]


# -- slow readers --------------------------------------------------------------------


def test_slow_readers_share_the_file_instead_of_buffering_a_copy_each(
    out_dir: Path, feed: bytes
) -> None:
    readers = 32
    with running(out_dir) as live:
        assert live.request("/feed.atom").body == feed  # the file is loaded, once
        before = rss()
        sockets = [slow_reader(live) for _ in range(readers)]
        try:
            # Every reader has the headers: the server is sending to each.
            for sock in sockets:
                assert sock.recv(16).startswith(b"HTTP/1.1 200")
            peak = before
            deadline = time.monotonic() + 0.5
            while time.monotonic() < deadline:
                peak = max(peak, rss())
                time.sleep(0.02)
            assert healthz_within(live, 1.0) < 1.0
        finally:
            for sock in sockets:
                sock.close()
    # Each reader's own copy of what the kernel does not take yet: about 1.3 MB
    # of the 4 MB feed each on loopback, 40 MB for 32 of them; here 2 pieces each.
    grown = (peak - before) / 2**20
    assert grown < 10, (
        f"{grown:.1f} MB for {readers} slow readers of a {len(feed) / 2**20:.1f} MB feed"
    )


def test_a_large_response_queues_little_in_the_kernel(out_dir: Path, feed: bytes) -> None:
    # Linux would let a loopback reader's queue grow to megabytes, all copied
    # by the event loop at once when many readers ask together.
    with running(out_dir) as live:
        sock = slow_reader(live)
        try:
            assert sock.recv(16).startswith(b"HTTP/1.1 200")

            def send_buffers() -> list[int]:
                guard = live.server.guard
                assert guard is not None
                return [
                    c.transport.get_extra_info("socket").getsockopt(  # type: ignore[attr-defined]
                        socket.SOL_SOCKET, socket.SO_SNDBUF
                    )
                    for c in guard.connections()
                ]

            buffers = live.on_loop(send_buffers)
            assert len(buffers) == 1
            assert buffers[0] <= 2 * SEND_BUFFER  # Linux doubles what it is asked for
        finally:
            sock.close()


def test_large_files_arrive_whole_in_either_variant(out_dir: Path, feed: bytes) -> None:
    assert len(feed) > 20 * CHUNK
    with running(out_dir) as live:
        plain = live.request("/feed.atom")
        assert plain.status == 200 and plain.body == feed
        assert int(plain.headers["content-length"]) == len(feed)
        packed = live.request("/feed.atom", {"Accept-Encoding": "gzip"})
        assert int(packed.headers["content-length"]) == len(packed.body) > CHUNK
        assert gzip.decompress(packed.body) == feed
        head = live.request("/feed.atom", method="HEAD")
        assert (head.status, head.body) == (200, b"")
        assert head.headers["content-length"] == str(len(feed))
        assert head.headers["x-content-type-options"] == "nosniff"


def test_a_reader_that_takes_nothing_is_cut_off_after_the_send_timeout(
    out_dir: Path, feed: bytes
) -> None:
    with running(out_dir, Limits(send_timeout=0.3)) as live:
        sock = slow_reader(live)
        try:
            received = len(sock.recv(16))  # the answer has begun
            assert wait_until(lambda: live.open_connections() == 0, timeout=5)
            sock.settimeout(2)
            try:
                while chunk := sock.recv(65536):
                    received += len(chunk)
            except ConnectionResetError:
                pass
            assert 0 < received < len(feed)
        finally:
            sock.close()
        # The server is none the worse for it.
        assert live.request("/feed.atom").body == feed


def test_too_many_large_responses_at_once_get_503_and_healthz_still_answers(
    out_dir: Path, feed: bytes
) -> None:
    limits = Limits(max_connections=16)
    with running(out_dir, limits) as live:
        guard = live.server.guard
        assert guard is not None
        streams = guard.capacity.streams
        assert 0 < streams < 16
        sockets = [slow_reader(live) for _ in range(streams)]
        try:
            assert wait_until(lambda: live.on_loop(lambda: guard.streams) == streams)
            refused = live.request("/feed.atom")
            assert refused.status == 503
            assert refused.headers["retry-after"] == "60"
            assert healthz_within(live, 1.0) < 1.0
            assert live.request("/feed.atom", method="HEAD").status == 200  # nothing to stream
        finally:
            for sock in sockets:
                sock.close()
        assert wait_until(lambda: live.request("/feed.atom").status == 200)


# -- floods of requests that read the store ---------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("path", "calls"),
    [
        ("/status", lambda c: c.status_calls),
        ("/sources.opml", lambda c: c.opml_calls),
    ],
)
def test_a_flood_reads_the_store_once_per_interval(
    out_dir: Path, path: str, calls: Callable[[Controls], int]
) -> None:
    controls = Controls(status={"sources": 1}, opml=b"<opml/>\n")
    clock = Clock()
    with running(out_dir, controls=controls, refresh=1.0, clock=clock) as live:
        connection = live.connect()
        try:
            for _ in range(200):
                assert live.request(path, connection=connection).status == 200
            assert calls(controls) == 1
            controls.status = {"sources": 2}
            controls.opml = b"<opml></opml>\n"
            clock.now += 0.999
            first = live.request(path, connection=connection).body
            clock.now += 0.001
            second = live.request(path, connection=connection).body
            assert calls(controls) == 2
            assert first != second
            assert second in (b'{\n  "sources": 2\n}\n', b"<opml></opml>\n")
        finally:
            connection.close()
