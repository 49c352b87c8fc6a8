"""Broadcaster: one upstream, many clients, each with its own bounded queue.

A slow or stalled client never slows the upstream or the other clients: for video its
queue drops the oldest frame (a viewer wants the newest picture); for commentary and audio
a client whose queue overflows is disconnected alone (its SSE client reconnects with
Last-Event-ID and gets what it missed from the event log, so no line is lost). A video
client that has taken nothing for ``stall_s`` (its socket is stuck) is disconnected too,
rather than holding its place for ever.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable
from contextlib import aclosing
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")

STALL_S = 30.0  # a client that has read nothing this long, with its queue full, is dropped


class Overflow(StrEnum):
    DROP_OLDEST = "drop_oldest"
    DISCONNECT = "disconnect"


class _Closed:
    pass


_CLOSED = _Closed()


class Subscription(Generic[T]):
    def __init__(self, owner: Broadcaster[T], size: int) -> None:
        self._owner = owner
        self.last_read = owner.clock()
        # Unbounded underneath, bounded by _offer: the close marker must always fit, behind
        # everything already queued, so a disconnected client still gets all it was sent.
        self._queue: asyncio.Queue[T | _Closed] = asyncio.Queue()
        self._size = size
        self.dropped = 0
        self.disconnected = False

    def _offer(self, item: T, policy: Overflow) -> None:
        if self.disconnected:
            return
        if self._queue.qsize() >= self._size:
            stalled = self._owner.clock() - self.last_read > self._owner.stall_s
            if policy is Overflow.DISCONNECT or stalled:
                self.disconnected = True
                self._queue.put_nowait(_CLOSED)
                return
            self._queue.get_nowait()
            self.dropped += 1
        self._queue.put_nowait(item)

    def close(self) -> None:
        self._owner._remove(self)

    def take_queued(self) -> tuple[list[T], bool]:
        """Everything queued now, without waiting, and whether the feed has ended (for a
        reader that keeps its own time, such as the audio pacer)."""
        items: list[T] = []
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Closed):
                return items, True
            items.append(item)
        return items, False

    async def __aiter__(self) -> AsyncIterator[T]:
        try:
            while True:
                item = await self._queue.get()
                if isinstance(item, _Closed):
                    return
                self.last_read = self._owner.clock()
                yield item
        finally:
            self.close()


class Broadcaster(Generic[T]):
    def __init__(
        self,
        queue_size: int,
        policy: Overflow,
        max_subscribers: int = 10_000,
        stall_s: float = STALL_S,
        clock: Callable[[], float] = time.monotonic,
        on_count: Callable[[int], None] | None = None,
    ) -> None:
        self.queue_size = queue_size
        self.on_count = on_count  # told the number of subscribers whenever it changes
        self.policy = policy
        self.max_subscribers = max_subscribers
        self.stall_s = stall_s
        self.clock = clock
        self._subscriptions: list[Subscription[T]] = []
        self.closed = False

    def __len__(self) -> int:
        return len(self._subscriptions)

    def subscribe(self) -> Subscription[T]:
        if self.closed:
            raise RuntimeError("broadcaster is closed")
        if len(self._subscriptions) >= self.max_subscribers:
            raise OverflowError(f"at most {self.max_subscribers} clients")
        subscription: Subscription[T] = Subscription(self, self.queue_size)
        self._subscriptions.append(subscription)
        self._counted()
        return subscription

    def _remove(self, subscription: Subscription[T]) -> None:
        if subscription in self._subscriptions:
            self._subscriptions.remove(subscription)
            self._counted()

    def _counted(self) -> None:
        if self.on_count is not None:
            self.on_count(len(self._subscriptions))

    def publish(self, item: T) -> None:
        for subscription in list(self._subscriptions):
            subscription._offer(item, self.policy)
            if subscription.disconnected:
                self._remove(subscription)

    def close(self) -> None:
        self.closed = True
        for subscription in self._subscriptions:
            subscription._queue.put_nowait(_CLOSED)
        self._subscriptions.clear()
        self._counted()


async def resume_after(
    missed: list[T], live: AsyncIterable[T], seq: Callable[[T], int | None]
) -> AsyncIterator[T]:
    """A reconnecting client: what it missed from the log, then the shared live feed.

    The live subscription is taken before the log is read, so nothing falls between the two;
    live items the log already gave are skipped by sequence number.
    """
    last = -1
    for item in missed:
        last = max(last, seq(item) or -1)
        yield item
    items = aiter(live)
    async with aclosing(items):  # type: ignore[type-var]  # a leaving client unsubscribes now
        async for item in items:
            number = seq(item)
            if number is None or number > last:
                yield item
