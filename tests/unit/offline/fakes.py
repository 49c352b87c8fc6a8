"""Stand-ins for the offline unit tests: window frames at chosen times, scripted engines."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from models.messages import (
    VOICE_SAMPLE_RATE_HZ,
    DescribeRequest,
    DescriberOutput,
    SpeechRequest,
    TextDelta,
)
from serve_app.messages import WindowFrame


def frame_at(t: float, shade: int = 0) -> WindowFrame:
    """A window frame at media time ``t``; ``shade`` sets its thumbnail (scene change)."""
    return WindowFrame(
        jpeg=b"jpeg", media_ts_s=t, capture_wall=t, thumbnail=np.full((18, 32), shade, np.uint8)
    )


class ScriptedDescriber:
    """Answers from a list, one per cycle (then the skip answer), in two-word pieces."""

    name = "scripted"

    def __init__(self, answers: list[str | Exception]) -> None:
        self.answers = list(answers)
        self.requests: list[DescribeRequest] = []

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        self.requests.append(request)
        answer = self.answers.pop(0) if self.answers else "..."
        if isinstance(answer, Exception):
            raise answer
        words = answer.split(" ")
        for i in range(0, len(words), 2):
            piece = " ".join(words[i : i + 2])
            yield TextDelta(piece if i + 2 >= len(words) else piece + " ")

    def close_stream(self, stream_id: str) -> None:
        return None


class ToneVoice:
    """Speaks ``seconds_per_word`` of a 440 Hz tone per word, at the voice rate."""

    name = "tone"

    def __init__(self, seconds_per_word: float = 0.25) -> None:
        self.seconds_per_word = seconds_per_word
        self.requests: list[SpeechRequest] = []

    def synthesize(self, request: SpeechRequest) -> Iterator[np.ndarray]:
        self.requests.append(request)
        words = len((request.text or "").split())
        n = round(words * self.seconds_per_word * VOICE_SAMPLE_RATE_HZ)
        if n:
            t = np.arange(n) / VOICE_SAMPLE_RATE_HZ
            yield (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)

    def close_stream(self, stream_id: str) -> None:
        return None
