"""Backoff: how long to wait before reconnecting to a live source that dropped."""

from __future__ import annotations

import random


class Backoff:
    """Exponential backoff with full jitter, so many clients of one camera do not stampede."""

    def __init__(
        self, initial_s: float = 0.5, max_s: float = 15.0, rng: random.Random | None = None
    ) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.attempt = 0
        self._rng = rng or random.Random()

    def next_delay_s(self) -> float:
        ceiling = min(self.max_s, self.initial_s * 2**self.attempt)
        self.attempt += 1
        return self._rng.uniform(ceiling / 2, ceiling)

    def reset(self) -> None:
        self.attempt = 0
