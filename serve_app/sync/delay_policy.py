"""How long the picture is held back so commentary lands on the frames it speaks of.

Two policies behind one small interface, chosen per stream by ``sync_policy``:

- :class:`EmaDelay` is the original system: delay = EMA of latency; results go out as soon
  as they exist, so each lands early or late by (latency − EMA).
- :class:`QuantileDelay` holds each result until its frames are on screen, so the delay
  only has to be long enough for results to be ready in time: a high quantile of recent
  latencies plus a delivery margin. A mean would leave about half the cycles late.
"""

from __future__ import annotations

from collections import deque
from typing import Protocol

import numpy as np

from serve_app.sync.latency_ema import LatencyEma


class DelayPolicy(Protocol):
    holds_results: bool
    """True: results wait for the display clock. False: they go out when produced."""

    @property
    def target_delay_s(self) -> float: ...

    def observe(self, latency_s: float) -> float:
        """Feed one non-skip cycle's observed latency; returns the new target delay."""
        ...


class EmaDelay:
    holds_results = False

    def __init__(self, initial_s: float, alpha: float, max_s: float) -> None:
        self._ema = LatencyEma(initial_s, alpha)
        self._max_s = max_s
        self._enabled = initial_s > 0  # STREAM_DELAY_INIT 0 disables sync entirely

    @property
    def target_delay_s(self) -> float:
        return min(self._ema.value_s, self._max_s) if self._enabled else 0.0

    def observe(self, latency_s: float) -> float:
        if self._enabled:
            self._ema.update(latency_s)
        return self.target_delay_s


class QuantileDelay:
    # Below this many samples a quantile says little; keep the initial delay until then.
    MIN_SAMPLES = 3

    def __init__(
        self,
        initial_s: float,
        quantile: float,
        history: int,
        margin_s: float,
        max_s: float,
    ) -> None:
        self._initial_s = initial_s
        self._quantile = quantile
        self._margin_s = margin_s
        self._max_s = max_s
        self._latencies: deque[float] = deque(maxlen=history)
        self._enabled = initial_s > 0
        self._value = initial_s if self._enabled else 0.0
        self.holds_results = self._enabled

    @property
    def target_delay_s(self) -> float:
        return self._value

    def observe(self, latency_s: float) -> float:
        if not self._enabled:
            return 0.0
        self._latencies.append(latency_s)
        if len(self._latencies) >= self.MIN_SAMPLES:
            # 'higher' never interpolates below an observed latency: the chosen quantile's
            # cycle itself is on time.
            q = float(np.quantile(self._latencies, self._quantile, method="higher"))
            self._value = min(q + self._margin_s, self._max_s)
        return self._value
