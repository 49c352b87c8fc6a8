"""LatencyEma: the original system's display delay, an EMA of observed cycle latency."""

from __future__ import annotations


class LatencyEma:
    """Exponential moving average of observed latency (capture of newest frame → result).

    Skip cycles ("..." answers) are not fed in: in the original system their ~0.3 s
    latencies dragged the delay below real cycles' latency, so lines landed early.
    """

    def __init__(self, initial_s: float, alpha: float) -> None:
        if initial_s < 0:
            raise ValueError("initial_s must be >= 0")
        if not 0 < alpha <= 1:
            raise ValueError("alpha must be in (0, 1]")
        self._value = initial_s
        self.alpha = alpha
        self.samples = 0

    @property
    def value_s(self) -> float:
        return self._value

    def update(self, observed_latency_s: float) -> float:
        if observed_latency_s < 0:
            raise ValueError("latency cannot be negative")
        self._value = (1 - self.alpha) * self._value + self.alpha * observed_latency_s
        self.samples += 1
        return self._value
