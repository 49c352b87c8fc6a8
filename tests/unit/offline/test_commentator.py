"""OfflineCommentator: the service's Cycle on the media clock, lines and speech placed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deployments.backend_choice import BackendChoice
from models.messages import DescribeRequest, DescriberOutput, VoiceInput
from offline.commentator import OfflineCommentator
from offline.engines import Engines, InProcessPorts
from serve_app.ingest.inference_window import InferenceWindow
from serve_app.settings import Backend, StreamSettings, VoiceBackend
from tests.unit.offline.fakes import ScriptedDescriber, ToneVoice, frame_at

CHOICE = BackendChoice(
    Backend.EMBEDDED, VoiceBackend.ESPEAK, "test", False, False, VoiceInput.TEXT, False
)


def commentator(
    describer: ScriptedDescriber, voice: ToneVoice | None, **settings: object
) -> OfflineCommentator:
    engines = Engines(choice=CHOICE, describer=describer, voice=voice)
    return OfflineCommentator(
        "offline",
        StreamSettings().with_overrides(settings),
        InProcessPorts(engines),
        engines.voice_input,
        describer_speaks=False,
    )


async def cycle_on(c: OfflineCommentator, window: InferenceWindow, t: float, at: float) -> None:
    window.push(frame_at(t, shade=int(t * 20)))
    batch = window.take_batch()
    assert batch is not None
    await c.run_cycle(batch, at)


async def test_a_line_is_shown_and_spoken_at_its_newest_frame() -> None:
    voice = ToneVoice(seconds_per_word=0.25)
    c = commentator(ScriptedDescriber(["A bar moves right."]), voice)
    window = InferenceWindow(32, 4, 2)
    for t in (1.0, 1.5):
        window.push(frame_at(t))
    await cycle_on(c, window, 2.0, at=2.3)
    [line] = c.lines
    assert line.text == "A bar moves right."
    assert line.media_ts_s == 2.0  # not the cycle's start (2.3): its newest frame
    assert line.media_start_s == 1.0  # every 2nd frame (FRAME_STRIDE), oldest first
    assert line.speech_start_s == 2.0
    # Four words of 0.25 s, resampled to the output rate (the resampler's tail included).
    assert line.speech_s == pytest.approx(1.0, abs=0.01)
    assert voice.requests[-1].final


async def test_speech_starts_when_the_previous_ends_never_over_it() -> None:
    c = commentator(
        ScriptedDescriber(["one two three four five six seven eight", "Then this."]),
        ToneVoice(seconds_per_word=0.5),
    )
    window = InferenceWindow(32, 4, 2)
    await cycle_on(c, window, 0.0, at=0.0)
    await cycle_on(c, window, 1.0, at=1.0)
    first, second = c.lines
    assert first.speech_end_s == pytest.approx(4.0, abs=0.01)
    assert second.media_ts_s == 1.0  # the line is still shown on its own frame
    assert second.speech_start_s == pytest.approx(first.speech_end_s)


async def test_run_cycle_says_when_the_speech_ends() -> None:
    c = commentator(ScriptedDescriber(["one two"]), ToneVoice(seconds_per_word=0.5))
    window = InferenceWindow(32, 4, 2)
    window.push(frame_at(3.0))
    batch = window.take_batch()
    assert batch is not None
    assert await c.run_cycle(batch, 3.0) == pytest.approx(4.0, abs=0.01)


async def test_a_skip_answer_makes_no_line_and_no_sound() -> None:
    voice = ToneVoice()
    c = commentator(ScriptedDescriber(["...", "…"]), voice)
    window = InferenceWindow(32, 4, 2)
    await cycle_on(c, window, 0.0, at=0.0)
    await cycle_on(c, window, 1.0, at=1.0)
    assert c.lines == []
    assert c.skipped == 2
    assert voice.requests == []
    assert c.audio_clock.total_samples == 0


async def test_speech_off_gives_lines_without_audio() -> None:
    c = commentator(ScriptedDescriber(["A bar moves right."]), ToneVoice(), enable_tts=False)
    window = InferenceWindow(32, 4, 2)
    await cycle_on(c, window, 0.5, at=0.5)
    [line] = c.lines
    assert line.speech_start_s is None and line.speech.size == 0


async def test_without_a_voice_speech_is_off() -> None:
    c = commentator(ScriptedDescriber(["Hello there."]), None)
    assert not c.speech_on


async def test_the_request_is_the_service_cycles_request() -> None:
    describer = ScriptedDescriber(["Fine."])
    c = commentator(describer, ToneVoice(), language="de", instruction="Say what you see.")
    window = InferenceWindow(32, 4, 2)
    for t in (0.0, 0.5, 1.0, 1.5):
        window.push(frame_at(t))
    await cycle_on(c, window, 2.0, at=2.0)
    [request] = describer.requests
    assert [f.media_ts_s for f in request.frames] == [0.0, 1.0, 2.0]
    assert request.instruction.startswith("Say what you see.")
    assert "German" in request.instruction
    assert request.max_new_tokens == c.settings.tts_max_new_tokens
    assert request.stream_id == "offline"


async def test_a_failed_cycle_is_counted_and_the_run_goes_on() -> None:
    c = commentator(ScriptedDescriber([RuntimeError("model fell over"), "Back again."]), None)
    window = InferenceWindow(32, 4, 2)
    await cycle_on(c, window, 0.0, at=0.0)
    await cycle_on(c, window, 1.0, at=1.0)
    assert len(c.errors) == 1 and "model fell over" in c.errors[0]
    assert [line.text for line in c.lines] == ["Back again."]


class FailingAfter(ScriptedDescriber):
    """Says its first words, then fails: a model that falls over mid-answer."""

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        yield from super().describe(request)
        raise RuntimeError("lost the GPU")


async def test_what_a_failed_cycle_already_said_stays_said() -> None:
    c = commentator(FailingAfter(["A bar moves right."]), ToneVoice())
    window = InferenceWindow(32, 4, 2)
    await cycle_on(c, window, 0.0, at=0.0)
    [line] = c.lines
    assert line.text == "A bar moves right." and len(c.errors) == 1
    assert c.skipped == 0


class FailingOnceAfter(ScriptedDescriber):
    """Says its first answer, then fails; answers normally from then on."""

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        first = not self.requests
        yield from super().describe(request)
        if first:
            raise RuntimeError("lost the GPU")


async def test_cycle_numbers_count_a_cycle_that_failed_after_speaking_once() -> None:
    c = commentator(FailingOnceAfter(["A bar moves right.", "Then this."]), None)
    window = InferenceWindow(32, 4, 2)
    await cycle_on(c, window, 0.0, at=0.0)
    await cycle_on(c, window, 1.0, at=1.0)
    assert [line.text for line in c.lines] == ["A bar moves right.", "Then this."]
    assert [line.cycle for line in c.lines] == [1, 2]
    assert len(c.errors) == 1 and c.cycles == 2
