"""Fetching ahead of storing, in batches, within a memory budget.

    sources, in order  --fetch, ``concurrency`` at a time-->  outcomes
      |  a batch, as soon as all of it is fetched  --work (parse, in the workers)-->
      |  batches handed out in order, each once its work is done

The stages overlap: requests are kept going while the caller stores batch i
and the workers parse the batches after it, so no stage waits for another's
slowest job.  How far ahead fetching runs is bounded by the bytes the
fetched-but-not-worked-on outcomes hold (304s hold nothing, so a pass in
which few feeds changed runs well ahead, while changed feeds' bodies stay
bounded) and by a number of batches; the batch being stored is never held
back.  That bounds memory whatever the number of sources.

This decides nothing about sources: what a fetch, a weight and a batch's
work are is the caller's.  An exception raised by ``fetch`` surfaces where
its batch is handed out; once the caller stops (or fails), nothing more is
started and what runs is cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Awaitable, Callable, Sequence
from typing import Generic, TypeVar

_Outcome = TypeVar("_Outcome")
_Work = TypeVar("_Work")


class FetchAhead(Generic[_Outcome, _Work]):
    def __init__(
        self,
        count: int,
        *,
        batch_size: int,
        concurrency: int,
        ahead_bytes: int,
        max_batches_ahead: int,
        fetch: Callable[[int], Awaitable[_Outcome]],
        weigh: Callable[[_Outcome], int],
        work: Callable[[int, Sequence[_Outcome]], Awaitable[tuple[_Work, int]]],
    ):
        """``count`` items fetched by index; ``weigh`` is the bytes an outcome
        holds; ``work(batch, outcomes)`` returns the batch's work and the bytes
        it no longer holds (the bodies it parsed)."""
        self.count = count
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.ahead_bytes = ahead_bytes
        self.max_batches_ahead = max_batches_ahead
        self._fetch, self._weigh, self._work = fetch, weigh, work
        # Each item's future and each batch's task, made once its first item
        # is started and dropped once used: 10,000 sources made up front
        # were 3 MB of the pass's peak, held for most of it.
        self._outcomes: dict[int, asyncio.Future[_Outcome]] = {}
        self._works: dict[int, asyncio.Future[tuple[_Work, int]]] = {}
        self._running: set[asyncio.Task[None]] = set()  # fetches started, not yet done
        self._started = 0  # items whose fetch has started, in order
        self._held = 0  # bytes of outcomes fetched, in batches not yet handed out
        self._handed_out = 0  # batches handed out
        self._closing = False  # the caller stopped (or failed): start nothing more

    @property
    def held_bytes(self) -> int:
        """Bytes of the outcomes fetched, in batches not yet handed out (the
        one being worked on among them)."""
        return self._held

    async def batches(self) -> AsyncGenerator[_Work, None]:
        """Each batch's work, in order.  Close it (``contextlib.aclosing``) if
        the loop over it may stop early."""
        total = -(-self.count // self.batch_size)
        try:
            self._top_up()
            for index in range(total):
                work, released = await self._started_batch(index)
                del self._works[index]
                self._handed_out, self._held = index + 1, self._held - released
                self._top_up()
                yield work
                del work  # the next batch's wait is long enough to matter
        finally:
            self._closing = True
            for running in self._running:
                running.cancel()
            for batch in self._works.values():
                batch.cancel()

    def _items(self, batch: int) -> range:
        first = batch * self.batch_size
        return range(first, min(first + self.batch_size, self.count))

    def _started_batch(self, batch: int) -> asyncio.Future[tuple[_Work, int]]:
        """The task of ``batch``'s work, and its items' futures: made when
        its first item is started, or when it is the next to hand out."""
        work = self._works.get(batch)
        if work is None:
            loop = asyncio.get_running_loop()
            for i in self._items(batch):
                self._outcomes[i] = loop.create_future()
            work = self._works[batch] = asyncio.ensure_future(self._batch(batch))
        return work

    async def _batch(self, index: int) -> tuple[_Work, int]:
        """A batch, once all of it is fetched: handed to ``work`` at once."""
        mine = self._items(index)
        fetched = list(await asyncio.gather(*(self._outcomes[i] for i in mine)))
        for i in mine:
            del self._outcomes[i]
        return await self._work(index, fetched)

    async def _fetch_one(self, index: int) -> None:
        try:
            outcome = await self._fetch(index)
        except Exception as exc:  # it surfaces where its batch is handed out
            future = self._outcomes.get(index)
            if future is not None and not future.done():
                future.set_exception(exc)
            return
        future = self._outcomes.get(index)
        if future is None or future.done():
            return  # cancelled with its batch: the caller stopped
        self._held += self._weigh(outcome)
        future.set_result(outcome)

    def _top_up(self) -> None:
        """Keep ``concurrency`` fetches going, within the budget ahead."""
        while not self._closing and self._started < self.count:
            if len(self._running) >= self.concurrency:
                return
            batch = self._started // self.batch_size
            if batch > self._handed_out and (
                self._held >= self.ahead_bytes or batch >= self._handed_out + self.max_batches_ahead
            ):
                return
            self._started_batch(batch)
            task = asyncio.ensure_future(self._fetch_one(self._started))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            task.add_done_callback(lambda _: self._top_up())  # one more may start now
            self._started += 1
