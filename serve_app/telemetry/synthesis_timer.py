"""SynthesisTimer: one speech piece's synthesis time against the audio it made."""

from __future__ import annotations

import time
from collections.abc import Callable


class SynthesisTimer:
    """The real-time factor of a piece: seconds spent per second of audio (below 1: faster
    than speech). Started when the piece is asked for, so the wait for the caller to take
    each chunk counts too, as it does for a listener."""

    def __init__(self, sample_rate_hz: int, clock: Callable[[], float] = time.perf_counter):
        self._rate = sample_rate_hz
        self._clock = clock
        self._started = clock()
        self._samples = 0

    def count(self, samples: int) -> None:
        self._samples += samples

    def real_time_factor(self) -> float | None:
        """None for a piece that made no audio (a token voice still buffering)."""
        if not self._samples:
            return None
        return (self._clock() - self._started) / (self._samples / self._rate)
