"""EventLog: a stream's released events, numbered, for any number of followers."""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator

from serve_app.clock import Clock, SystemClock
from serve_app.messages import StreamEvent


class EventLog:
    """Appends events with a sequence number and release time; followers await new ones.

    The last ``keep`` events stay so a client that reconnects (SSE ``Last-Event-ID``) gets
    what it missed instead of losing commentary lines.
    """

    def __init__(self, keep: int = 500, clock: Clock | None = None, first_seq: int = 0) -> None:
        self._events: deque[StreamEvent] = deque(maxlen=keep)
        self._next_seq = first_seq
        self._changed = asyncio.Event()
        self._closed = False
        self._clock = clock or SystemClock()

    @property
    def last_seq(self) -> int:
        return self._next_seq - 1

    def append(self, event: StreamEvent) -> StreamEvent:
        if self._closed:
            raise RuntimeError("event log is closed")
        stamped = event.model_copy(update={"seq": self._next_seq, "wall_ts": self._clock.now()})
        self._next_seq += 1
        self._events.append(stamped)
        self._wake()
        return stamped

    def seed(self, events: list[StreamEvent]) -> None:
        """Put events an earlier run released back in the log, with their own seq and time.

        After a restart a client resumes by seq: one that has them drops them, one that
        missed them (released just before the old replica died) gets them.
        """
        if self._events:
            raise RuntimeError("seed the log before anything is appended")
        for event in sorted(events, key=lambda e: e.seq):
            self._events.append(event)
            self._next_seq = max(self._next_seq, event.seq + 1)
        self._wake()

    def close(self) -> None:
        self._closed = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def since(self, after_seq: int) -> list[StreamEvent]:
        return [e for e in self._events if e.seq > after_seq]

    async def follow(self, after_seq: int | None = None) -> AsyncIterator[StreamEvent]:
        """Events after ``after_seq`` (None: only new ones), until the log closes."""
        cursor = self.last_seq if after_seq is None else after_seq
        while True:
            waiter = self._changed
            for event in self.since(cursor):
                cursor = event.seq
                yield event
            if self._closed:
                return
            await waiter.wait()
