"""StreamSession: the loop's pacing, questions, the display delay it owns, and its end.

Driven on a ManualClock with scripted ports; one test at the end runs real engines (a real
decoded clip, the eSpeak voice) on the system clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from deployments.threaded_iter import iterate_in_thread
from models.describers.base import Describer
from models.describers.synthetic import SyntheticDescriber
from models.messages import DescribeRequest, DescriberOutput, SpeechRequest, VoiceInput
from models.voices.base import Voice
from models.voices.espeak import EspeakVoice
from serve_app.clock import ManualClock
from serve_app.ingest.capture_loop import StreamCapture
from serve_app.messages import (
    AudioChunk,
    CommentaryText,
    CycleEnded,
    DelayChanged,
    IngestSnapshot,
    StateChanged,
    StreamState,
)
from serve_app.session.stream_session import StreamSession
from serve_app.settings import StreamSettings, SyncPolicy
from serve_app.sources.source_spec import parse_source
from tests.support.fixture_video import write_counter_clip
from tests.support.scripted_ports import ScriptedPorts, run_until, settle


def session_on_clock(**settings: object) -> tuple[StreamSession, ScriptedPorts, ManualClock]:
    clock = ManualClock()
    ports = ScriptedPorts(clock)
    values = {"stream_delay_init_s": 2.0, "inference_interval_s": 1.0, **settings}
    session = StreamSession(
        "s", StreamSettings(**values), ports, VoiceInput.TEXT, describer_speaks=False, clock=clock
    )
    return session, ports, clock


def events_of(session: StreamSession, kind: type) -> list:
    return [e for e in session.events.since(-1) if isinstance(e, kind)]


async def test_the_session_gives_frame_ingest_its_delay_as_it_starts() -> None:
    session, ports, _ = session_on_clock(stream_delay_init_s=3.0)
    session.start()
    await settle()
    assert ports.delays == [3.0]
    await session.stop()


async def test_a_live_policy_change_reaches_the_picture_at_once() -> None:
    session, ports, clock = session_on_clock(enable_tts=False)
    session.start()
    await run_until(clock, lambda: len(events_of(session, CycleEnded)) >= 3)
    session.apply_settings(session.settings.with_live_changes({"sync_policy": "ema"}))
    await settle()
    # Picture and words use one delay: FrameIngest's copy is the session's, now.
    assert ports.delays[-1] == session.delay.target_delay_s
    announced = events_of(session, DelayChanged)[-1]
    assert announced.policy == "ema" and session.status()["sync_policy"] == "ema"
    await session.stop()


async def test_a_learned_delay_is_announced_and_pushed() -> None:
    session, ports, clock = session_on_clock(
        enable_tts=False, sync_policy=SyncPolicy.EMA, stream_delay_init_s=5.0
    )
    session.start()
    await run_until(clock, lambda: bool(events_of(session, DelayChanged)))
    await settle()
    learned = session.delay.target_delay_s
    assert learned < 5.0, "cycles of 0.6 s pull a 5 s delay down"
    assert ports.delays[-1] == learned
    await session.stop()


async def test_cycles_wait_the_interval_between_them() -> None:
    session, ports, clock = session_on_clock(enable_tts=False, inference_interval_s=3.0)
    session.start()
    await run_until(clock, lambda: len(events_of(session, CycleEnded)) >= 3)
    # Each cycle thinks 0.6 s; the next takes its frames 3 s after the last one ended.
    gaps = np.diff(ports.batch_times[:3])
    # run_until moves the clock in 0.05 s steps: each of the two waits may end a step late.
    assert all(g == pytest.approx(3.6, abs=0.11) for g in gaps)
    await session.stop()


async def test_with_speech_the_next_cycle_waits_for_the_audio_to_play_out() -> None:
    session, ports, clock = session_on_clock(
        inference_interval_s=0.0, tts_pause_after_s=1.0, stream_delay_init_s=0.0
    )
    session.start()
    await run_until(clock, lambda: len(ports.requests) >= 2)
    first_audio = [a for a in events_of(session, AudioChunk) if a.cycle == 1]
    spoken_s = sum(a.duration_s for a in first_audio)
    assert spoken_s > 1.0
    first_audio_at = first_audio[0].wall_ts
    # The second cycle started once the first one's audio had played, plus the pause.
    assert clock.now() >= first_audio_at + spoken_s + 1.0 - 0.06
    await session.stop()


async def test_a_question_cuts_the_wait_short_and_is_answered_between_cycles() -> None:
    session, ports, clock = session_on_clock(enable_tts=False, inference_interval_s=60.0)
    session.start()
    await run_until(
        clock, lambda: len(ports.requests) == 1 and bool(events_of(session, CycleEnded))
    )
    asked_at = clock.now()
    answer: list[str] = []

    async def ask() -> None:
        answer.extend([piece async for piece in session.ask("What is it?")])

    asking = asyncio.create_task(ask())
    await run_until(clock, asking.done)
    assert clock.now() - asked_at < 1.0, "not after the 60 s interval"
    assert "".join(answer) == "A red car turns left. It stops."
    assert ports.requests[-1].question == "What is it?"
    assert session.stats.cycles == 1, "an answer is not a commentary cycle"
    await session.stop()


async def test_a_source_that_is_not_live_is_reported_and_a_question_told_why() -> None:
    session, ports, clock = session_on_clock()
    ports.state = StreamState.RECONNECTING
    session.start()
    await run_until(clock, lambda: bool(events_of(session, StateChanged)))
    assert events_of(session, StateChanged)[0].state is StreamState.RECONNECTING

    async def ask() -> list[str]:
        return [piece async for piece in session.ask("Anyone there?")]

    asking = asyncio.create_task(ask())
    await run_until(clock, asking.done)
    with pytest.raises(RuntimeError, match="no frames to answer from"):
        asking.result()
    assert ports.requests == []
    await session.stop()


async def test_a_failing_model_ends_cycles_with_errors_not_the_stream() -> None:
    session, ports, clock = session_on_clock(enable_tts=False)
    ports.fail_describe = RuntimeError("CUDA out of memory")
    session.start()
    await run_until(clock, lambda: len(events_of(session, CycleEnded)) >= 2)
    ends = events_of(session, CycleEnded)
    assert "CUDA out of memory" in ends[0].error
    assert ends[0].text == "A red car turns left. ", "what was said stays said"
    assert session.stats.errors >= 2 and session.delay.target_delay_s == 2.0
    await session.stop()


async def test_frames_that_fail_to_arrive_do_not_end_the_stream() -> None:
    session, ports, clock = session_on_clock(enable_tts=False)
    ports.fail_frames = ConnectionError("FrameIngest restarting")
    session.start()
    await run_until(clock, lambda: not ports.batch_times and clock.now() > 1_010)
    ports.fail_frames = None
    await run_until(clock, lambda: bool(events_of(session, CycleEnded)))
    await session.stop()


async def test_stop_releases_what_was_held_and_ends_the_log() -> None:
    session, ports, clock = session_on_clock(enable_tts=False, stream_delay_init_s=10.0)
    session.start()
    await run_until(clock, lambda: len(ports.requests) >= 1 and clock.now() > 1_002)
    assert not events_of(session, CommentaryText), "held for the picture"
    await session.stop()
    assert "".join(e.text for e in events_of(session, CommentaryText))
    last = session.events.since(-1)[-1]
    assert isinstance(last, StateChanged) and last.state is StreamState.STOPPED


# --- real engines -----------------------------------------------------------------------


class EnginePorts:
    """The engines themselves as ports (no Ray): what the gateway wires to Serve handles."""

    def __init__(self, capture: StreamCapture, describer: Describer, voice: Voice) -> None:
        self.capture, self.describer, self.voice = capture, describer, voice
        self.speech: list[SpeechRequest] = []

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        return IngestSnapshot(self.capture.take_batch(repeat_ok), self.capture.state)

    async def describe(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]:
        async for item in iterate_in_thread(lambda: self.describer.describe(request)):
            yield item

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        self.speech.append(request)
        async for chunk in iterate_in_thread(lambda: self.voice.synthesize(request)):
            yield chunk

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        self.capture.display_delay_s = delay_s


async def test_real_frames_and_a_real_voice_make_text_and_speech(tmp_path: Path) -> None:
    clip = write_counter_clip(tmp_path / "c.mp4", seconds=4.0)
    settings = StreamSettings(stream_delay_init_s=1.0, inference_interval_s=0.2)
    capture = StreamCapture("s", parse_source(str(clip)), settings, open_timeout_s=5)
    capture.start()
    ports = EnginePorts(capture, SyntheticDescriber(0.2, 0.05), EspeakVoice())
    session = StreamSession("s", settings, ports, VoiceInput.TEXT, describer_speaks=False)
    session.start()
    try:
        for _ in range(300):  # until two cycles ended, at most 30 s
            if len(events_of(session, CycleEnded)) >= 2:
                break
            await asyncio.sleep(0.1)
    finally:
        await session.stop()
        capture.stop()
    ends = events_of(session, CycleEnded)
    assert len(ends) >= 2 and capture.display_delay_s == session.delay.target_delay_s
    for end in ends:
        pieces = [e.text for e in events_of(session, CommentaryText) if e.cycle == end.cycle]
        assert "".join(pieces) == end.text
    audio = events_of(session, AudioChunk)
    assert audio and sum(a.duration_s for a in audio) > 1.0
    assert all(
        p.piece == i
        for i, p in enumerate(
            r for r in ports.speech if r.utterance_id == ports.speech[0].utterance_id
        )
    )


async def test_a_dead_vocoder_never_stops_the_text_and_speech_comes_back_by_itself() -> None:
    session, ports, clock = session_on_clock(speech_timeout_s=2.0)
    ports.hang_voice = True
    session.start()
    await run_until(clock, lambda: len(events_of(session, CycleEnded)) >= 2)
    ends = events_of(session, CycleEnded)
    assert all("sent nothing for 2 s" in e.speech_skipped for e in ends)
    assert all(e.text == "A red car turns left. It stops." for e in ends), "text went out"
    assert not events_of(session, AudioChunk)
    ports.hang_voice = False  # the Vocoder is back
    await run_until(clock, lambda: bool(events_of(session, AudioChunk)))
    await run_until(clock, lambda: not events_of(session, CycleEnded)[-1].speech_skipped)
    await session.stop()


async def test_a_question_still_waiting_when_the_stream_is_deleted_is_told_so() -> None:
    session, ports, _ = session_on_clock()
    ports.state = StreamState.STARTING  # no frames: the question waits in the queue
    pending = asyncio.ensure_future(anext(aiter(session.ask("Still there?"))))
    await settle()
    await session.stop()
    with pytest.raises(RuntimeError, match="deleted"):
        await pending
