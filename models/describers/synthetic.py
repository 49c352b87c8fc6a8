"""SyntheticDescriber: a measurement stand-in whose latency follows a chosen distribution.

Used by the sync benchmark and tests to drive the real pipeline with realistic, known
latencies (log-normal: cycle latencies of real models are skewed to the right). Its text
names the media times of the frames it was given, so a client can check what a line is
about. Never the default backend.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator

from models.messages import DescribeRequest, DescriberOutput, TextDelta


class SyntheticDescriber:
    name = "synthetic"

    def __init__(
        self,
        latency_mean_s: float = 1.5,
        latency_sigma: float = 0.35,
        seed: int = 7,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if latency_mean_s <= 0 or latency_sigma < 0:
            raise ValueError("latency_mean_s must be > 0 and latency_sigma >= 0")
        # Choose mu so that the log-normal's mean is latency_mean_s.
        self._mu = math.log(latency_mean_s) - latency_sigma**2 / 2
        self._sigma = latency_sigma
        self._rng = random.Random(seed)
        self._sleep = sleep

    def next_latency_s(self) -> float:
        return self._rng.lognormvariate(self._mu, self._sigma)

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        self._sleep(self.next_latency_s())
        newest = request.frames[-1].media_ts_s if request.frames else 0.0
        # Two sentences: a text voice gets an utterance in two pieces, as with real answers.
        words = f"Frame at {newest:.2f} seconds. {len(request.frames)} frames seen.".split()
        for i in range(0, len(words), 3):
            yield TextDelta(" ".join(words[i : i + 3]) + (" " if i + 3 < len(words) else ""))

    def close_stream(self, stream_id: str) -> None:
        pass
