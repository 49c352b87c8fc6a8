"""Cycle: one commentary cycle, from a window of frames to released text, audio and its end.

A cycle asks the describer about its frames, schedules each text piece (and the speech made
from it) for release when the display clock reaches the newest frame, and ends with a
:class:`CycleEnded` event. What it needs from its stream comes in a small
:class:`CycleContext`; what the stream needs back comes out as a :class:`CycleOutcome`.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import numpy as np

from models.messages import (
    DescribeRequest,
    DescriberOutput,
    Intensity,
    SpeechTokens,
    TextDelta,
    TimedFrame,
    VoiceInput,
    Waveform,
    is_skip_answer,
)
from serve_app.clock import Clock
from serve_app.messages import AudioChunk, CommentaryText, CycleEnded, CycleStarted, WindowBatch
from serve_app.prompt.wording import CommentaryPrompt
from serve_app.session.cycle_speech import CycleSpeech
from serve_app.session.ports import SessionPorts
from serve_app.session.question import Question
from serve_app.session.releases import Releases
from serve_app.settings import StreamSettings
from serve_app.speech.audio_clock import AudioClock
from serve_app.sync.display_delay import DisplayDelay
from serve_app.sync.release_queue import release_time


@dataclass(frozen=True, slots=True)
class CycleContext:
    """What a cycle uses of its stream: settings, stages, clocks, and where events go."""

    stream_id: str
    settings: StreamSettings
    ports: SessionPorts
    clock: Clock
    delay: DisplayDelay
    releases: Releases
    audio_clock: AudioClock
    speech: bool
    voice_input: VoiceInput | None
    describer_speaks: bool


@dataclass(frozen=True, slots=True)
class CycleOutcome:
    """How a cycle went. ``latency_s``: capture of its newest frame → first output ready."""

    text: str
    skip: bool
    latency_s: float | None
    inference_s: float
    late: bool
    error: str = ""

    @property
    def delay_sample(self) -> float | None:
        """The latency the display delay learns from: skips and failures do not count."""
        return None if self.error or self.skip else self.latency_s


class Cycle:
    def __init__(
        self,
        ctx: CycleContext,
        number: int,
        batch: WindowBatch,
        hint: Intensity,
        question: Question | None = None,
    ) -> None:
        self.ctx = ctx
        self.number = number
        self.batch = batch
        self.hint = hint
        self.question = question
        self.anchor = batch.anchor
        self.text = ""
        self.first_text_at: float | None = None
        self.first_audio_at: float | None = None
        self.release_floor = 0.0  # events of a cycle never overtake each other
        self.started = ctx.clock.now()
        self.speech: CycleSpeech | None = None
        if ctx.speech:
            self.speech = CycleSpeech(
                ctx.ports,
                ctx.stream_id,
                f"{ctx.stream_id}:{number}",
                ctx.voice_input,
                ctx.describer_speaks,
                ctx.settings.skip_hold_chars,
                self._publish_audio,
                ctx.clock,
                ctx.settings.speech_timeout_s,
            )

    def _release_at(self, ready_at: float) -> float:
        delay = self.ctx.delay
        rt = release_time(
            self.anchor.capture_wall,
            delay.target_delay_s,
            ready_at,
            # An answer goes out at once: the user is waiting for it, not for the picture.
            delay.holds_results and self.question is None,
        )
        self.release_floor = max(self.release_floor, rt.at)
        return self.release_floor

    def request(self) -> DescribeRequest:
        settings = self.ctx.settings
        prompt = CommentaryPrompt(settings.instruction, settings.language)
        return DescribeRequest(
            stream_id=self.ctx.stream_id,
            frames=tuple(TimedFrame(f.jpeg, f.media_ts_s) for f in self.batch.frames),
            hint=self.hint,
            instruction=(
                prompt.for_question(self.question.text)
                if self.question
                else prompt.for_cycle(self.hint)
            ),
            max_new_tokens=settings.tts_max_new_tokens
            if self.ctx.speech
            else settings.max_new_tokens,
            speech=self.ctx.speech and self.ctx.describer_speaks,
            question=self.question.text if self.question else None,
        )

    async def run(self) -> CycleOutcome:
        """Run the cycle to its end. Raises what the describer or voice raised."""
        ctx = self.ctx
        ctx.releases.now(
            CycleStarted(
                stream_id=ctx.stream_id,
                cycle=self.number,
                frames_media_ts_s=[f.media_ts_s for f in self.batch.frames],
                hint=str(self.hint),
                media_ts_s=self.anchor.media_ts_s,
                question=self.question.text if self.question else "",
            )
        )
        speaker = asyncio.create_task(self.speech.run()) if self.speech else None
        try:
            async for output in ctx.ports.describe(self.request()):
                self._take(output)
            if self.speech is not None:
                self.speech.finish(is_skip_answer(self.text))
            if speaker is not None:
                await speaker
        finally:
            if speaker is not None and not speaker.done():
                speaker.cancel()
        return self._end(error="")

    def fail(self, error: str) -> CycleOutcome:
        """End a cycle that raised: what was said stays said, and the end says why."""
        return self._end(error=error)

    def _take(self, output: DescriberOutput) -> None:
        if isinstance(output, TextDelta):
            now = self.ctx.clock.now()
            if self.first_text_at is None:
                self.first_text_at = now
            self.text += output.text
            if self.question is not None:
                self.question.say(output.text)
            self.ctx.releases.schedule(
                self._release_at(now),
                CommentaryText(
                    stream_id=self.ctx.stream_id,
                    cycle=self.number,
                    text=output.text,
                    media_ts_s=self.anchor.media_ts_s,
                    late=now > self.anchor.capture_wall + self.ctx.delay.target_delay_s,
                ),
            )
            if self.speech is not None:
                self.speech.take_text(output.text)
        elif self.speech is not None and isinstance(output, SpeechTokens):
            self.speech.take_tokens(output)
        elif self.speech is not None and isinstance(output, Waveform):
            self.speech.take_waveform(output)

    def _publish_audio(self, pcm: np.ndarray) -> None:
        if pcm.size == 0:
            return
        now = self.ctx.clock.now()
        if self.first_audio_at is None:
            self.first_audio_at = now
        at = self._release_at(now)
        self.ctx.audio_clock.publish(int(pcm.size), at)
        self.ctx.releases.schedule(
            at,
            AudioChunk(
                stream_id=self.ctx.stream_id,
                cycle=self.number,
                pcm=pcm.astype("<i2").tobytes(),
                media_ts_s=self.anchor.media_ts_s,
            ),
        )

    def _end(self, error: str) -> CycleOutcome:
        ctx = self.ctx
        now = ctx.clock.now()
        skip = is_skip_answer(self.text)
        # The first moment the cycle had something to present: its audio when it speaks.
        ready = self.first_audio_at or self.first_text_at
        latency = None if ready is None else ready - self.anchor.capture_wall
        rt = release_time(
            self.anchor.capture_wall,
            ctx.delay.target_delay_s,
            ready or now,
            ctx.delay.holds_results,
        )
        late = latency is not None and rt.late
        ctx.releases.schedule(
            self._release_at(now),
            CycleEnded(
                stream_id=ctx.stream_id,
                cycle=self.number,
                text=self.text,
                skip=skip,
                media_ts_s=self.anchor.media_ts_s,
                latency_s=round(latency or 0.0, 4),
                inference_s=round(now - self.started, 4),
                late=late,
                lateness_s=round(rt.lateness_s, 4),
                shown_at=self.anchor.capture_wall + ctx.delay.target_delay_s,
                first_text_s=None
                if self.first_text_at is None
                else round(self.first_text_at - self.started, 4),
                kind="answer" if self.question else "commentary",
                error=error,
                speech_skipped=self.speech.skipped if self.speech else "",
            ),
        )
        return CycleOutcome(
            text=self.text,
            skip=skip,
            latency_s=latency,
            inference_s=now - self.started,
            late=late,
            error=error,
        )
