"""Releases: each event waits for its release time, then goes into the stream's event log.

Commentary is held until the display clock reaches the frames it speaks of; everything a
cycle produces is scheduled here and released in time order, so clients see text, audio and
cycle events when their picture is on screen.
"""

from __future__ import annotations

import asyncio

from serve_app.clock import Clock, wait_or_timeout
from serve_app.messages import StreamEvent
from serve_app.session.event_log import EventLog
from serve_app.sync.release_queue import ReleaseQueue


class Releases:
    def __init__(self, log: EventLog, clock: Clock) -> None:
        self._log = log
        self._clock = clock
        self._queue: ReleaseQueue[StreamEvent] = ReleaseQueue()
        self._wake = asyncio.Event()

    def __len__(self) -> int:
        return len(self._queue)

    def schedule(self, at: float, event: StreamEvent) -> None:
        """Release ``event`` at wall time ``at`` (at once if that has passed)."""
        self._queue.push(at, event)
        self._wake.set()

    def now(self, event: StreamEvent) -> None:
        self.schedule(self._clock.now(), event)

    async def run(self) -> None:
        """Release what is due, then sleep until the next is due or a new one comes in."""
        while True:
            for event in self._queue.pop_due(self._clock.now()):
                self._log.append(event)
            next_at = self._queue.next_at()
            self._wake.clear()
            timeout = None if next_at is None else max(0.0, next_at - self._clock.now())
            await wait_or_timeout(self._wake, self._clock, timeout)

    def flush(self) -> None:
        """Release everything still held, now: at a stream's end nothing said is lost."""
        for event in self._queue.drain():
            self._log.append(event)
