"""SessionPorts for driving a stream's session on a ManualClock: scripted answers, a voice
that makes audio in proportion to its text, and a record of every call.

The describer and voice "take time" by sleeping on the test's clock, so a test decides
exactly when an answer is ready by advancing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import numpy as np

from models.messages import (
    VOICE_SAMPLE_RATE_HZ,
    DescribeRequest,
    DescriberOutput,
    SpeechRequest,
    TextDelta,
)
from serve_app.clock import ManualClock
from serve_app.messages import IngestSnapshot, StreamState, WindowBatch, WindowFrame

SPEECH_S_PER_CHAR = 0.05  # the scripted voice: 20 characters a second


def window_batch(clock: ManualClock, frames: int = 4, scene_change: float = 0.5) -> WindowBatch:
    """A cycle's frames whose newest was captured now, 0.5 s apart in media time."""
    now = clock.now()
    return WindowBatch(
        frames=tuple(
            WindowFrame(
                jpeg=b"jpeg",
                media_ts_s=10.0 + 0.5 * i,
                capture_wall=now - 0.5 * (frames - 1 - i),
                thumbnail=np.zeros((8, 8), dtype=np.uint8),
            )
            for i in range(frames)
        ),
        scene_change=scene_change,
    )


class ScriptedPorts:
    def __init__(
        self,
        clock: ManualClock,
        answer: tuple[str, ...] = ("A red car ", "turns left. ", "It stops."),
        think_s: float = 0.6,
    ) -> None:
        self.clock = clock
        self.answer = answer
        self.think_s = think_s  # until the first piece; the rest follow at once
        self.state = StreamState.LIVE
        self.fail_describe: Exception | None = None
        self.fail_frames: Exception | None = None
        self.fail_voice: Exception | None = None
        self.hang_voice = False  # a Vocoder that never answers (its replica is gone)
        self.lose_capture = False  # FrameIngest restarted: it holds no capture for the stream
        self.requests: list[DescribeRequest] = []
        self.speech: list[SpeechRequest] = []
        self.delays: list[float] = []
        self.batch_times: list[float] = []  # when each cycle took its frames

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        if self.fail_frames is not None:
            raise self.fail_frames
        if self.lose_capture:
            return IngestSnapshot(None, StreamState.STOPPED, "no such stream", lost=True)
        self.batch_times.append(self.clock.now())
        if self.state is not StreamState.LIVE:
            return IngestSnapshot(None, self.state, "scripted")
        return IngestSnapshot(window_batch(self.clock), StreamState.LIVE)

    async def describe(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]:
        self.requests.append(request)
        await self.clock.sleep(self.think_s)
        for i, piece in enumerate(self.answer):
            if self.fail_describe is not None and i == len(self.answer) - 1:
                raise self.fail_describe
            yield TextDelta(piece)

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        self.speech.append(request)
        if self.fail_voice is not None:
            raise self.fail_voice
        if self.hang_voice:
            await asyncio.Event().wait()
        samples = int(len(request.text or "") * SPEECH_S_PER_CHAR * VOICE_SAMPLE_RATE_HZ)
        if samples:
            yield np.full(samples, 0.25, dtype=np.float32)

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        self.delays.append(delay_s)


async def settle() -> None:
    """Let every task that can run do so (no time passes)."""
    for _ in range(20):
        await asyncio.sleep(0)


async def run_until(
    clock: ManualClock, done: Callable[[], bool], step_s: float = 0.05, max_s: float = 120.0
) -> float:
    """Advance the clock in steps until ``done()``; returns the time it took. Fails at max_s."""
    start = clock.now()
    await settle()
    while not done():
        if clock.now() - start > max_s:
            raise AssertionError(f"not done after {max_s} s of clock time")
        clock.advance(step_s)
        await settle()
    return clock.now() - start
