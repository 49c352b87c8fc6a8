"""Cycle: one cycle's text is held until its frames are on screen, ends with its outcome."""

import asyncio

import pytest

from models.messages import Intensity, VoiceInput
from serve_app.clock import ManualClock
from serve_app.messages import CommentaryText, CycleEnded, CycleStarted
from serve_app.session.cycle import Cycle, CycleContext
from serve_app.session.event_log import EventLog
from serve_app.session.question import Question
from serve_app.session.releases import Releases
from serve_app.settings import StreamSettings
from serve_app.speech.audio_clock import AudioClock
from serve_app.sync.display_delay import DisplayDelay
from tests.support.scripted_ports import ScriptedPorts, run_until, settle, window_batch


class Harness:
    def __init__(self, delay_s: float = 2.0, think_s: float = 0.6, **settings: object) -> None:
        self.clock = ManualClock()
        self.ports = ScriptedPorts(self.clock, think_s=think_s)
        self.settings = StreamSettings(stream_delay_init_s=delay_s, enable_tts=False, **settings)
        self.log = EventLog(clock=self.clock)
        self.releases = Releases(self.log, self.clock)

    def cycle(self, question: Question | None = None) -> Cycle:
        ctx = CycleContext(
            stream_id="s",
            settings=self.settings,
            ports=self.ports,
            clock=self.clock,
            delay=DisplayDelay(self.settings),
            releases=self.releases,
            audio_clock=AudioClock(48_000),
            speech=False,
            voice_input=VoiceInput.TEXT,
            describer_speaks=False,
        )
        return Cycle(ctx, 1, window_batch(self.clock), Intensity.BRIEF, question)

    def released(self, kind: type) -> list:
        return [e for e in self.log.since(-1) if isinstance(e, kind)]


async def test_text_ready_early_is_held_until_its_newest_frame_is_on_screen() -> None:
    h = Harness(delay_s=2.0, think_s=0.6)
    runner = asyncio.create_task(h.releases.run())
    cycle = h.cycle()
    shown_at = cycle.anchor.capture_wall + 2.0
    run = asyncio.create_task(cycle.run())
    await run_until(h.clock, run.done)
    outcome = run.result()
    assert outcome.text == "A red car turns left. It stops."
    assert outcome.latency_s == pytest.approx(0.6, abs=0.06)
    assert not outcome.late
    assert h.released(CycleStarted) and not h.released(CommentaryText), "held until shown"
    await run_until(h.clock, lambda: bool(h.released(CycleEnded)))
    texts = h.released(CommentaryText)
    assert "".join(t.text for t in texts) == outcome.text
    assert all(t.wall_ts == pytest.approx(shown_at, abs=0.06) for t in texts)
    runner.cancel()


async def test_a_cycle_slower_than_the_delay_is_late_and_goes_out_at_once() -> None:
    h = Harness(delay_s=0.5, think_s=1.5)
    runner = asyncio.create_task(h.releases.run())
    run = asyncio.create_task(h.cycle().run())
    await run_until(h.clock, run.done)
    assert run.result().late
    await settle()
    end = h.released(CycleEnded)[0]
    assert end.late and end.lateness_s == pytest.approx(1.0, abs=0.06)
    assert all(t.late for t in h.released(CommentaryText))
    runner.cancel()


async def test_a_skip_answer_ends_as_a_skip_that_does_not_teach_the_delay() -> None:
    h = Harness()
    h.ports.answer = ("..", ".")
    run = asyncio.create_task(h.cycle().run())
    await run_until(h.clock, run.done)
    outcome = run.result()
    assert outcome.skip and outcome.delay_sample is None
    assert outcome.latency_s is not None, "its latency still shows in the stats"


async def test_a_failed_cycle_keeps_what_was_said_and_says_why() -> None:
    h = Harness()
    h.ports.fail_describe = RuntimeError("CUDA out of memory")
    cycle = h.cycle()
    run = asyncio.create_task(cycle.run())
    await run_until(h.clock, run.done)
    with pytest.raises(RuntimeError):
        run.result()
    outcome = cycle.fail("RuntimeError: CUDA out of memory")
    h.releases.flush()
    end = h.released(CycleEnded)[0]
    assert end.text == "A red car turns left. " and "CUDA" in end.error
    assert outcome.delay_sample is None


async def test_an_answer_to_a_question_streams_to_the_asker_and_is_not_held() -> None:
    h = Harness(delay_s=5.0)
    runner = asyncio.create_task(h.releases.run())
    question = Question("What colour is the car?")
    cycle = h.cycle(question)
    run = asyncio.create_task(cycle.run())
    await run_until(h.clock, run.done)
    await settle()
    assert "What colour is the car?" in h.ports.requests[0].instruction
    assert h.ports.requests[0].question == "What colour is the car?"
    pieces = [question.answer.get_nowait() for _ in range(question.answer.qsize())]
    assert "".join(pieces) == "A red car turns left. It stops."
    assert h.released(CommentaryText), "answers go out at once, not with the picture"
    assert h.released(CycleEnded)[0].kind == "answer"
    runner.cancel()


async def test_the_request_carries_the_prompt_hint_frames_and_token_cap() -> None:
    h = Harness(max_new_tokens=33, language="de")
    request = h.cycle().request()
    assert request.hint is Intensity.BRIEF and request.max_new_tokens == 33
    assert [f.media_ts_s for f in request.frames] == [10.0, 10.5, 11.0, 11.5]
    assert request.instruction.endswith("Answer in German.")
    assert "'...'" in request.instruction and not request.speech
