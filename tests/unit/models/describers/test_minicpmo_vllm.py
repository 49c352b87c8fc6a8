"""MiniCPMOVllmDescriber against a stand-in of vLLM 0.26's AsyncLLM (tests/fixtures/fake_vllm.py).

The stand-in keeps vLLM's contract: rendered engine inputs, DELTA outputs, abort on cancel, a
continuous batch stepping every running request together, and a prefix cache count.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import cv2
import pytest

from models.describers.base import AsyncDescriber
from models.describers.frame_prep import SLICE_SIDE_PX
from models.describers.minicpmo_vllm import (
    IMAGE_PLACEHOLDER,
    MiniCPMOSampling,
    MiniCPMOVllmDescriber,
)
from models.messages import DescribeRequest, Intensity, TextDelta, TimedFrame
from tests.fixtures.fake_vllm import (
    FAKE_API,
    VOCAB,
    EngineDeadError,
    FakeAsyncLLM,
    RequestOutputKind,
    scripted_answer,
)
from tests.support.fixture_video import draw_frame
from tests.unit.models.loading.test_vllm_engine import write_model_dir


def frames(n: int = 4) -> tuple[TimedFrame, ...]:
    out = []
    for i in range(n):
        ok, data = cv2.imencode(".jpg", cv2.resize(draw_frame(i), (1280, 720)))
        assert ok
        out.append(TimedFrame(data.tobytes(), i * 0.5))
    return tuple(out)


def request(stream: str = "s", question: str | None = None, max_new: int = 40) -> DescribeRequest:
    return DescribeRequest(
        stream_id=stream,
        frames=frames(),
        hint=Intensity.BRIEF,
        instruction="Comment on these frames.",
        max_new_tokens=max_new,
        question=question,
    )


def make(
    tmp_path: Path, step_s: float = 0.004, **kwargs: object
) -> tuple[MiniCPMOVllmDescriber, FakeAsyncLLM]:
    engine = FakeAsyncLLM({"limit_mm_per_prompt": {"image": 4}}, scripted_answer, step_s)
    describer = MiniCPMOVllmDescriber(engine, engine.tokenizer, FAKE_API, **kwargs)  # type: ignore[arg-type]
    return describer, engine


async def answer(describer: MiniCPMOVllmDescriber, req: DescribeRequest) -> str:
    parts = []
    async for item in describer.describe_async(req):
        assert isinstance(item, TextDelta) and item.text
        parts.append(item.text)
    return "".join(parts)


async def test_a_cycle_streams_its_answer_from_one_rendered_request(tmp_path: Path) -> None:
    describer, engine = make(tmp_path)
    assert isinstance(describer, AsyncDescriber)
    assert await answer(describer, request()) == "A rabbit steps out of its burrow."
    prompt = engine.stats.prompts[0]
    assert prompt.count(IMAGE_PLACEHOLDER) == 4 and "Comment on these frames." in prompt
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert engine.stats.raw_prompts == 0, "prompts go through the renderer, off the event loop"
    assert 0 < engine.stats.largest_image_area <= SLICE_SIDE_PX**2


async def test_sampling_is_delta_capped_and_stops_on_minicpmo_terminators(tmp_path: Path) -> None:
    describer, engine = make(tmp_path, sampling=MiniCPMOSampling(repetition_penalty=1.05))
    await answer(describer, request(max_new=25))
    params = engine.stats.params[0]
    assert params.output_kind is RequestOutputKind.DELTA
    assert (params.max_tokens, params.min_tokens, params.n) == (25, 0, 1)
    assert (params.temperature, params.top_p, params.top_k) == (0.7, 0.8, 100)
    assert params.repetition_penalty == 1.05 and params.skip_special_tokens
    assert set(params.stop_token_ids) == {
        VOCAB["<|im_end|>"],
        VOCAB["<|tts_eos|>"],
        VOCAB["<|endoftext|>"],
    }


async def test_min_new_tokens_fixes_the_answer_length_for_benchmarks(tmp_path: Path) -> None:
    describer, engine = make(tmp_path, sampling=MiniCPMOSampling(min_new_tokens=40))
    text = await answer(describer, request(max_new=12))
    assert engine.stats.params[0].min_tokens == 12  # never above the cap
    assert len(text.split()) == 12


async def test_every_stream_is_in_flight_in_one_batch(tmp_path: Path) -> None:
    # Each answer takes 40 steps of 20 ms: far longer than preparing the others' frames.
    describer, engine = make(tmp_path, step_s=0.02, sampling=MiniCPMOSampling(min_new_tokens=40))
    answers = await asyncio.gather(*(answer(describer, request(f"s{i}")) for i in range(8)))
    assert len(set(answers)) == 1
    assert engine.stats.peak_batch == 8


async def test_history_is_sent_again_and_its_prefix_is_reused(tmp_path: Path) -> None:
    describer, engine = make(tmp_path)
    first = await answer(describer, request())
    second = await answer(describer, request())
    await answer(describer, request())
    assert second == "..."  # the script alternates, by the number of earlier turns
    prompt = engine.stats.prompts[1]
    assert f"<|im_start|>assistant\n{first}<|im_end|>" in prompt
    assert prompt.count(IMAGE_PLACEHOLDER) == 4, "earlier turns keep their words, not frames"
    # Cycle 3 repeats cycle 2's prompt up to the end of turn 1 (both hold it as text): all of
    # that is a prefix-cache hit.
    turn_one = prompt[: prompt.index("<|im_start|>user", 1)]
    assert engine.stats.cached_tokens[2] >= len(engine.tokenizer.encode(turn_one))
    other = await answer(describer, request("other"))
    assert other == first, "another stream has its own history"


async def test_history_starts_afresh_after_its_bound(tmp_path: Path) -> None:
    describer, engine = make(tmp_path, context_max_cycles=2)
    for _ in range(3):
        await answer(describer, request())
    assert engine.stats.prompts[2].count("<|im_start|>assistant") == 1  # only the new turn
    describer.close_stream("s")
    await answer(describer, request())
    assert engine.stats.prompts[3].count("<|im_start|>assistant") == 1


async def test_a_question_is_asked_in_the_user_turn(tmp_path: Path) -> None:
    describer, engine = make(tmp_path)
    asked = DescribeRequest(
        "s", frames(), Intensity.BRIEF, "A viewer asks: What animal is it?", 40, question="?"
    )
    text = await answer(describer, asked)
    user_turn = engine.stats.prompts[0].rsplit("<|im_start|>user\n", 1)[1]
    assert (
        user_turn.startswith(IMAGE_PLACEHOLDER) and "A viewer asks: What animal is it?" in user_turn
    )
    assert text.startswith("The viewer asked")


async def test_leaving_early_aborts_the_request_and_keeps_no_turn(tmp_path: Path) -> None:
    describer, engine = make(tmp_path)
    stream = describer.describe_async(request())
    assert isinstance(await anext(stream), TextDelta)
    await stream.aclose()
    assert engine.stats.aborted == ["s-1"]
    await answer(describer, request())
    assert engine.stats.prompts[1].count("<|im_start|>assistant") == 1


async def test_a_dead_engine_fails_the_cycle_and_the_health_check(tmp_path: Path) -> None:
    describer, engine = make(tmp_path)
    await describer.check_health()
    engine.kill()
    with pytest.raises(EngineDeadError):
        await answer(describer, request())
    with pytest.raises(EngineDeadError):
        await describer.check_health()


async def test_the_factory_builds_it_from_settings_with_the_real_checks(tmp_path: Path) -> None:
    from deployments.engine_factory import build_describer
    from serve_app.settings import Backend, load_settings

    settings = load_settings(
        {
            "backend": "minicpmo",
            "model_path": str(write_model_dir(tmp_path)),
            "minicpmo_engine_factory": "tests.fixtures.fake_vllm:start_fake_engine",
            "vllm_max_num_seqs": 64,
            "vllm_renderer_threads": 2,
        }
    )
    describer = build_describer(settings, Backend.MINICPMO)
    assert isinstance(describer, MiniCPMOVllmDescriber)
    args = describer._engine.args
    assert (args["max_num_seqs"], args["renderer_num_workers"], args["mm_processor_cache_gb"]) == (
        64,
        2,
        0,
    )
    assert args["limit_mm_per_prompt"] == {"image": 32, "video": 0, "audio": 0}
    assert args["dtype"] == "bfloat16" and args["mm_processor_kwargs"] == {"max_slice_nums": 1}
