"""Clocks passed into pacing code, so tests drive time instead of sleeping.

Wall time (``time.time()``) is used for capture and release instants because it is shared
by every process of a Ray cluster (NTP-synced across nodes); media time (a frame's
presentation timestamp in its source) never shares a variable with it.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds, wall time."""
        ...


class SystemClock:
    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that moves only when told to: for tests and simulations."""

    def __init__(self, start: float = 1_000.0) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> float:
        if seconds < 0:
            raise ValueError("time does not run backwards")
        self._now += seconds
        return self._now

    def set(self, t: float) -> None:
        if t < self._now:
            raise ValueError("time does not run backwards")
        self._now = t
