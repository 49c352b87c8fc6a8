"""Clocks passed into pacing code, so tests drive time instead of sleeping.

Wall time (``time.time()``) is used for capture and release instants because it is shared
by every process of a Ray cluster (NTP-synced across nodes); media time (a frame's
presentation timestamp in its source) never shares a variable with it. Waiting goes through
the clock too, so a test that advances a :class:`ManualClock` wakes exactly what is due.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds, wall time."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Return once ``seconds`` have passed on this clock."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ManualClock:
    """A clock that moves only when told to: for tests and simulations.

    ``sleep`` returns when :meth:`advance` or :meth:`set` has moved time past its deadline.
    """

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self._now

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        wake: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), wake))
        await wake

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self.set(self._now + seconds)
        return self._now

    def set(self, t: float) -> None:
        if t < self._now:
            raise ValueError("time does not run backwards")
        self._now = t
        while self._sleepers and self._sleepers[0][0] <= t:
            _, _, wake = heapq.heappop(self._sleepers)
            if not wake.done():
                wake.set_result(None)

    @property
    def sleepers(self) -> int:
        """Tasks waiting on this clock (a test's way to see that everything has settled)."""
        return sum(not wake.done() for _, _, wake in self._sleepers)


async def wait_or_timeout(event: asyncio.Event, clock: Clock, timeout_s: float | None) -> None:
    """Wait until ``event`` is set or ``timeout_s`` passes on ``clock`` (None: no timeout)."""
    if timeout_s is None:
        await event.wait()
        return
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(clock.sleep(timeout_s))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, sleeper):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
