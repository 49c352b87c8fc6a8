"""SpeechTokenTap: MiniCPM-o's speech tokens taken out of the model, for another process to vocode.

The TTS head needs the LLM's hidden states (Demo l.2152-2158), so speech tokens can only be
made next to the model, but Token2wav can run anywhere. For one speech turn the model's
``tts.audio_tokenizer`` is swapped for a :class:`SpeechTokenTap`, an object with Token2wav's
``stream`` signature: the model's own loop (Demo l.2223-2295) hands it windows as the buffer
protocol says (models/speech_tokens.py), and the tap keeps the tokens it had not seen yet, seed
left out. No model code is copied or re-implemented. "Demo l.N": OpenBMB/MiniCPM-o-Demo@28b60cf
MiniCPMO45/modeling_minicpmo.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from models.speech_tokens import (
    CHUNK_TOKENS,
    SEED_TOKENS,
    STEP_AUDIO_TOKENIZER,
    TOKEN2WAV_SAMPLE_RATE_HZ,
    WINDOW_TOKENS,
)


class SpeechTokenTap:
    """Stands in for Token2wav inside the model for one speech turn and keeps the tokens.

    The model calls ``stream(buffer[:WINDOW_TOKENS], prompt_wav=None, last_chunk=...,
    return_waveform=True)`` for each full window, then slides by ``CHUNK_TOKENS``; at the end
    it flushes what is left with ``last_chunk=True`` (Demo l.2235-2290). The tap keeps the
    positions of ``SEED + speech`` it has not seen yet, minus the seed. The model also assigns
    ``stream_cache`` and ``hift_cache_dict`` before the loop (Demo l.2224-2227): they are plain
    attributes here.
    """

    sample_rate = TOKEN2WAV_SAMPLE_RATE_HZ

    def __init__(self) -> None:
        self.stream_cache: Any = None
        self.hift_cache_dict: Any = None
        self._window_start = 0
        self._seen = 0
        self._pending: list[int] = []

    # Same parameters as stepaudio2.Token2wav.stream (minicpmo-utils 1.0.7
    # src/stepaudio2/token2wav.py l.250); 1.0.5/1.0.6 differ only in prompt_wav's default.
    def stream(
        self,
        generated_speech_tokens: list[int],
        prompt_wav: str | None = None,
        last_chunk: bool = False,
        return_waveform: bool = False,
    ) -> np.ndarray | bytes:
        window = [int(t) for t in generated_speech_tokens]
        start, end = self._window_start, self._window_start + len(window)
        for position in range(max(start, self._seen), end):
            if position >= SEED_TOKENS:  # the seed is the vocoder's business, not ours
                self._pending.append(window[position - start])
        self._seen = max(self._seen, end)
        if len(window) >= WINDOW_TOKENS:
            self._window_start += CHUNK_TOKENS  # the model slides by a chunk after a full window
        # No audio is made here; the model wraps this in torch.from_numpy (Demo l.2250).
        return np.zeros((1, 0), dtype=np.float32) if return_waveform else b""

    def take(self) -> list[int]:
        """The tokens that arrived since the last call, in order."""
        tokens, self._pending = self._pending, []
        return tokens


@contextmanager
def tapped_speech(model: Any) -> Iterator[SpeechTokenTap]:
    """Swap the model's vocoder for a tap for one turn, and put everything back after.

    The speech branch of streaming_generate also needs the Token2wav tokenizer type
    (Demo l.2223) and a ``token2wav_cache`` to clone (l.2224); a Commentator without
    Token2wav has neither, so empty ones stand in while the tap is in place.
    """
    tts = model.tts
    saved = (tts.audio_tokenizer, tts.config.audio_tokenizer_type, model.token2wav_cache)
    tap = SpeechTokenTap()
    tts.audio_tokenizer = tap
    tts.config.audio_tokenizer_type = STEP_AUDIO_TOKENIZER
    if model.token2wav_cache is None:
        model.token2wav_cache = {"flow_cache_base": {}, "hift_cache_base": {}}
    try:
        yield tap
    finally:
        tts.audio_tokenizer, tts.config.audio_tokenizer_type, model.token2wav_cache = saved
