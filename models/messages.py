"""What engines take and give: the messages across the engine boundary, in one place.

A describer takes a :class:`DescribeRequest` and yields :class:`DescriberOutput`; a voice takes
:class:`SpeechRequest` pieces and yields audio at :data:`VOICE_SAMPLE_RATE_HZ`. The skip rule
(what "nothing worth saying" looks like) lives here too, because engines produce it and the
service recognises it. The service's own messages are in ``serve_app/messages.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np

from models.speech_tokens import TOKEN2WAV_SAMPLE_RATE_HZ

VOICE_SAMPLE_RATE_HZ = TOKEN2WAV_SAMPLE_RATE_HZ
"""Every voice returns audio at this rate: Token2wav's native rate, so it is the contract."""

SKIP_ANSWER = "..."
"""What a describer answers when nothing worth saying happened. It is never spoken."""


_SKIP_CHARS = frozenset(".…")


def is_skip_answer(text: str) -> bool:
    """'...' (or '…', or any run of dots) alone: the model had nothing worth saying."""
    stripped = text.strip()
    return not stripped or set(stripped) <= _SKIP_CHARS


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
    is then the question's own prompt (serve_app/prompt/wording.py), sent as it is.
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
    """Speech tokens from a TTS head: S3 codes (rate, silence id: models/speech_tokens.py).

    ``final`` marks the last chunk of the answer; it may carry no tokens.
    """

    tokens: tuple[int, ...]
    final: bool = False


@dataclass(frozen=True, slots=True)
class Waveform:
    """Audio made in-process by the describer itself: mono float32 at ``sample_rate_hz``."""

    samples: np.ndarray = field(repr=False)
    sample_rate_hz: int = VOICE_SAMPLE_RATE_HZ


DescriberOutput = TextDelta | SpeechTokens | Waveform


class VoiceInput(StrEnum):
    """What a voice takes: answer text, or the describer's speech tokens."""

    TEXT = "text"
    TOKENS = "tokens"


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """A piece of one utterance to synthesise.

    Exactly one of ``text`` and ``tokens`` is set, matching the backend choice's
    ``voice_input``.
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
