"""AudioClock and AudioGate: when the audio sent so far ends, and when the next cycle may start.

Time is kept as a whole number of samples per contiguous run of audio, so the estimate
never drifts however many chunks are published (no float error accumulates).
"""

from __future__ import annotations


class AudioClock:
    """Estimates when a client finishes playing the audio published to it.

    A run starts when audio is published after the previous run has played out; within a
    run chunks play back to back. ``publish`` takes the wall time the chunk is released to
    clients (in the future when results are held for sync).
    """

    def __init__(self, sample_rate_hz: int) -> None:
        if sample_rate_hz <= 0:
            raise ValueError("sample_rate_hz must be > 0")
        self.sample_rate_hz = sample_rate_hz
        self.reset_clock()

    def reset_clock(self) -> None:
        self.first_publish_time: float | None = None
        self._run_samples = 0
        self.total_samples = 0

    @property
    def audio_seconds(self) -> float:
        """Seconds of audio published since the clock was (re)set."""
        return self.total_samples / self.sample_rate_hz

    @property
    def estimated_playback_end(self) -> float | None:
        if self.first_publish_time is None:
            return None
        return self.first_publish_time + self._run_samples / self.sample_rate_hz

    def publish(self, samples: int, release_time: float) -> float:
        """Record ``samples`` released at ``release_time``; returns when they start playing."""
        if samples < 0:
            raise ValueError("samples must be >= 0")
        end = self.estimated_playback_end
        if end is None or release_time >= end:
            # The client had gone quiet: a new run starts when this chunk arrives.
            self.first_publish_time = release_time
            self._run_samples = 0
            start = release_time
        else:
            start = end
        self._run_samples += samples
        self.total_samples += samples
        return start


class AudioGate:
    """When the next cycle may start.

    Two waits combined into one: ``interval_s`` of idle after the last cycle ended, and,
    with speech on, the audio already sent has played out plus ``pause_after_s``. When
    results are held until their frames are shown (``display_delay_s`` > 0), the next
    cycle's words reach the client ``display_delay_s`` after its frames are captured, so
    the cycle may start that much before the audio ends and still not talk over it.
    """

    def __init__(self, interval_s: float, pause_after_s: float) -> None:
        self.interval_s = interval_s
        self.pause_after_s = pause_after_s

    def next_cycle_at(
        self,
        last_cycle_end: float,
        playback_end: float | None,
        display_delay_s: float = 0.0,
    ) -> float:
        ready = last_cycle_end + self.interval_s
        if playback_end is not None:
            ready = max(ready, playback_end + self.pause_after_s - display_delay_s)
        return ready
