"""MediaCyclePacer: the service's cycle timing, on the media timeline."""

from __future__ import annotations

import itertools

from offline.pacer import MediaCyclePacer
from serve_app.ingest.inference_window import InferenceWindow
from serve_app.messages import WindowBatch
from serve_app.speech.audio_clock import AudioGate
from tests.unit.offline.fakes import frame_at


class Recorder:
    """A cycle that takes no media time and speaks ``speech_s`` from its newest frame."""

    def __init__(self, speech_s: float | None = None) -> None:
        self.speech_s = speech_s
        self.cycles: list[tuple[float, float]] = []  # (start, newest frame)

    async def __call__(self, batch: WindowBatch, at: float) -> float | None:
        self.cycles.append((at, batch.anchor.media_ts_s))
        if self.speech_s is None:
            return None
        return batch.anchor.media_ts_s + self.speech_s


async def feed(pacer: MediaCyclePacer, times: list[float], end_s: float) -> None:
    for t in times:
        await pacer.add_frame(frame_at(t))
    await pacer.finish(end_s)


def pacer_for(recorder: Recorder, interval_s: float, pause_s: float = 1.0) -> MediaCyclePacer:
    return MediaCyclePacer(InferenceWindow(32, 4, 2), AudioGate(interval_s, pause_s), recorder)


GRID = [i * 0.5 for i in range(20)]  # 2 fps for 10 s


async def test_the_first_cycle_runs_on_the_first_frame() -> None:
    recorder = Recorder()
    await feed(pacer_for(recorder, 1.0), GRID[:1], end_s=0.5)
    assert recorder.cycles == [(0.0, 0.0)]


async def test_without_speech_cycles_come_every_interval_of_media_time() -> None:
    recorder = Recorder()
    await feed(pacer_for(recorder, 2.0), GRID, end_s=10.0)
    assert [start for start, _ in recorder.cycles] == [0.0, 2.0, 4.0, 6.0, 8.0]


async def test_a_cycle_sees_the_window_as_it_stood_when_the_gate_opened() -> None:
    recorder = Recorder()
    await feed(pacer_for(recorder, 1.2), GRID[:6], end_s=3.0)
    # Gates at 1.2 and 2.4: their newest frames are 1.0 and 2.0, never a later one.
    assert recorder.cycles == [(0.0, 0.0), (1.2, 1.0), (2.4, 2.0)]


async def test_speech_holds_the_next_cycle_until_it_ends_plus_the_pause() -> None:
    recorder = Recorder(speech_s=3.0)
    await feed(pacer_for(recorder, 1.0, pause_s=1.0), GRID, end_s=10.0)
    starts = [start for start, _ in recorder.cycles]
    assert starts[:2] == [0.0, 4.0]  # speech 0 → 3 s, then 1 s of pause
    for (start, _), (_, previous_anchor) in zip(recorder.cycles[1:], recorder.cycles, strict=False):
        assert start >= previous_anchor + 3.0 + 1.0


async def test_no_cycle_comes_sooner_than_the_interval() -> None:
    recorder = Recorder(speech_s=0.1)
    await feed(pacer_for(recorder, 3.0, pause_s=0.0), GRID, end_s=10.0)
    starts = [start for start, _ in recorder.cycles]
    assert all(b - a >= 3.0 for a, b in itertools.pairwise(starts))


async def test_with_no_new_frame_the_cycle_waits_for_the_next_one() -> None:
    recorder = Recorder()
    # Frames only every 2 s but cycles allowed every 0.5 s: one cycle per new frame.
    await feed(pacer_for(recorder, 0.5), [0.0, 2.0, 4.0], end_s=5.0)
    assert recorder.cycles == [(0.0, 0.0), (2.0, 2.0), (4.0, 4.0)]


async def test_a_gate_opening_after_the_last_frame_still_gets_its_cycle() -> None:
    recorder = Recorder()
    await feed(pacer_for(recorder, 1.2), [0.0, 0.5, 1.0], end_s=1.5)
    assert recorder.cycles == [(0.0, 0.0), (1.2, 1.0)]


async def test_a_gate_opening_after_the_end_gets_none() -> None:
    recorder = Recorder()
    await feed(pacer_for(recorder, 5.0), [0.0, 0.5, 1.0], end_s=1.5)
    assert recorder.cycles == [(0.0, 0.0)]
