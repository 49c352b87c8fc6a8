"""HfVlmDescriber: any Hugging Face image-text-to-text model as a describer.

Loads a local model directory with ``AutoProcessor`` and ``AutoModelForImageTextToText``
(LLaVA, Qwen2-VL / Qwen2.5-VL, SmolVLM, Gemma 3, … anything whose processor has a chat
template that takes ``{"type": "image"}`` items). Each cycle's frames go in as separate
images, oldest first, followed by the instruction (a viewer's question is already in it); the
answer streams out token by token through transformers' ``TextIteratorStreamer``.

Greedy decoding (``do_sample=False``): commentary should not wander between runs, and a
benchmark of the same clip should give the same answer.

torch and transformers are imported inside functions only, so this module imports on the
default (CPU, embedded) install; they come with the ``hf`` extra.
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.messages import SKIP_ANSWER, DescribeRequest, DescriberOutput, TextDelta


@dataclass(frozen=True, slots=True)
class GenerationStats:
    """What one ``describe`` call cost, readable once its generator has ended.

    ``prompt_tokens`` counts the whole prompt, image tokens included; ``new_tokens`` the
    tokens generated (special tokens too, though they are not shown). ``ttft_s`` runs from
    the call to the first generated token (JPEG decode and preprocessing included) and is
    None when no token came; ``total_s`` runs to the end of generation. ``cancelled`` is
    true when the caller closed the generator before the answer was complete.
    """

    stream_id: str
    images: int
    prompt_tokens: int
    new_tokens: int
    preprocess_s: float
    ttft_s: float | None
    total_s: float
    cancelled: bool = False

    @property
    def tokens_per_s(self) -> float | None:
        """Decode speed after the first token (None with fewer than two tokens)."""
        if self.ttft_s is None or self.new_tokens < 2 or self.total_s <= self.ttft_s:
            return None
        return (self.new_tokens - 1) / (self.total_s - self.ttft_s)

    def __str__(self) -> str:
        ttft = "-" if self.ttft_s is None else f"{self.ttft_s * 1000:.0f} ms"
        return (
            f"{self.stream_id}: {self.images} images, {self.prompt_tokens} prompt + "
            f"{self.new_tokens} new tokens, ttft {ttft}, total {self.total_s * 1000:.0f} ms"
        )


class HfVlmDescriber:
    """A describer around an already loaded transformers model and processor.

    Build it with :meth:`from_pretrained` from a local directory, or inject a model and
    processor (tests, or a caller that loaded them its own way). ``min_new_tokens`` forces
    at least that many tokens before end-of-sequence may stop the answer; 0 (the default)
    lets the model stop when it likes. Calls are serialised: one model, one generation at
    a time (a second caller waits for the first answer to end).
    """

    name = "hf"

    def __init__(
        self,
        model: Any,
        processor: Any,
        *,
        min_new_tokens: int = 0,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        if min_new_tokens < 0:
            raise ValueError(f"min_new_tokens must be >= 0, got {min_new_tokens}")
        tokenizer = getattr(processor, "tokenizer", None)
        if tokenizer is None:
            raise ValueError(f"processor {type(processor).__name__} has no tokenizer")
        self.model = model
        self.processor = processor
        self.tokenizer = tokenizer
        self.min_new_tokens = min_new_tokens
        self._clock = clock
        self._lock = threading.Lock()
        self._stats: dict[str, GenerationStats] = {}
        self.last_stats: GenerationStats | None = None
        """Stats of the most recent call to end, whichever stream it was for."""

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        device: str = "auto",
        dtype: Any = "auto",
        *,
        trust_remote_code: bool = False,
        min_new_tokens: int = 0,
    ) -> HfVlmDescriber:
        """Load a model directory (no download: ``local_files_only``).

        ``device`` is "cpu", "cuda", "cuda:N" or "auto" (CUDA when torch sees a GPU).
        ``dtype`` is "auto" (what the checkpoint says), a torch dtype, or its name
        ("bfloat16", "float16", "float32"). ``trust_remote_code`` stays off unless the
        model needs its own code and you trust the directory.
        """
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        path = Path(path)
        if not (path / "config.json").is_file():
            raise FileNotFoundError(
                f"no Hugging Face model at '{path}' (config.json missing); download it "
                "there first, e.g. `hf download <repo> --local-dir <path>`"
            )
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if isinstance(dtype, str) and dtype != "auto":
            dtype = getattr(torch, dtype)
        processor = AutoProcessor.from_pretrained(
            path, local_files_only=True, trust_remote_code=trust_remote_code
        )
        model = AutoModelForImageTextToText.from_pretrained(
            path,
            local_files_only=True,
            trust_remote_code=trust_remote_code,
            **{_dtype_keyword(): dtype},
        )
        model = model.to(device).eval()
        return cls(model, processor, min_new_tokens=min_new_tokens)

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        """Stream the answer as :class:`TextDelta` pieces; ``"..."`` if it was blank.

        Leading whitespace is held back, so a blank answer yields only the skip answer.
        Errors in generation are raised here, after the generation thread has ended.
        Closing the generator early stops generation at the next token.
        """
        with self._lock:
            yield from self._describe(request)

    def stats_for(self, stream_id: str) -> GenerationStats | None:
        """Stats of the last call for ``stream_id`` that has ended."""
        return self._stats.get(stream_id)

    def close_stream(self, stream_id: str) -> None:
        self._stats.pop(stream_id, None)

    # -- internals -------------------------------------------------------------------

    def _describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        started = self._clock()
        inputs = self._prepare(request)
        prompt_tokens = int(inputs["input_ids"].shape[-1])
        preprocess_s = self._clock() - started

        streamer = _timed_streamer(self.tokenizer, self._clock)
        cancel = threading.Event()
        failure: list[BaseException] = []
        kwargs: dict[str, Any] = dict(
            inputs,
            max_new_tokens=request.max_new_tokens,
            do_sample=False,
            streamer=streamer,
            stopping_criteria=_cancel_criteria(cancel),
        )
        if self.min_new_tokens:
            kwargs["min_new_tokens"] = min(self.min_new_tokens, request.max_new_tokens)

        def generate() -> None:
            try:
                self.model.generate(**kwargs)
            except BaseException as error:  # re-raised in the caller's thread
                failure.append(error)
                _end_quietly(streamer)

        thread = threading.Thread(target=generate, name=f"hf-generate-{request.stream_id}")
        thread.start()
        finished = said_something = False
        held = ""  # leading whitespace, held until real text follows
        try:
            for piece in streamer:
                if not said_something:
                    held += piece
                    if not held.strip():
                        continue
                    piece, said_something = held.lstrip(), True
                if piece:
                    yield TextDelta(piece)
            finished = True
        finally:
            cancel.set()
            thread.join()
            ended = self._clock()
            ttft_s = None if streamer.first_token_at is None else streamer.first_token_at - started
            stats = GenerationStats(
                stream_id=request.stream_id,
                images=len(request.frames),
                prompt_tokens=prompt_tokens,
                new_tokens=streamer.new_tokens,
                preprocess_s=preprocess_s,
                ttft_s=ttft_s,
                total_s=ended - started,
                cancelled=not finished,
            )
            self._stats[request.stream_id] = stats
            self.last_stats = stats
        if failure:
            raise failure[0]
        if not said_something:
            yield TextDelta(SKIP_ANSWER)

    def _prepare(self, request: DescribeRequest) -> Any:
        """JPEG frames and text → model inputs (a BatchFeature) on the model's device."""
        import torch

        images = [_decode_jpeg(frame.jpeg) for frame in request.frames]
        text = request.instruction  # the whole prompt, question included (the gateway's)
        content: list[dict[str, str]] = [{"type": "image"} for _ in images]
        content.append({"type": "text", "text": text})
        prompt = self.processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=False
        )
        inputs = self.processor(text=prompt, images=images or None, return_tensors="pt")
        inputs = inputs.to(self.model.device)
        # Pixel values (and any other float input) follow the model's dtype; ids stay ints.
        for key, value in inputs.items():
            if isinstance(value, torch.Tensor) and torch.is_floating_point(value):
                inputs[key] = value.to(self.model.dtype)
        return inputs


def _decode_jpeg(jpeg: bytes) -> Any:
    from PIL import Image

    with Image.open(io.BytesIO(jpeg)) as image:
        return image.convert("RGB")


def _dtype_keyword() -> str:
    """transformers 4.56 renamed from_pretrained's ``torch_dtype`` to ``dtype``."""
    import transformers
    from packaging.version import Version

    return "dtype" if Version(transformers.__version__) >= Version("4.56") else "torch_dtype"


def _end_quietly(streamer: Any) -> None:
    """Unblock the consumer after a failed generate: flush and send the stop signal."""
    try:
        streamer.end()
    except Exception:
        streamer.text_queue.put(streamer.stop_signal)


def _timed_streamer(tokenizer: Any, clock: Callable[[], float]) -> Any:
    """A TextIteratorStreamer that also counts generated tokens and times the first."""
    from transformers import TextIteratorStreamer

    class TimedStreamer(TextIteratorStreamer):
        def __init__(self) -> None:
            super().__init__(tokenizer, skip_prompt=True, skip_special_tokens=True)
            self.first_token_at: float | None = None
            self.new_tokens = 0
            self._prompt_seen = False

        def put(self, value: Any) -> None:
            # generate() puts the prompt once, then each new token (batch of one).
            if self._prompt_seen:
                if self.first_token_at is None:
                    self.first_token_at = clock()
                self.new_tokens += int(value.shape[-1]) if value.dim() > 1 else 1
            self._prompt_seen = True
            super().put(value)

    return TimedStreamer()


def _cancel_criteria(cancel: threading.Event) -> Any:
    """Stopping criteria that end generation once ``cancel`` is set (caller went away)."""
    import torch
    from transformers import StoppingCriteria, StoppingCriteriaList

    class StopWhenCancelled(StoppingCriteria):
        def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
            return torch.full(
                (input_ids.shape[0],), cancel.is_set(), dtype=torch.bool, device=input_ids.device
            )

    return StoppingCriteriaList([StopWhenCancelled()])
