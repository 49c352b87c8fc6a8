"""MiniCPMOVllmDescriber: MiniCPM-o 4.5 on vLLM, every stream's cycles in one continuous batch.

Each cycle is one request to vLLM's ``AsyncLLM`` (V1): the stream's earlier turns as chat
history, then a user turn with the cycle's frames as PIL images and the instruction. Requests of
all streams are in flight together, so vLLM batches their prefill and decoding; the text streams
back in DELTA mode and leaves as :class:`TextDelta`. There is no lock around the engine: the
only thing serialised is a stream's own turns (its history must see one answer before the next).

The vLLM API used here (vllm 0.26.0): ``AsyncLLM.renderer.render_cmpl_async([prompt])`` turns a
text prompt with images into an engine input (tokenizer and image processor in the renderer's
thread pool, off the event loop); ``AsyncLLM.generate(engine_input, sampling_params,
request_id)`` yields ``RequestOutput`` (``prompt_token_ids``, ``outputs[0].text`` / ``.token_ids``,
``finished``), ``AsyncLLM.abort(request_id)``, ``AsyncLLM.check_health()``, and
``SamplingParams(..., output_kind=RequestOutputKind.DELTA)``. The names come in through
:class:`VllmApi` so the CPU tests can hand in stand-ins of the same shape
(tests/fixtures/fake_vllm.py cites the source lines).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from models.describers.answer_text import TERMINATORS, AnswerText
from models.describers.conversation import ConversationHistory, Turn
from models.describers.frame_prep import SLICE_SIDE_PX, TOKENS_PER_FRAME, decode_frames
from models.messages import DescribeRequest, DescriberOutput, TextDelta

log = logging.getLogger(__name__)

IMAGE_PLACEHOLDER = "(<image>./</image>)"
"""What vLLM's MiniCPM-V/O processor replaces with one image's tokens (one per frame)."""
PROMPT_OVERHEAD_TOKENS = 64  # chat-template markers around a turn, for the room estimate


@dataclass(frozen=True, slots=True)
class VllmApi:
    """The vLLM names the describer needs beyond the engine object itself."""

    sampling_params: Callable[..., Any]  # vllm.SamplingParams
    delta_output: Any  # vllm.sampling_params.RequestOutputKind.DELTA

    @classmethod
    def load(cls) -> VllmApi:
        from vllm import SamplingParams
        from vllm.sampling_params import RequestOutputKind

        return cls(SamplingParams, RequestOutputKind.DELTA)


@dataclass(frozen=True, slots=True)
class MiniCPMOSampling:
    """Sampling as MiniCPM-o's own streaming defaults (temperature 0.7, top-p 0.8, top-k 100).

    ``min_new_tokens`` holds terminators back until that many tokens exist; the service leaves
    it at 0, benchmarks set it to the cap so every answer has a known length.
    """

    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 100
    repetition_penalty: float = 1.02
    min_new_tokens: int = 0


def chat_messages(turns: Sequence[Turn], n_images: int, text: str) -> list[dict[str, str]]:
    """History, then the new user turn with one placeholder line per frame, oldest first."""
    messages: list[dict[str, str]] = []
    for turn in turns:
        messages.append({"role": "user", "content": turn.user_text})
        messages.append({"role": "assistant", "content": turn.answer})
    placeholders = "".join(f"{IMAGE_PLACEHOLDER}\n" for _ in range(n_images))
    messages.append({"role": "user", "content": placeholders + text})
    return messages


def terminator_ids(tokenizer: Any) -> list[int]:
    """Ids of the answer-ending tokens this tokenizer knows (vLLM stops on them too)."""
    vocab = tokenizer.get_vocab()
    return sorted({vocab[token] for token in TERMINATORS if token in vocab})


class MiniCPMOVllmDescriber:
    """AsyncDescriber over a started ``AsyncLLM`` (or a stand-in of the same shape)."""

    name = "minicpmo"

    def __init__(
        self,
        engine: Any,
        tokenizer: Any,
        api: VllmApi,
        *,
        sampling: MiniCPMOSampling | None = None,
        context_max_cycles: int = 8,
        context_max_tokens: int = 6144,
        slice_side_px: int = SLICE_SIDE_PX,
    ) -> None:
        self._engine = engine
        self._tokenizer = tokenizer
        self._api = api
        self._sampling = sampling or MiniCPMOSampling()
        self._context_bounds = (context_max_cycles, context_max_tokens)
        ConversationHistory(*self._context_bounds)  # validates the bounds now, not per stream
        self._slice_side_px = slice_side_px
        self._stop_token_ids = terminator_ids(tokenizer)
        self._histories: dict[str, ConversationHistory] = {}
        self._turn_locks: dict[str, asyncio.Lock] = {}
        self._request_ids = itertools.count(1)

    async def describe_async(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]:
        # JPEG decode and downscale in a worker thread: the event loop keeps feeding the engine.
        images = await asyncio.to_thread(
            decode_frames, [frame.jpeg for frame in request.frames], self._slice_side_px
        )
        text = request.instruction  # the whole prompt, question included (the gateway's)
        lock = self._turn_locks.setdefault(request.stream_id, asyncio.Lock())
        async with lock:
            history = self._history(request.stream_id)
            upcoming = len(images) * TOKENS_PER_FRAME + len(text) // 3 + request.max_new_tokens
            if history.make_room(upcoming + PROMPT_OVERHEAD_TOKENS):
                log.debug("stream %s: fresh context #%d", request.stream_id, history.generation)
            prompt = self._tokenizer.apply_chat_template(
                chat_messages(history.turns, len(images), text),
                tokenize=False,
                add_generation_prompt=True,
                enable_thinking=False,  # Qwen3-style templates: answer at once, no <think>
            )
            # Tokenising and the image processor run in the renderer's thread pool (vLLM's
            # own async path); handing generate() a raw prompt would run them on this loop.
            (engine_input,) = await self._engine.renderer.render_cmpl_async(
                [{"prompt": prompt, "multi_modal_data": {"image": images}}]
            )
            request_id = f"{request.stream_id}-{next(self._request_ids)}"
            answer = AnswerText()
            prompt_tokens = generated_tokens = 0
            finished = False
            outputs = self._engine.generate(
                engine_input, self._params(request.max_new_tokens), request_id
            )
            try:
                async with aclosing(outputs):
                    async for output in outputs:
                        if output.prompt_token_ids is not None:
                            prompt_tokens = len(output.prompt_token_ids)
                        completion = output.outputs[0]
                        generated_tokens += len(completion.token_ids)
                        delta = answer.feed(completion.text)
                        if delta:
                            yield TextDelta(delta)
                        finished = output.finished
            finally:
                if not finished:  # a consumer that left, or an error: free the batch slot
                    await self._engine.abort(request_id)
            tail = answer.flush()
            if tail:
                yield TextDelta(tail)
            history.record(Turn(text, answer.text), prompt_tokens + generated_tokens)

    def close_stream(self, stream_id: str) -> None:
        self._histories.pop(stream_id, None)
        self._turn_locks.pop(stream_id, None)

    async def check_health(self) -> None:
        await self._engine.check_health()

    def _history(self, stream_id: str) -> ConversationHistory:
        history = self._histories.get(stream_id)
        if history is None:
            history = self._histories[stream_id] = ConversationHistory(*self._context_bounds)
        return history

    def _params(self, max_new_tokens: int) -> Any:
        s = self._sampling
        return self._api.sampling_params(
            n=1,
            temperature=s.temperature,
            top_p=s.top_p,
            top_k=s.top_k,
            repetition_penalty=s.repetition_penalty,
            max_tokens=max_new_tokens,
            min_tokens=min(s.min_new_tokens, max_new_tokens),
            stop_token_ids=self._stop_token_ids,
            skip_special_tokens=True,
            output_kind=self._api.delta_output,
        )
