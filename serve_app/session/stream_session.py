"""StreamSession: one stream's commentary loop, its pacing, and its event log.

Per cycle: wait for the gate (interval, speech still playing) or a question → take the
window's frames → run a :class:`Cycle` → learn from its latency. Events a cycle makes are
released through :class:`Releases` when the display clock reaches the frames they speak of.
The session owns the stream's display delay and pushes it to FrameIngest whenever it moves.
The outside world comes in through :class:`SessionPorts`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from models.messages import VoiceInput
from serve_app.clock import Clock, SystemClock
from serve_app.detached import detached
from serve_app.messages import (
    DelayChanged,
    IngestSnapshot,
    StateChanged,
    StreamEvent,
    StreamState,
    WindowBatch,
)
from serve_app.prompt.intensity import CommentaryIntensity
from serve_app.session.cycle import Cycle, CycleContext, CycleOutcome
from serve_app.session.cycle_speech import speech_on
from serve_app.session.event_log import EventLog
from serve_app.session.ports import SessionPorts
from serve_app.session.question import Question, next_question
from serve_app.session.releases import Releases
from serve_app.session.stats import CycleStats
from serve_app.settings import StreamSettings
from serve_app.speech.audio_clock import AudioClock, AudioGate
from serve_app.speech.audio_format import OUTPUT_AUDIO
from serve_app.sync.display_delay import DisplayDelay
from serve_app.telemetry.sink import MetricsSink, NoMetrics
from serve_app.telemetry.stream_metrics import StreamMetrics, report_metrics

log = logging.getLogger(__name__)

IDLE_POLL_S = 0.25  # how often to look again when the window is empty or the source is down
ERROR_BACKOFF_S = 2.0  # after a failed cycle, so a broken model does not spin the CPU


class StreamSession:
    def __init__(
        self,
        stream_id: str,
        settings: StreamSettings,
        ports: SessionPorts,
        voice_input: VoiceInput | None,
        describer_speaks: bool,
        clock: Clock | None = None,
        reopen: Callable[[], Awaitable[bool]] | None = None,
        run: int = 1,
        replay: list[StreamEvent] | None = None,
        metrics: MetricsSink | None = None,
    ) -> None:
        self.stream_id = stream_id
        self.ports = ports
        self.voice_input = voice_input
        self.describer_speaks = describer_speaks
        self.run = run  # which start of the stream this is (resumes count)
        self._reopen = reopen  # opens the capture again when FrameIngest lost it
        self._clock = clock or SystemClock()
        # Sequence numbers go on rising across restarts (milliseconds of wall time at the
        # start), so a client resuming with Last-Event-ID from an earlier run misses nothing.
        self.events = EventLog(clock=self._clock, first_seq=int(self._clock.now() * 1000))
        self.events.seed(replay or [])  # what the previous run said last, for late resumers
        self.releases = Releases(self.events, self._clock)
        self.audio_clock = AudioClock(OUTPUT_AUDIO.rate_hz)
        self.stats = CycleStats()
        self.source_state = StreamState.STARTING
        self._tasks: list[asyncio.Task[None]] = []
        self._delay_push: asyncio.Task[None] | None = None
        self._metrics = metrics or NoMetrics()
        self._reporter: asyncio.Task[None] | None = None  # ends as the event log closes
        self._cycle = 0
        self._last_answer = ""
        self._questions: asyncio.Queue[Question] = asyncio.Queue()
        self.settings = settings
        self.delay = DisplayDelay(settings)
        self._retune(settings)

    # --- settings ----------------------------------------------------------------------
    def apply_settings(self, settings: StreamSettings) -> None:
        """Take new settings, live; a changed sync policy starts a fresh delay estimate."""
        self.settings = settings
        self._retune(settings)
        if self.delay.retune(settings):
            self._delay_moved()

    def _retune(self, settings: StreamSettings) -> None:
        self.gate = AudioGate(settings.inference_interval_s, settings.tts_pause_after_s)
        self.intensity = CommentaryIntensity.from_settings(settings)

    @property
    def speech_on(self) -> bool:
        return speech_on(self.settings, self.voice_input, self.describer_speaks)

    # --- the display delay, pushed wherever it is copied -------------------------------------
    def _delay_moved(self) -> None:
        self.releases.now(
            DelayChanged(
                stream_id=self.stream_id,
                target_delay_s=self.delay.target_delay_s,
                policy=self.delay.policy_name,
            )
        )
        self._push_delay()

    def _push_delay(self) -> None:
        # The newest value wins: a push still in flight is replaced, never queued behind.
        if self._delay_push is not None:
            self._delay_push.cancel()
        self._delay_push = detached(self._send_delay(), name=f"delay-{self.stream_id}")

    async def _send_delay(self) -> None:
        try:
            await self.ports.set_display_delay(self.stream_id, self.delay.target_delay_s)
        except Exception as error:  # FrameIngest restarting: the next change pushes again
            log.warning("stream %s: display delay not delivered: %s", self.stream_id, error)

    # --- lifecycle ---------------------------------------------------------------------
    def start(self) -> None:
        self._push_delay()
        metrics = StreamMetrics(self.stream_id, self._metrics, self.delay.target_delay_s)
        self._reporter = detached(
            report_metrics(self.events, metrics), name=f"metrics-{self.stream_id}"
        )
        self._tasks = [
            detached(self._cycle_loop(), name=f"cycles-{self.stream_id}"),
            detached(self.releases.run(), name=f"releases-{self.stream_id}"),
        ]

    async def stop(self) -> None:
        tasks = [*self._tasks, *([self._delay_push] if self._delay_push else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        while not self._questions.empty():  # asked, never answered: say so, do not hang
            self._questions.get_nowait().fail(RuntimeError("the stream was deleted"))
        self.releases.flush()  # nothing said is lost, even at the end
        self.events.append(
            StateChanged(stream_id=self.stream_id, state=StreamState.STOPPED, detail="deleted")
        )
        self.events.close()

    # --- the loop ----------------------------------------------------------------------
    async def _cycle_loop(self) -> None:
        last_end = self._clock.now() - self.settings.inference_interval_s
        while True:
            playback_end = self.audio_clock.estimated_playback_end if self.speech_on else None
            lead = self.delay.target_delay_s if self.delay.holds_results else 0.0
            wait = self.gate.next_cycle_at(last_end, playback_end, lead) - self._clock.now()
            question = await next_question(self._questions, self._clock, wait)
            try:
                snapshot = await self.ports.take_batch(self.stream_id, question is not None)
            except Exception as error:
                log.warning("stream %s: frames unavailable: %s", self.stream_id, error)
                if question is not None:
                    question.fail(error)
                await self._clock.sleep(ERROR_BACKOFF_S)
                continue
            self._note_state(snapshot)
            if snapshot.lost and self._reopen is not None:
                if question is not None:
                    question.fail(RuntimeError("the stream is reconnecting; ask again shortly"))
                await self._reopen_capture()
                continue
            if snapshot.batch is None or snapshot.state is not StreamState.LIVE:
                if question is not None:
                    question.fail(
                        RuntimeError(f"no frames to answer from: the stream is {snapshot.state}")
                    )
                await self._clock.sleep(IDLE_POLL_S)
                continue
            await self.run_cycle(snapshot.batch, question)
            last_end = self._clock.now()

    async def ask(self, question: str) -> AsyncIterator[str]:
        """Answer a question about the current window: yields the answer text as it streams.

        It is answered between two cycles, so the commentary's pacing holds, and spoken
        (when speech is on) in turn after what is already playing.
        """
        pending = Question(question)
        self._questions.put_nowait(pending)
        while (piece := await pending.answer.get()) is not None:
            if isinstance(piece, BaseException):
                raise piece
            yield piece

    async def _reopen_capture(self) -> None:
        assert self._reopen is not None
        log.warning("stream %s: FrameIngest lost the capture; reopening it", self.stream_id)
        try:
            reopened = await self._reopen()
        except Exception as error:
            log.warning("stream %s: reopening failed: %s", self.stream_id, error)
            reopened = False
        if reopened:
            self._push_delay()  # the new capture starts undelayed: give it the delay again
        await self._clock.sleep(IDLE_POLL_S if reopened else ERROR_BACKOFF_S)

    def _note_state(self, snapshot: IngestSnapshot) -> None:
        state = StreamState.RECONNECTING if snapshot.lost else snapshot.state
        if state is not self.source_state:
            self.source_state = state
            detail = "FrameIngest restarted; reopening the source" if snapshot.lost else ""
            self.releases.now(
                StateChanged(
                    stream_id=self.stream_id, state=state, detail=detail or snapshot.detail
                )
            )

    def _context(self) -> CycleContext:
        return CycleContext(
            stream_id=self.stream_id,
            settings=self.settings,
            ports=self.ports,
            clock=self._clock,
            delay=self.delay,
            releases=self.releases,
            audio_clock=self.audio_clock,
            speech=self.speech_on,
            voice_input=self.voice_input,
            describer_speaks=self.describer_speaks,
        )

    async def run_cycle(self, batch: WindowBatch, question: Question | None = None) -> None:
        """One cycle, start to end. Errors end the cycle with an error event, never the loop."""
        self._cycle += 1
        hint = self.intensity.choose(batch.scene_change, len(self._last_answer))
        cycle = Cycle(self._context(), self._cycle, batch, hint, question)
        try:
            outcome = await cycle.run()
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.exception("stream %s: cycle %d failed", self.stream_id, self._cycle)
            self.stats.errors += 1
            outcome = cycle.fail(f"{type(error).__name__}: {error}")
            self._learn(outcome, question)
            if question is not None:
                question.fail(error)
            await self._clock.sleep(ERROR_BACKOFF_S)
            return
        finally:
            if question is not None:
                question.end()
        self._learn(outcome, question)

    def _learn(self, outcome: CycleOutcome, question: Question | None) -> None:
        if question is not None:
            return  # answers set neither the next hint, the stats nor the delay
        self.stats.record(outcome.latency_s, outcome.inference_s, outcome.skip, outcome.late)
        if outcome.error:
            return
        self._last_answer = "" if outcome.skip else outcome.text
        sample = outcome.delay_sample
        if sample is not None and self.delay.observe(sample):
            self._delay_moved()

    def status(self) -> dict[str, object]:
        return {
            "stream_id": self.stream_id,
            "run": self.run,
            "source_state": str(self.source_state),
            "sync_policy": str(self.settings.sync_policy),
            "target_delay_s": round(self.delay.target_delay_s, 3),
            "speech": self.speech_on,
            **self.stats.summary(),
            "audio_seconds": round(self.audio_clock.audio_seconds, 3),
            "last_answer": self._last_answer,
        }
