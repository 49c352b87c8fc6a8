"""SyntheticVoice: a measurement stand-in that speaks at a chosen pace.

eSpeak renders a sentence in ~6 ms, so a Vocoder on it is almost never busy and its
autoscaling cannot be observed on a CPU. This voice takes as long as a streaming GPU vocoder
running at ``realtime_factor`` would (1.0: one second per second of audio) and returns a
tone shaped like speech (0.3 s a word), so autoscaling can be exercised and measured on a
CPU. Never the default.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

import numpy as np

from models.messages import VOICE_SAMPLE_RATE_HZ, SpeechRequest

SECONDS_PER_WORD = 0.3


class SyntheticVoice:
    name = "synthetic"

    def __init__(
        self,
        realtime_factor: float = 1.0,
        chunk_s: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if realtime_factor <= 0 or chunk_s <= 0:
            raise ValueError("realtime_factor and chunk_s must be > 0")
        self.realtime_factor = realtime_factor
        self.chunk_s = chunk_s
        self._sleep = sleep

    def synthesize(self, request: SpeechRequest) -> Iterator[np.ndarray]:
        words = len((request.text or "").split())
        total = int(words * SECONDS_PER_WORD * VOICE_SAMPLE_RATE_HZ)
        chunk = int(self.chunk_s * VOICE_SAMPLE_RATE_HZ)
        for start in range(0, total, chunk):
            n = min(chunk, total - start)
            self._sleep(n / VOICE_SAMPLE_RATE_HZ / self.realtime_factor)
            t = (start + np.arange(n)) / VOICE_SAMPLE_RATE_HZ
            # A 180 Hz tone with a 4 Hz syllable-like envelope: audible, clearly not silence.
            envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 4 * t) ** 2
            yield (0.3 * envelope * np.sin(2 * np.pi * 180 * t)).astype(np.float32)

    def close_stream(self, stream_id: str) -> None:
        pass
