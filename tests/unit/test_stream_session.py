"""StreamSession driven end to end in-process: a real capture, real engines, a real clock.

The ports here are the engines themselves (no Ray), exactly what the gateway deployment
wires to Serve handles.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import numpy as np
import pytest

from deployments.threaded_iter import iterate_in_thread
from models.describers.base import Describer
from models.describers.synthetic import SyntheticDescriber
from models.messages import DescribeRequest, DescriberOutput, SpeechRequest, TextDelta, VoiceInput
from models.voices.base import Voice
from models.voices.espeak import EspeakVoice
from serve_app.ingest.capture_loop import StreamCapture
from serve_app.messages import AudioChunk, CommentaryText, CycleEnded, DelayChanged, IngestSnapshot
from serve_app.session.stream_session import StreamSession
from serve_app.settings import StreamSettings
from serve_app.sources.source_spec import parse_source
from tests.support.fixture_video import write_counter_clip


class EnginePorts:
    def __init__(self, capture: StreamCapture, describer: Describer, voice: Voice) -> None:
        self.capture, self.describer, self.voice = capture, describer, voice
        self.requests: list[DescribeRequest] = []
        self.speech: list[SpeechRequest] = []

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        return IngestSnapshot(self.capture.take_batch(repeat_ok), self.capture.state)

    async def describe(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]:
        self.requests.append(request)
        async for item in iterate_in_thread(lambda: self.describer.describe(request)):
            yield item

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        self.speech.append(request)
        async for chunk in iterate_in_thread(lambda: self.voice.synthesize(request)):
            yield chunk

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        self.capture.display_delay_s = delay_s


class SkippingDescriber:
    """Answers the skip answer, in pieces, as a model with nothing to say does."""

    name = "skipper"
    emits_speech = False

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        yield TextDelta("..")
        yield TextDelta(".")

    def close_stream(self, stream_id: str) -> None:
        pass


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_counter_clip(tmp_path_factory.mktemp("clip") / "c.mp4", seconds=4.0)


async def run_session(
    clip: Path, describer: Describer, seconds: float, **overrides: object
) -> tuple[StreamSession, EnginePorts]:
    settings = StreamSettings(
        **{"stream_delay_init_s": 1.0, "inference_interval_s": 0.2, **overrides}
    )
    capture = StreamCapture("s", parse_source(str(clip)), settings, open_timeout_s=5)
    capture.start()
    ports = EnginePorts(capture, describer, EspeakVoice())
    session = StreamSession("s", settings, ports, VoiceInput.TEXT, describer_speaks=False)
    capture.display_delay_s = session.delay.target_delay_s
    session.start()
    await asyncio.sleep(seconds)
    await session.stop()
    capture.stop()
    return session, ports


def events_of(session: StreamSession, kind: type) -> list:
    return [e for e in session.events.since(-1) if isinstance(e, kind)]


async def test_cycles_produce_text_audio_and_a_delay_estimate(clip: Path) -> None:
    describer = SyntheticDescriber(latency_mean_s=0.3, latency_sigma=0.1)
    session, ports = await run_session(clip, describer, seconds=6.0, sync_policy="ema")
    ends = events_of(session, CycleEnded)
    assert len(ends) >= 2  # speech paces cycles: ~2.5 s of audio + 1 s pause each
    for end in ends:
        pieces = [e.text for e in events_of(session, CommentaryText) if e.cycle == end.cycle]
        assert "".join(pieces) == end.text
        assert end.latency_s > 0.3 * 0.5
    audio = events_of(session, AudioChunk)
    assert audio and sum(a.duration_s for a in audio) > 1.0
    assert events_of(session, DelayChanged), "the delay follows observed latency"
    assert ports.requests[0].frames[-1].media_ts_s >= ports.requests[0].frames[0].media_ts_s


async def test_speech_pieces_are_numbered_within_their_utterance(clip: Path) -> None:
    # Two sentences an answer: two pieces, 0 then 1, the last one final.
    describer = SyntheticDescriber(latency_mean_s=0.2, latency_sigma=0.05)
    _, ports = await run_session(clip, describer, seconds=5.0, sync_policy="ema")
    by_utterance: dict[str, list[SpeechRequest]] = {}
    for request in ports.speech:
        by_utterance.setdefault(request.utterance_id, []).append(request)
    utterances = list(by_utterance.values())
    for pieces in utterances:
        assert [p.piece for p in pieces] == list(range(len(pieces)))
    # Each ends with a final piece (stop() may cut the last one short).
    assert all(pieces[-1].final for pieces in utterances[:-1])
    assert any(len(pieces) >= 2 and pieces[-1].final for pieces in utterances)


async def test_held_results_are_released_when_their_frames_are_shown(clip: Path) -> None:
    describer = SyntheticDescriber(latency_mean_s=0.2, latency_sigma=0.05)
    session, _ = await run_session(clip, describer, seconds=5.0, enable_tts=False)
    texts = events_of(session, CommentaryText)
    assert texts
    # The last cycle may have been released early by stop(), which loses nothing said.
    for end in events_of(session, CycleEnded)[:-1]:
        if end.late:
            continue
        first = next(t for t in texts if t.cycle == end.cycle)
        # Ready early, held, and released as its newest frame came on screen.
        assert end.lateness_s < 0
        assert first.wall_ts == pytest.approx(end.shown_at, abs=0.05)
    on_time = [e for e in events_of(session, CycleEnded) if not e.late]
    assert len(on_time) >= len(events_of(session, CycleEnded)) - 1


async def test_a_skip_answer_makes_no_sound_and_leaves_the_delay_alone(clip: Path) -> None:
    session, ports = await run_session(clip, SkippingDescriber(), seconds=3.0)
    ends = events_of(session, CycleEnded)
    assert ends and all(e.skip for e in ends)
    assert events_of(session, AudioChunk) == []
    assert ports.speech == []
    assert events_of(session, DelayChanged) == []
    assert session.delay.target_delay_s == 1.0


async def test_a_failing_model_ends_cycles_with_errors_not_the_stream(clip: Path) -> None:
    class Broken:
        name, emits_speech = "broken", False

        def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
            yield TextDelta("Half an ans")
            raise RuntimeError("CUDA out of memory")

        def close_stream(self, stream_id: str) -> None:
            pass

    session, _ = await run_session(clip, Broken(), seconds=3.0, enable_tts=False)
    ends = events_of(session, CycleEnded)
    assert ends and "CUDA out of memory" in ends[0].error
    assert ends[0].text == "Half an ans", "what was said stays said"
    assert session.stats.errors >= 1


async def test_questions_get_their_own_prompt_and_cycles_carry_the_language(clip: Path) -> None:
    settings = StreamSettings(stream_delay_init_s=1.0, inference_interval_s=0.2, language="de")
    capture = StreamCapture("s", parse_source(str(clip)), settings, open_timeout_s=5)
    capture.start()
    ports = EnginePorts(capture, SyntheticDescriber(0.05, 0.0), EspeakVoice())
    session = StreamSession("s", settings, ports, VoiceInput.TEXT, describer_speaks=False)
    session.start()
    try:
        answer = ""
        for _ in range(100):  # a question needs frames: the capture may not have any yet
            try:
                answer = "".join([piece async for piece in session.ask("Wer ist das?")])
                break
            except RuntimeError as error:
                assert "no frames" in str(error)
                await asyncio.sleep(0.1)
    finally:
        await session.stop()
        capture.stop()
    assert answer
    asked = [r for r in ports.requests if r.question]
    plain = [r for r in ports.requests if not r.question]
    assert asked and "Wer ist das?" in asked[0].instruction
    assert "'...'" not in asked[0].instruction, "a question must be answered, never skipped"
    assert all(r.instruction.endswith("Answer in German.") for r in ports.requests)
    assert all("'...'" in r.instruction for r in plain)
