"""What a voice must do: text or speech tokens in, 24 kHz float32 audio chunks out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, runtime_checkable

import numpy as np

VOICE_SAMPLE_RATE_HZ = 24_000
"""Every voice returns audio at this rate: Token2wav's native rate, so it is the contract."""


class VoiceInput(StrEnum):
    TEXT = "text"
    TOKENS = "tokens"


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """A piece of one utterance to synthesise.

    Exactly one of ``text`` and ``tokens`` is set, matching the voice's ``accepts``.
    ``utterance_id`` groups the pieces of one answer and ``piece`` numbers them from 0;
    ``final`` marks the last piece, after which the voice flushes whatever it still holds
    for the stream.
    """

    stream_id: str
    utterance_id: str
    text: str | None = None
    tokens: tuple[int, ...] | None = None
    final: bool = False
    piece: int = 0


@runtime_checkable
class Voice(Protocol):
    """A speech engine. Plain Python: no Ray, no HTTP.

    ``synthesize`` is a blocking generator of mono float32 numpy arrays at
    :data:`VOICE_SAMPLE_RATE_HZ`, values in [-1, 1], in playback order. It may yield nothing
    for a piece (a token voice buffers until it has enough tokens). It raises on failure.
    """

    name: str
    accepts: VoiceInput

    def synthesize(self, request: SpeechRequest) -> Iterator[np.ndarray]: ...

    def close_stream(self, stream_id: str) -> None:
        """Drop the stream's caches."""
        ...
