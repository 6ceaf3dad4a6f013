"""How many connections the server holds, for how long, and what it says when it runs out.

    plan(limits, descriptor_limit) -> Capacity(connections, streams, backlog)

    Guard(limits, loop)         one per server; the server calls it:
      opened(conn)              over the limit: closes the longest-idle connection,
                                or this one when every connection is busy
      request_started(conn)     the connection is busy: no header clock, never evicted
      request_finished(conn)    idle again: it has ``header_timeout`` to send its next request
      stream_started()          False when ``streams`` large responses are going already
      stream_finished()
      closed(conn)              the transport is gone; after a crowd, memory goes back
      accept_failed(error)      the accept loop ran out of descriptors: fewer from now on

A connection is *idle* from the moment it is opened, or its last request's
handler returned, until its next request's headers are in: a silent client, a
client trickling its headers and a kept-alive client waiting to ask again all
look the same, and each gets ``header_timeout`` seconds in all (the clock is
not reset by bytes arriving, so trickling does not help).  One sweep every
quarter of the timeout closes the expired ones, rather than a timer set and
cancelled on every request.  A *busy* connection is one whose request a
handler is answering; large bodies are sent by the handler itself, so a slow
reader stays busy, and the handler's own send timeout ends it.

The number of connections is bounded below the process's descriptor limit,
with room kept for everything else the process opens (the store, outgoing
fetches, worker pipes) and for a few bursts of accepts: asyncio accepts up to
``backlog`` sockets at a time, before any of them can be turned away, and a
closed socket's descriptor is freed turns later (see ``BURSTS``).  When the
bound is reached, the longest-idle connection is closed to make room, as nginx
reuses its keep-alive connections: the newest connection is the one most
likely to be a reader with a request to send.  Large responses are bounded
below the connection limit, so busy connections never take every slot and
``/healthz`` can always get in.

Each kind of trouble is logged once, then at most once per ``notice_interval``
with a count of what happened in between: a flood must not turn into thousands
of log lines.  Nothing here imports aiohttp: a connection is anything with a
``drop()`` that closes it at once.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections import OrderedDict
from dataclasses import dataclass, field, replace
from typing import Protocol

from ..memory import release_memory

log = logging.getLogger(__name__)

# Never fewer, whatever the descriptor limit says: a server that can hold no
# connection is no server.
MIN_CONNECTIONS = 8
MAX_BACKLOG = 128  # asyncio's and aiohttp's default
# How many bursts of accepts may hold descriptors at once beyond the limit: a
# socket accepted on one turn of the loop meets its protocol two turns later
# (a task, then a call_soon), and one closed to make room gives its descriptor
# back a turn after that, while the listening socket has been read each turn.
BURSTS = 4
# How often a lack of descriptors may close idle connections; asyncio retries
# accepting one second after it fails.
RELIEF_INTERVAL = 1.0
# After a crowd of connections (at least this many) has mostly gone, the heap
# pages they used are handed back to the system.
CROWD = 64


class Connection(Protocol):
    def drop(self) -> None:
        """Close the connection now, discarding anything not yet sent."""


@dataclass(frozen=True, slots=True)
class Limits:
    """What a server allows its clients; see the module docstring.

    ``max_connections`` is an upper bound: the descriptor limit, less
    ``reserve_descriptors`` for the rest of the process, may allow fewer.
    ``header_timeout``: seconds an idle connection has to send a request's
    headers.  ``send_timeout``: seconds a large response may wait for the
    reader to take one more piece of it (nginx's ``send_timeout``: the time
    between two successful writes, not for the whole response).
    """

    max_connections: int = 1024
    header_timeout: float = 15.0
    send_timeout: float = 60.0
    reserve_descriptors: int = 64
    notice_interval: float = 60.0

    def __post_init__(self) -> None:
        for name in ("max_connections", "header_timeout", "send_timeout", "notice_interval"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above 0, not {getattr(self, name)}")
        if self.reserve_descriptors < 0:
            raise ValueError(f"reserve_descriptors must be >= 0, not {self.reserve_descriptors}")


@dataclass(frozen=True, slots=True)
class Capacity:
    connections: int  # open at once, idle or busy
    streams: int  # large responses being sent at once; fewer than connections
    backlog: int  # the listen queue, and so the most accepts asyncio makes at a time
    descriptor_limit: int | None


def descriptor_limit() -> int | None:
    """The process's soft limit on open descriptors, or None when there is none."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return None if soft == resource.RLIM_INFINITY else soft


def plan(limits: Limits, descriptors: int | None) -> Capacity:
    """How many connections fit in ``descriptors``, keeping the reserve and one burst of accepts.

    >>> plan(Limits(), 200)
    Capacity(connections=104, streams=91, backlog=8, descriptor_limit=200)
    """
    if descriptors is None:
        backlog = MAX_BACKLOG
        connections = limits.max_connections
    else:
        available = descriptors - limits.reserve_descriptors
        backlog = max(MIN_CONNECTIONS, min(MAX_BACKLOG, available // (4 * BURSTS)))
        connections = available - BURSTS * backlog
        connections = max(MIN_CONNECTIONS, min(limits.max_connections, connections))
    return Capacity(connections, _streams(connections), backlog, descriptors)


def _streams(connections: int) -> int:
    # The headroom is for requests answered at once (/healthz, 304s, small
    # files): with every large response going, they still find a slot.
    return max(1, connections - max(2, connections // 8))


class Notice:
    """Says a thing the first time, then at most once per ``interval`` seconds."""

    def __init__(self, interval: float) -> None:
        self._interval = interval
        self._said_at: float | None = None
        self._unsaid = 0

    def due(self, now: float) -> int | None:
        """How many times it happened since it was last said (this one included), if due now."""
        self._unsaid += 1
        if self._said_at is not None and now - self._said_at < self._interval:
            return None
        self._said_at = now
        count, self._unsaid = self._unsaid, 0
        return count


@dataclass(slots=True)
class _State:
    busy: int = 0
    dropped: bool = False


@dataclass(slots=True)
class Counts:
    """What the guard did, for tests and benchmarks."""

    opened: int = 0
    timed_out: int = 0  # idle past header_timeout
    evicted: int = 0  # idle, closed to make room
    refused: int = 0  # closed on arrival: the limit was reached and none was idle
    streams_refused: int = 0  # answered 503: too many large responses going
    accept_failures: int = 0  # the accept loop found no descriptor
    notices: dict[str, int] = field(default_factory=dict)  # lines logged, by kind


class Guard:
    def __init__(
        self,
        limits: Limits,
        loop: asyncio.AbstractEventLoop,
        *,
        descriptors: int | None = None,
    ) -> None:
        self.limits = limits
        self.capacity = plan(limits, descriptors)
        self.counts = Counts()
        self._loop = loop
        self._open: dict[Connection, _State] = {}
        # Idle connections and since when (loop time), the longest-idle first.
        self._idle: OrderedDict[Connection, float] = OrderedDict()
        self._dropped = 0  # open, but already closing: their descriptors are on the way out
        self._streams = 0
        self._notices: dict[str, Notice] = {}
        self._relieved_at: float | None = None
        self._crowd = 0  # the most open at once since memory was last released
        # One sweep of the idle connections every so often, rather than a
        # timer per connection set and cancelled on every request: a timeout
        # is noticed up to a quarter of header_timeout late (at most a second).
        self._sweep_every = min(1.0, limits.header_timeout / 4)
        self._sweeper: asyncio.TimerHandle | None = loop.call_later(self._sweep_every, self._sweep)

    @property
    def open(self) -> int:
        return len(self._open)

    def connections(self) -> list[Connection]:
        """Every connection open, the oldest first."""
        return list(self._open)

    @property
    def idle(self) -> int:
        return len(self._idle)

    @property
    def streams(self) -> int:
        return self._streams

    # -- the connection's life -------------------------------------------------

    def opened(self, conn: Connection) -> None:
        self.counts.opened += 1
        self._open[conn] = _State()
        self._crowd = max(self._crowd, len(self._open))
        if len(self._open) - self._dropped > self.capacity.connections:
            if self._idle:
                victim = next(iter(self._idle))
                self.counts.evicted += 1
                self._drop(victim)
                self._say(
                    "evict",
                    "connection limit reached (%d%s): closing the longest-idle connections "
                    "to make room",
                    self.capacity.connections,
                    self._limit_note(),
                )
            else:
                self.counts.refused += 1
                self._drop(conn)
                self._say(
                    "refuse",
                    "connection limit reached (%d%s) with every connection busy: "
                    "closing new connections at once",
                    self.capacity.connections,
                    self._limit_note(),
                )
                return
        self._rest(conn)

    def request_started(self, conn: Connection) -> None:
        state = self._open.get(conn)
        if state is None:
            return
        state.busy += 1
        self._idle.pop(conn, None)

    def request_finished(self, conn: Connection) -> None:
        state = self._open.get(conn)
        if state is None:
            return
        state.busy -= 1
        if state.busy == 0 and not state.dropped:
            self._rest(conn)

    def closed(self, conn: Connection) -> None:
        state = self._open.pop(conn, None)
        if state is None:
            return
        self._idle.pop(conn, None)
        if state.dropped:
            self._dropped -= 1
        if self._crowd >= CROWD and len(self._open) <= self._crowd // 8:
            # A crowd's buffers leave the heap fragmented: after 300 slow
            # readers the daemon kept about 15 MB it no longer used.  Once
            # per crowd: the next release needs a new crowd to go.
            self._crowd = len(self._open)
            # Soon, not now: the transport frees its buffers after this call.
            self._loop.call_soon(release_memory)

    def stream_started(self) -> bool:
        if self._streams >= self.capacity.streams:
            self.counts.streams_refused += 1
            self._say(
                "streams",
                "%d large responses going at once: answering 503 to more",
                self._streams,
            )
            return False
        self._streams += 1
        return True

    def stream_finished(self) -> None:
        self._streams -= 1

    def accept_failed(self, error: OSError) -> None:
        """The accept loop got EMFILE or the like: say so once, hold fewer, close idle ones.

        The descriptors ran out below the planned limit, so the rest of the
        process holds more than the reserve: the limit drops to three
        quarters of what is open and the longest-idle connections above it
        are closed.  From then on a new connection closes an idle one, as at
        any limit, and accepting finds descriptors again.  (With next to
        nothing open, one burst of accepts took the descriptors: the limit
        stays, and asyncio tries again in a second.)
        """
        self.counts.accept_failures += 1
        active = len(self._open) - self._dropped
        self._say(
            "accept",
            "cannot accept connections: %s (%d open%s); closing idle ones, holding fewer",
            error.strerror or error,
            active,
            self._limit_note(),
        )
        now = self._loop.time()
        if self._relieved_at is not None and now - self._relieved_at < RELIEF_INTERVAL:
            return  # asyncio reports every failed accept of a burst: act on the first
        self._relieved_at = now
        if active <= MIN_CONNECTIONS:
            return
        connections = max(MIN_CONNECTIONS, min(self.capacity.connections, active * 3 // 4))
        self.capacity = replace(
            self.capacity, connections=connections, streams=_streams(connections)
        )
        for victim in list(self._idle)[: max(0, active - connections)]:
            self.counts.evicted += 1
            self._drop(victim)

    def close(self) -> None:
        """Stop sweeping: the server is going away."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            self._sweeper = None

    # -- inside ----------------------------------------------------------------

    def _rest(self, conn: Connection) -> None:
        self._idle[conn] = self._loop.time()
        self._idle.move_to_end(conn)

    def _sweep(self) -> None:
        """Close the connections idle for header_timeout: the first ones, in order of idleness."""
        cutoff = self._loop.time() - self.limits.header_timeout
        while self._idle:
            conn, since = next(iter(self._idle.items()))
            if since > cutoff:
                break
            self.counts.timed_out += 1
            self._drop(conn)
        self._sweeper = self._loop.call_later(self._sweep_every, self._sweep)

    def _drop(self, conn: Connection) -> None:
        state = self._open[conn]
        if state.dropped:
            return
        state.dropped = True
        self._dropped += 1
        self._idle.pop(conn, None)
        conn.drop()

    def _limit_note(self) -> str:
        limit = self.capacity.descriptor_limit
        return "" if limit is None else f"; descriptor limit {limit}"

    def _say(self, kind: str, message: str, *args: object) -> None:
        notice = self._notices.get(kind)
        if notice is None:
            notice = self._notices[kind] = Notice(self.limits.notice_interval)
        count = notice.due(self._loop.time())
        if count is None:
            return
        self.counts.notices[kind] = self.counts.notices.get(kind, 0) + 1
        if count > 1:
            message += f" ({count} times since the last such message)"
        log.warning(message, *args)
