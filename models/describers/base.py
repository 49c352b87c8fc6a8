"""What a vision-language backend must do: frames and a hint in, streamed text (and speech) out.

Every describer (the embedded OpenCV one, MiniCPM-o, any Hugging Face image-text-to-text
model, the measurement stand-in) implements :class:`Describer`. The Commentator deployment
wraps exactly one and knows nothing else about it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

SKIP_ANSWER = "..."
"""What a describer answers when nothing worth saying happened. It is never spoken."""


class Intensity(StrEnum):
    """How much to say, chosen from scene change and the last answer's length."""

    MINIMAL = "minimal"
    BRIEF = "brief"
    NORMAL = "normal"


@dataclass(frozen=True, slots=True)
class TimedFrame:
    """One frame for the model: JPEG bytes and the media time it was shown at (seconds)."""

    jpeg: bytes
    media_ts_s: float


@dataclass(frozen=True, slots=True)
class DescribeRequest:
    """One commentary cycle's input.

    ``frames`` are oldest first, newest last. ``instruction`` is the full prompt text,
    intensity hint included; ``hint`` is passed as well so engines without a prompt (the
    embedded describer) can follow it. ``speech`` asks a backend with its own TTS head to
    also emit :class:`SpeechTokens` (or :class:`Waveform` on the in-process path).
    ``question`` is set when a user asked something about the current window; the instruction
    is then the question's own prompt (serve_app/gateway/prompt.py), sent as it is.
    """

    stream_id: str
    frames: tuple[TimedFrame, ...]
    hint: Intensity
    instruction: str
    max_new_tokens: int
    speech: bool = False
    question: str | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of answer text, to be appended to what came before. Never empty."""

    text: str


@dataclass(frozen=True, slots=True)
class SpeechTokens:
    """Speech tokens from a TTS head (S3 codes, 25 per second; 4218 is silence).

    ``final`` marks the last chunk of the answer; it may carry no tokens.
    """

    tokens: tuple[int, ...]
    final: bool = False


@dataclass(frozen=True, slots=True)
class Waveform:
    """Audio made in-process by the describer itself: mono float32 at ``sample_rate_hz``."""

    samples: np.ndarray = field(repr=False)
    sample_rate_hz: int = 24_000


DescriberOutput = TextDelta | SpeechTokens | Waveform


@runtime_checkable
class Describer(Protocol):
    """A vision-language engine. Plain Python: no Ray, no HTTP.

    ``describe`` is a blocking generator (callers run it off the event loop). While
    streaming it yields :class:`TextDelta` pieces in order and, when ``request.speech`` is
    set and ``emits_speech`` is true, :class:`SpeechTokens` or :class:`Waveform` chunks
    interleaved with them. It ends when the answer is complete; the skip answer is the
    text ``"..."`` alone. On failure it raises; a partial answer already yielded stands.
    """

    name: str
    emits_speech: bool

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]: ...

    def close_stream(self, stream_id: str) -> None:
        """Forget whatever per-stream state (context, caches) the engine holds."""
        ...


@runtime_checkable
class AsyncDescriber(Protocol):
    """A vision-language engine that serves many streams at once from one event loop.

    Same contract as :class:`Describer`, but ``describe_async`` is an async generator: an
    engine with continuous batching (vLLM) keeps every stream's cycle in flight together, where
    a thread per blocking call would only queue them. Closing the generator early cancels the
    request in the engine. ``check_health`` raises when the engine can no longer serve.
    """

    name: str
    emits_speech: bool

    def describe_async(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]: ...

    def close_stream(self, stream_id: str) -> None: ...

    async def check_health(self) -> None: ...
