"""What a voice must do: text or speech tokens in, float32 audio chunks at the voice rate out."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, runtime_checkable

import numpy as np

from models.messages import SpeechRequest


@runtime_checkable
class Voice(Protocol):
    """A speech engine. Plain Python: no Ray, no HTTP.

    ``synthesize`` is a blocking generator of mono float32 numpy arrays at
    :data:`VOICE_SAMPLE_RATE_HZ`, values in [-1, 1], in playback order. It may yield nothing
    for a piece (a token voice buffers until it has enough tokens). It raises on failure, and
    on a request of the kind it does not take (text to a token voice). Which kind that is
    belongs to the backend choice (deployments/engine_factory.py), decided before any engine
    is built, so the engine does not restate it.
    """

    name: str

    def synthesize(self, request: SpeechRequest) -> Iterator[np.ndarray]: ...

    def close_stream(self, stream_id: str) -> None:
        """Drop the stream's caches."""
        ...
