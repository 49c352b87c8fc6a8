"""MediaCyclePacer: when cycles run, decided frame by frame on the media timeline.

The service's rules with media time in place of wall time: the first cycle runs at once; the
next may start ``inference_interval_s`` after the last one and, with speech on, not before
the speech already placed has ended plus ``tts_pause_after_s`` (``AudioGate``); a cycle
takes the window as it stands at its start, and one with no frame newer than the last
cycle's waits for the next frame (``InferenceWindow``). Offline, the model answers in no
media time: a cycle ends where it starts, however long the engine took in wall time.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from serve_app.ingest.inference_window import InferenceWindow
from serve_app.messages import WindowBatch, WindowFrame
from serve_app.speech.audio_clock import AudioGate

RunCycle = Callable[[WindowBatch, float], Awaitable[float | None]]
"""Runs one cycle of ``batch`` starting at a media time; returns when its speech ends (or None
when nothing is playing)."""


class MediaCyclePacer:
    def __init__(self, window: InferenceWindow, gate: AudioGate, run_cycle: RunCycle) -> None:
        self._window = window
        self._gate = gate
        self._run_cycle = run_cycle
        self.next_cycle_at = 0.0  # the service starts its first cycle at once

    async def add_frame(self, frame: WindowFrame) -> None:
        """A window frame at its media time; cycles due before it run first."""
        t = frame.media_ts_s
        while self.next_cycle_at < t:
            # The gate opened before this frame: the cycle sees the window as it was.
            if not await self._try_cycle(self.next_cycle_at):
                self.next_cycle_at = t  # nothing new yet: the next frame starts it
                break
        self._window.push(frame)
        if self.next_cycle_at <= t:
            await self._try_cycle(t)

    async def finish(self, end_s: float) -> None:
        """The file ended at ``end_s``: a gate that opens before then still gets its cycle."""
        while self.next_cycle_at < end_s:
            if not await self._try_cycle(self.next_cycle_at):
                return

    async def _try_cycle(self, at: float) -> bool:
        batch = self._window.take_batch()
        if batch is None:
            return False
        playback_end = await self._run_cycle(batch, at)
        self.next_cycle_at = self._gate.next_cycle_at(at, playback_end)
        return True
