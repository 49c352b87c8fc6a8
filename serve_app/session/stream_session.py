"""StreamSession: one stream's commentary cycle loop, its pacing, and its event log.

Per cycle: take the window's frames → ask the describer → stream text (and speech work)
out → voice → 48 kHz PCM → release everything to clients when the display clock reaches
the frames it speaks of (or at once, under the original EMA policy) → update the delay.

The outside world (FrameIngest, Commentator, Vocoder) comes in through :class:`SessionPorts`,
so the session runs the same against Ray handles or plain in-process engines in tests.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from models.audio import PcmResampler
from models.messages import (
    VOICE_SAMPLE_RATE_HZ,
    DescribeRequest,
    DescriberOutput,
    SpeechRequest,
    SpeechTokens,
    TextDelta,
    TimedFrame,
    VoiceInput,
    Waveform,
    is_skip_answer,
)
from serve_app.clock import Clock, SystemClock
from serve_app.messages import (
    AudioChunk,
    CommentaryText,
    CycleEnded,
    CycleStarted,
    DelayChanged,
    IngestSnapshot,
    StateChanged,
    StreamEvent,
    StreamState,
    WindowBatch,
)
from serve_app.prompt.intensity import CommentaryIntensity
from serve_app.prompt.wording import CommentaryPrompt
from serve_app.session.event_log import EventLog
from serve_app.settings import StreamSettings, SyncPolicy
from serve_app.speech.audio_clock import AudioClock, AudioGate
from serve_app.speech.sentences import SentenceSplitter
from serve_app.speech.skip_filter import SkipAudioFilter
from serve_app.sync.delay_policy import DelayPolicy, EmaDelay, QuantileDelay
from serve_app.sync.release_queue import ReleaseQueue, release_time

log = logging.getLogger(__name__)

OUT_SAMPLE_RATE_HZ = 48_000
IDLE_POLL_S = 0.25  # how often to look again when the window is empty or the source is down
ERROR_BACKOFF_S = 2.0  # after a failed cycle, so a broken model does not spin the CPU


class SessionPorts(Protocol):
    """The stages a session talks to. Implemented by Ray handles in the gateway deployment."""

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        """The next cycle's frames; ``repeat_ok``: the last ones again if none is newer."""
        ...

    def describe(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]: ...

    def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]: ...

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None: ...


def make_delay_policy(settings: StreamSettings) -> DelayPolicy:
    if settings.sync_policy is SyncPolicy.EMA:
        return EmaDelay(
            settings.stream_delay_init_s,
            settings.stream_delay_ema_alpha,
            settings.max_display_delay_s,
        )
    return QuantileDelay(
        settings.stream_delay_init_s,
        settings.sync_latency_quantile,
        settings.sync_history_cycles,
        settings.sync_margin_s,
        settings.max_display_delay_s,
    )


@dataclass
class CycleStats:
    """Counters a stream reports in its status."""

    cycles: int = 0
    skips: int = 0
    late: int = 0
    errors: int = 0
    last_latency_s: float | None = None
    last_inference_s: float | None = None
    latencies_s: list[float] = field(default_factory=list)

    def record(self, latency_s: float | None, inference_s: float, skip: bool, late: bool) -> None:
        self.cycles += 1
        self.skips += skip
        self.late += late
        self.last_inference_s = inference_s
        if latency_s is not None:
            self.last_latency_s = latency_s
            self.latencies_s = [*self.latencies_s[-199:], latency_s]


class StreamSession:
    def __init__(
        self,
        stream_id: str,
        settings: StreamSettings,
        ports: SessionPorts,
        voice_input: VoiceInput | None,
        describer_speaks: bool,
        clock: Clock | None = None,
    ) -> None:
        self.stream_id = stream_id
        self.ports = ports
        self.voice_input = voice_input
        self.describer_speaks = describer_speaks
        self._clock = clock or SystemClock()
        self.events = EventLog(clock=self._clock)
        self.audio_clock = AudioClock(OUT_SAMPLE_RATE_HZ)
        self.stats = CycleStats()
        self.source_state = StreamState.STARTING
        self._releases: ReleaseQueue[StreamEvent] = ReleaseQueue()
        self._release_wake = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._cycle = 0
        self._last_answer = ""
        self._questions: asyncio.Queue[_Question] = asyncio.Queue()
        self.apply_settings(settings)

    # --- settings ----------------------------------------------------------------------
    def apply_settings(self, settings: StreamSettings) -> None:
        """Take new settings, live; a changed sync policy starts a fresh delay estimate."""
        old = getattr(self, "settings", None)
        self.settings = settings
        self.gate = AudioGate(settings.inference_interval_s, settings.tts_pause_after_s)
        self.intensity = CommentaryIntensity(
            settings.intensity_low_change,
            settings.intensity_high_change,
            settings.intensity_long_answer_chars,
        )
        if old is None or any(
            getattr(old, name) != getattr(settings, name)
            for name in (
                "sync_policy",
                "stream_delay_init_s",
                "sync_latency_quantile",
                "sync_history_cycles",
                "sync_margin_s",
                "stream_delay_ema_alpha",
                "max_display_delay_s",
            )
        ):
            self.delay = make_delay_policy(settings)

    @property
    def speech_on(self) -> bool:
        return self.settings.enable_tts and (self.voice_input is not None or self.describer_speaks)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._cycle_loop(), name=f"cycles-{self.stream_id}"),
            asyncio.create_task(self._release_loop(), name=f"releases-{self.stream_id}"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for event in self._releases.drain():  # nothing said is lost, even at the end
            self.events.append(event)
        self.events.append(
            StateChanged(stream_id=self.stream_id, state=StreamState.STOPPED, detail="deleted")
        )
        self.events.close()

    # --- releasing ---------------------------------------------------------------------
    def _schedule(self, at: float, event: StreamEvent) -> None:
        self._releases.push(at, event)
        self._release_wake.set()

    async def _release_loop(self) -> None:
        while True:
            for event in self._releases.pop_due(self._clock.now()):
                self.events.append(event)
            next_at = self._releases.next_at()
            self._release_wake.clear()
            timeout = None if next_at is None else max(0.0, next_at - self._clock.now())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release_wake.wait(), timeout)

    def _publish_now(self, event: StreamEvent) -> None:
        self._schedule(self._clock.now(), event)

    # --- the loop ----------------------------------------------------------------------
    async def _cycle_loop(self) -> None:
        last_end = self._clock.now() - self.settings.inference_interval_s
        while True:
            playback_end = self.audio_clock.estimated_playback_end if self.speech_on else None
            lead = self.delay.target_delay_s if self.delay.holds_results else 0.0
            wait = self.gate.next_cycle_at(last_end, playback_end, lead) - self._clock.now()
            question = await self._next_question(wait)
            try:
                snapshot = await self.ports.take_batch(self.stream_id, question is not None)
            except Exception as error:
                log.warning("stream %s: frames unavailable: %s", self.stream_id, error)
                if question is not None:
                    question.answer.put_nowait(error)
                await asyncio.sleep(ERROR_BACKOFF_S)
                continue
            self._note_state(snapshot)
            if snapshot.batch is None or snapshot.state is not StreamState.LIVE:
                if question is not None:
                    question.answer.put_nowait(
                        RuntimeError(f"no frames to answer from: the stream is {snapshot.state}")
                    )
                await asyncio.sleep(IDLE_POLL_S)
                continue
            await self.run_cycle(snapshot.batch, question)
            last_end = self._clock.now()

    async def _next_question(self, wait_s: float) -> _Question | None:
        """Wait for the gate to open; a question cuts the wait short (and is answered next)."""
        if not self._questions.empty():
            return self._questions.get_nowait()
        if wait_s <= 0:
            return None
        try:
            return await asyncio.wait_for(self._questions.get(), wait_s)
        except TimeoutError:
            return None

    async def ask(self, question: str) -> AsyncIterator[str]:
        """Answer a question about the current window: yields the answer text as it streams.

        It is answered between two cycles, so the commentary's pacing holds, and spoken
        (when speech is on) in turn after what is already playing.
        """
        pending = _Question(question)
        self._questions.put_nowait(pending)
        while (piece := await pending.answer.get()) is not None:
            if isinstance(piece, BaseException):
                raise piece
            yield piece

    def _note_state(self, snapshot: IngestSnapshot) -> None:
        if snapshot.state is not self.source_state:
            self.source_state = snapshot.state
            self._publish_now(
                StateChanged(stream_id=self.stream_id, state=snapshot.state, detail=snapshot.detail)
            )

    async def run_cycle(self, batch: WindowBatch, question: _Question | None = None) -> None:
        """One cycle, start to end. Errors end the cycle with an error event, never the loop."""
        self._cycle += 1
        cycle = _Cycle(self, self._cycle, batch, question)
        try:
            await cycle.run()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("stream %s: cycle %d failed", self.stream_id, self._cycle)
            self.stats.errors += 1
            cycle.fail(f"{type(error).__name__}: {error}")
            if question is not None:
                question.answer.put_nowait(error)
            await asyncio.sleep(ERROR_BACKOFF_S)
            return
        finally:
            if question is not None:
                question.answer.put_nowait(None)
        if question is not None:
            return  # answers neither set the next hint nor the delay
        self._last_answer = "" if cycle.skip else cycle.text
        if cycle.latency_s is not None:
            await self._observe_latency(cycle.latency_s)

    async def _observe_latency(self, latency_s: float) -> None:
        before = self.delay.target_delay_s
        after = self.delay.observe(latency_s)
        if abs(after - before) >= 0.001:
            await self.ports.set_display_delay(self.stream_id, after)
            self._publish_now(
                DelayChanged(
                    stream_id=self.stream_id,
                    target_delay_s=after,
                    policy=str(self.settings.sync_policy),
                )
            )

    def status(self) -> dict[str, object]:
        latencies = self.stats.latencies_s
        return {
            "stream_id": self.stream_id,
            "source_state": str(self.source_state),
            "sync_policy": str(self.settings.sync_policy),
            "target_delay_s": round(self.delay.target_delay_s, 3),
            "speech": self.speech_on,
            "cycles": self.stats.cycles,
            "skips": self.stats.skips,
            "late_cycles": self.stats.late,
            "errors": self.stats.errors,
            "last_latency_s": self.stats.last_latency_s,
            "last_inference_s": self.stats.last_inference_s,
            "latency_p50_s": _quantile(latencies, 0.5),
            "latency_p95_s": _quantile(latencies, 0.95),
            "audio_seconds": round(self.audio_clock.audio_seconds, 3),
            "last_answer": self._last_answer,
        }


def _quantile(values: list[float], q: float) -> float | None:
    return round(float(np.quantile(values, q)), 3) if values else None


@dataclass
class _Question:
    """A user's question and the queue its answer streams through (None ends it)."""

    text: str
    answer: asyncio.Queue[str | BaseException | None] = field(default_factory=asyncio.Queue)


class _Cycle:
    """The state of one cycle in flight: text so far, held speech, release times."""

    def __init__(
        self,
        session: StreamSession,
        number: int,
        batch: WindowBatch,
        question: _Question | None = None,
    ) -> None:
        self.s = session
        self.number = number
        self.batch = batch
        self.question = question
        self.anchor = batch.anchor
        self.text = ""
        self.skip = False
        self.first_text_at: float | None = None
        self.first_audio_at: float | None = None
        self.release_floor = 0.0  # events of a cycle never overtake each other
        self.latency_s: float | None = None  # set when the cycle ends; None for skips
        self.started = session._clock.now()
        self.speech_filter: SkipAudioFilter[SpeechRequest | np.ndarray] = SkipAudioFilter(
            session.settings.skip_hold_chars
        )
        self.sentences = SentenceSplitter()
        self.speech_queue: asyncio.Queue[SpeechRequest | np.ndarray | None] = asyncio.Queue()

    def _release_at(self, ready_at: float) -> float:
        rt = release_time(
            self.anchor.capture_wall,
            self.s.delay.target_delay_s,
            ready_at,
            # An answer goes out at once: the user is waiting for it, not for the picture.
            self.s.delay.holds_results and self.question is None,
        )
        self.release_floor = max(self.release_floor, rt.at)
        return self.release_floor

    async def run(self) -> None:
        s, settings = self.s, self.s.settings
        speech = s.speech_on
        hint = s.intensity.choose(self.batch.scene_change, len(s._last_answer))
        prompt = CommentaryPrompt(settings.instruction, settings.language)
        request = DescribeRequest(
            stream_id=s.stream_id,
            frames=tuple(TimedFrame(f.jpeg, f.media_ts_s) for f in self.batch.frames),
            hint=hint,
            instruction=(
                prompt.for_question(self.question.text) if self.question else prompt.for_cycle(hint)
            ),
            max_new_tokens=settings.tts_max_new_tokens if speech else settings.max_new_tokens,
            speech=speech and s.describer_speaks,
            question=self.question.text if self.question else None,
        )
        s._publish_now(
            CycleStarted(
                stream_id=s.stream_id,
                cycle=self.number,
                frames_media_ts_s=[f.media_ts_s for f in self.batch.frames],
                hint=str(hint),
                media_ts_s=self.anchor.media_ts_s,
                question=self.question.text if self.question else "",
            )
        )
        speaker = asyncio.create_task(self._speak()) if speech else None
        try:
            async for output in s.ports.describe(request):
                self._take(output, speech)
            self._finish_speech(speech)
            if speaker is not None:
                await speaker
        finally:
            if speaker is not None and not speaker.done():
                speaker.cancel()
        self._end(error="")

    def _take(self, output: DescriberOutput, speech: bool) -> None:
        if isinstance(output, TextDelta):
            now = self.s._clock.now()
            if self.first_text_at is None:
                self.first_text_at = now
            self.text += output.text
            if self.question is not None:
                self.question.answer.put_nowait(output.text)
            self.s._schedule(
                self._release_at(now),
                CommentaryText(
                    stream_id=self.s.stream_id,
                    cycle=self.number,
                    text=output.text,
                    media_ts_s=self.anchor.media_ts_s,
                    late=now > self.anchor.capture_wall + self.s.delay.target_delay_s,
                ),
            )
            if speech:
                self._queue(self.speech_filter.add_text(output.text))
                if self.s.voice_input is VoiceInput.TEXT and not self.s.describer_speaks:
                    for sentence in self.sentences.feed(output.text):
                        self._offer(self._text_request(sentence, final=False))
        elif speech and isinstance(output, SpeechTokens):
            if self.s.voice_input is VoiceInput.TOKENS:
                self._offer(
                    SpeechRequest(
                        stream_id=self.s.stream_id,
                        utterance_id=self._utterance_id,
                        tokens=output.tokens,
                        final=output.final,
                    )
                )
        elif speech and isinstance(output, Waveform):
            self._offer(_to_voice_rate(output))

    @property
    def _utterance_id(self) -> str:
        return f"{self.s.stream_id}:{self.number}"

    def _text_request(self, text: str, final: bool) -> SpeechRequest:
        return SpeechRequest(
            stream_id=self.s.stream_id, utterance_id=self._utterance_id, text=text, final=final
        )

    def _offer(self, item: SpeechRequest | np.ndarray) -> None:
        self._queue(self.speech_filter.add_speech(item))

    def _queue(self, items: list[SpeechRequest | np.ndarray]) -> None:
        for item in items:
            self.speech_queue.put_nowait(item)

    def _finish_speech(self, speech: bool) -> None:
        self.skip = is_skip_answer(self.text)
        if not speech:
            return
        text_voice = self.s.voice_input is VoiceInput.TEXT and not self.s.describer_speaks
        if text_voice and not self.skip:
            # Every utterance ends with a final piece, empty when the answer ended on a full
            # stop: the voice (and the Vocoder's router) learn that it is over.
            self._offer(self._text_request(self.sentences.rest(), final=True))
        self._queue(self.speech_filter.finish())
        self.speech_queue.put_nowait(None)

    async def _speak(self) -> None:
        """Voice the released speech work in order and schedule its audio."""
        s = self.s
        resampler = PcmResampler(VOICE_SAMPLE_RATE_HZ, OUT_SAMPLE_RATE_HZ)
        spoke = False
        pieces = 0
        while (item := await self.speech_queue.get()) is not None:
            if isinstance(item, np.ndarray):
                chunks: AsyncIterator[np.ndarray] | list[np.ndarray] = [item]
            else:
                chunks = s.ports.synthesize(dataclasses.replace(item, piece=pieces))
                pieces += 1
            async for chunk in _aiter(chunks):
                spoke = spoke or chunk.size > 0
                self._publish_audio(resampler.process(chunk))
        if spoke:  # the held-back tail; nothing at all for an answer that said nothing
            self._publish_audio(resampler.flush())

    def _publish_audio(self, pcm: np.ndarray) -> None:
        if pcm.size == 0:
            return
        now = self.s._clock.now()
        if self.first_audio_at is None:
            self.first_audio_at = now
        at = self._release_at(now)
        self.s.audio_clock.publish(int(pcm.size), at)
        self.s._schedule(
            at,
            AudioChunk(
                stream_id=self.s.stream_id,
                cycle=self.number,
                pcm=pcm.astype("<i2").tobytes(),
                media_ts_s=self.anchor.media_ts_s,
            ),
        )

    def _end(self, error: str) -> None:
        s = self.s
        now = s._clock.now()
        # The first moment the cycle had something to present: its audio when it speaks.
        ready = self.first_audio_at or self.first_text_at
        latency = None if ready is None else ready - self.anchor.capture_wall
        rt = release_time(
            self.anchor.capture_wall, s.delay.target_delay_s, ready or now, s.delay.holds_results
        )
        late = latency is not None and rt.late
        if self.question is None:
            s.stats.record(latency, now - self.started, self.skip, late)
        s._schedule(
            self._release_at(now),
            CycleEnded(
                stream_id=s.stream_id,
                cycle=self.number,
                text=self.text,
                skip=self.skip,
                media_ts_s=self.anchor.media_ts_s,
                latency_s=round(latency or 0.0, 4),
                inference_s=round(now - self.started, 4),
                late=late,
                lateness_s=round(rt.lateness_s, 4),
                shown_at=self.anchor.capture_wall + s.delay.target_delay_s,
                kind="answer" if self.question else "commentary",
                error=error,
            ),
        )
        self.latency_s = latency if not error and not self.skip else None

    def fail(self, error: str) -> None:
        self.skip = is_skip_answer(self.text)
        self._end(error=error)


async def _aiter(items: AsyncIterator[np.ndarray] | list[np.ndarray]) -> AsyncIterator[np.ndarray]:
    if isinstance(items, list):
        for item in items:
            yield item
    else:
        async for item in items:
            yield item


def _to_voice_rate(wave: Waveform) -> np.ndarray:
    samples = np.asarray(wave.samples, dtype=np.float32).reshape(-1)
    if wave.sample_rate_hz == VOICE_SAMPLE_RATE_HZ:
        return samples
    from scipy.signal import resample_poly

    return resample_poly(samples, VOICE_SAMPLE_RATE_HZ, wave.sample_rate_hz).astype(np.float32)
