"""The closed choices among the settings: which engine, which voice, which sync policy."""

from __future__ import annotations

from enum import StrEnum


class Backend(StrEnum):
    """Which vision-language engine the Commentator runs."""

    AUTO = "auto"  # MiniCPM-o when a GPU and a model directory are present, else embedded
    EMBEDDED = "embedded"  # OpenCV describer, runs anywhere
    MINICPMO = "minicpmo"  # MiniCPM-o 4.5 (AWQ or BF16) on a GPU
    HF = "hf"  # any transformers image-text-to-text model
    SYNTHETIC = "synthetic"  # measurement stand-in with a chosen latency distribution


class MiniCPMOEngine(StrEnum):
    """What runs MiniCPM-o 4.5 when ``backend`` is ``minicpmo``."""

    # vLLM: every stream's cycles in one continuous batch, text out (docs/minicpmo.md).
    VLLM = "vllm"
    # transformers' remote code: one stream at a time, but with MiniCPM-o's own voice (its TTS
    # head needs the LLM's hidden states, which vLLM does not return).
    REMOTE_CODE = "remote_code"


class VoiceBackend(StrEnum):
    """Which speech engine speaks the commentary."""

    AUTO = "auto"  # token2wav with minicpmo, else espeak
    ESPEAK = "espeak"
    TOKEN2WAV = "token2wav"
    SYNTHETIC = "synthetic"  # measurement stand-in that takes real time to speak


class SyncPolicy(StrEnum):
    """How commentary is lined up with the delayed picture."""

    # The original system: delay the video by the latency EMA, send results as they come.
    EMA = "ema"
    # Hold each result until the display clock reaches the frames it speaks of; the delay
    # follows a latency quantile so that few results are late.
    PRESENTATION = "presentation"
