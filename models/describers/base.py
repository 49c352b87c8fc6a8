"""What a vision-language backend must do: frames and a hint in, streamed text (and speech) out.

Every describer (the embedded OpenCV one, MiniCPM-o, any Hugging Face image-text-to-text
model, the measurement stand-in) implements :class:`Describer`. The Commentator deployment
wraps exactly one and knows nothing else about it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Protocol, runtime_checkable

from models.messages import DescribeRequest, DescriberOutput


@runtime_checkable
class Describer(Protocol):
    """A vision-language engine. Plain Python: no Ray, no HTTP.

    ``describe`` is a blocking generator (callers run it off the event loop). While
    streaming it yields :class:`TextDelta` pieces in order and, when ``request.speech`` is
    set and the engine has its own speech head, :class:`SpeechTokens` or :class:`Waveform`
    chunks interleaved with them. Whether it has one belongs to the backend choice
    (deployments/engine_factory.py), decided before any engine is built. It ends when the
    answer is complete; the skip answer is the text ``"..."`` alone. On failure it raises; a
    partial answer already yielded stands.
    """

    name: str

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

    def describe_async(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]: ...

    def close_stream(self, stream_id: str) -> None: ...

    async def check_health(self) -> None: ...
