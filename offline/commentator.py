"""OfflineCommentator: the service's ``Cycle``, run on the media clock, collecting lines.

Each cycle is the very ``Cycle`` a live stream runs (the request and its prompt, the skip
rule, sentences to the voice, the skip-audio filter, resampling to ``OUTPUT_AUDIO``). Its
clock is the media clock, set to the newest frame's time while it runs, and the display
delay is zero: every text piece and every audio chunk is then released at the frame it
speaks of, and the ``AudioClock`` starts the speech there, or where the previous speech
ends, never over it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np

from models.messages import VoiceInput
from serve_app.clock import ManualClock
from serve_app.messages import AudioChunk, WindowBatch
from serve_app.prompt.intensity import CommentaryIntensity
from serve_app.session.cycle import Cycle, CycleContext
from serve_app.session.cycle_speech import speech_on
from serve_app.session.event_log import EventLog
from serve_app.session.ports import SessionPorts
from serve_app.session.releases import Releases
from serve_app.settings import StreamSettings
from serve_app.speech.audio_clock import AudioClock
from serve_app.speech.audio_format import OUTPUT_AUDIO
from serve_app.sync.display_delay import DisplayDelay

log = logging.getLogger(__name__)

EVENTS_PER_CYCLE = 100_000  # far above what one answer makes: no event of a cycle is dropped


@dataclass(frozen=True, slots=True)
class SpokenLine:
    """One commentary line on the media timeline, with its speech (int16 at OUTPUT_AUDIO)."""

    cycle: int
    media_start_s: float  # the oldest frame it speaks of
    media_ts_s: float  # the newest: where it is shown
    text: str
    speech_start_s: float | None = None
    speech: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int16), repr=False)

    @property
    def speech_s(self) -> float:
        return self.speech.size / OUTPUT_AUDIO.rate_hz

    @property
    def speech_end_s(self) -> float | None:
        return None if self.speech_start_s is None else self.speech_start_s + self.speech_s


class PlacedAudioClock(AudioClock):
    """The session's AudioClock, also remembering where each published chunk starts."""

    def __init__(self, sample_rate_hz: int) -> None:
        super().__init__(sample_rate_hz)
        self.starts: list[float] = []

    def publish(self, samples: int, release_time: float) -> float:
        start = super().publish(samples, release_time)
        self.starts.append(start)
        return start


class OfflineCommentator:
    def __init__(
        self,
        stream_id: str,
        settings: StreamSettings,
        ports: SessionPorts,
        voice_input: VoiceInput | None,
        describer_speaks: bool,
    ) -> None:
        self.stream_id = stream_id
        self.settings = settings
        self._ports = ports
        self._voice_input = voice_input
        self._describer_speaks = describer_speaks
        self.clock = ManualClock(start=0.0)  # media time; it never runs by itself
        # No live edge, so no display delay: results are released on their own frame.
        self._delay = DisplayDelay(settings.with_overrides({"stream_delay_init_s": 0.0}))
        self.audio_clock = PlacedAudioClock(OUTPUT_AUDIO.rate_hz)
        self._intensity = CommentaryIntensity.from_settings(settings)
        self._last_answer = ""
        self.cycles = 0  # cycles run, failed ones included: the next one's number is one more
        self.lines: list[SpokenLine] = []
        self.skipped = 0
        self.errors: list[str] = []

    @property
    def speech_on(self) -> bool:
        """As in the service: speech is on when asked for and something can speak."""
        return speech_on(self.settings, self._voice_input, self._describer_speaks)

    async def run_cycle(self, batch: WindowBatch, at: float) -> float | None:
        """One cycle about ``batch``; returns when the speech placed so far ends."""
        self.cycles += 1
        number = self.cycles
        # Media time stands at the newest frame while the cycle runs (``at`` is at or after
        # it): the line is shown on that frame, and the speech starts there.
        self.clock.set(max(self.clock.now(), batch.anchor.media_ts_s))
        released = EventLog(keep=EVENTS_PER_CYCLE, clock=self.clock)
        releases = Releases(released, self.clock)
        hint = self._intensity.choose(batch.scene_change, len(self._last_answer))
        published_before = len(self.audio_clock.starts)
        cycle = Cycle(self._context(releases), number, batch, hint)
        try:
            outcome = await cycle.run()
        except Exception as error:  # the service's rule: a failed cycle never ends the run
            outcome = cycle.fail(f"{type(error).__name__}: {error}")
            message = f"cycle {number} at {at:.2f} s failed: {outcome.error}"
            log.warning("%s", message)
            self.errors.append(message)
        # The first cycle at INFO (the run is under way), the rest at DEBUG: no flood.
        level = logging.INFO if number == 1 else logging.DEBUG
        log.log(level, "cycle %d at %.2f s: %s", number, at, "skip" if outcome.skip else "line")
        if outcome.skip:
            # A failed cycle counts as an error only, never also as a skip (the service's
            # stats do count its skip flag), and leaves the last answer as it was.
            if not outcome.error:
                self.skipped += 1
                self._last_answer = ""
            return self._playback_end()
        if not outcome.error:
            self._last_answer = outcome.text
        # What a failed cycle had already said stays said, as in the service.
        releases.flush()  # everything is due: the media clock stands at the line's frame
        pcm = b"".join(e.pcm for e in released.since(-1) if isinstance(e, AudioChunk))
        starts = self.audio_clock.starts[published_before:]
        self.lines.append(
            SpokenLine(
                cycle=number,
                media_start_s=batch.frames[0].media_ts_s,
                media_ts_s=batch.anchor.media_ts_s,
                text=cycle.text.strip(),
                speech_start_s=starts[0] if starts and pcm else None,
                speech=np.frombuffer(pcm, dtype="<i2").astype(np.int16),
            )
        )
        return self._playback_end()

    def _playback_end(self) -> float | None:
        return self.audio_clock.estimated_playback_end if self.speech_on else None

    def _context(self, releases: Releases) -> CycleContext:
        return CycleContext(
            stream_id=self.stream_id,
            settings=self.settings,
            ports=self._ports,
            clock=self.clock,
            delay=self._delay,
            releases=releases,
            audio_clock=self.audio_clock,
            speech=self.speech_on,
            voice_input=self._voice_input,
            describer_speaks=self._describer_speaks,
        )
