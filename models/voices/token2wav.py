"""Token2wavVoice: MiniCPM-o's speech tokens to 24 kHz audio, many streams on one vocoder.

Wraps ``stepaudio2.Token2wav`` (minicpmo-utils, src/stepaudio2/token2wav.py; line numbers
below are 1.0.7's, "T2W l.N", with 1.0.5/1.0.6 noted where they differ). Tokens are fed to it
as the model itself feeds them (the buffer protocol in models/speech_tokens.py), so the audio
is what the in-process path makes.

Per-stream state. A Token2wav object streams one utterance at a time through two attributes:
``stream_cache`` (the flow model's caches; ``stream`` replaces it, T2W l.266) and
``hift_cache_dict`` (the vocoder's; 1.0.7 mutates it in place and hands it to its
BoundedVocoder on every call, T2W l.207-209; 1.0.5 replaces it per call). Both are swapped in
before and read back after every call, so one replica serves many streams. The reference
voice's caches are computed once (``set_stream_cache``, T2W l.189: it also sets the prompt
``stream`` checks, l.252-258) and cloned for each new utterance, as the model does per turn
(Demo l.2224-2227): an utterance's last chunk finalises its vocoder cache (T2W l.186-188), so the
next one must start from the base again.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.loading.token2wav_assets import Token2wavOptions, check_tts_assets
from models.messages import SpeechRequest
from models.speech_tokens import CHUNK_TOKENS, SEED, WINDOW_TOKENS

log = logging.getLogger(__name__)


def build_token2wav(model_dir: str | Path, float16: bool = False, n_timesteps: int = 10) -> Any:
    """The real vocoder (needs CUDA and minicpmo-utils[all]); ``Token2wav(model_path,
    float16=False, n_timesteps=10)`` (T2W l.92). fp16 crashes in the flow's setup_cache with a
    dtype mismatch (nerdpudding docs/sprint2/SPRINT2_LOG.md), hence TTS_FLOAT16 off by default."""
    try:
        from stepaudio2 import Token2wav
    except ImportError as error:
        raise ImportError(
            "the token2wav voice needs stepaudio2: pip install -e '.[minicpmo]' "
            "(see docs/minicpmo.md for the pin set)"
        ) from error
    return Token2wav(str(model_dir), float16=float16, n_timesteps=n_timesteps)


@dataclass(slots=True)
class _Utterance:
    utterance_id: str
    stream_cache: Any
    hift_cache_dict: Any
    buffer: list[int] = field(default_factory=lambda: list(SEED))
    spoken_tokens: int = 0  # tokens received beyond the seed


class Token2wavVoice:
    """Voice over stepaudio2.Token2wav (or a stand-in with the same API)."""

    name = "token2wav"

    def __init__(self, token2wav: Any, reference_wav: str | Path) -> None:
        self._t2w = token2wav
        self._reference_wav = str(reference_wav)
        self._base: tuple[Any, Any] | None = None
        self._utterances: dict[str, _Utterance] = {}
        # The Token2wav object holds the current stream's caches while it runs.
        self._lock = threading.Lock()

    @classmethod
    def from_options(
        cls,
        options: Token2wavOptions,
        factory: Callable[..., Any] = build_token2wav,
    ) -> Token2wavVoice:
        """Check the assets, then build the vocoder with ``factory(model_dir, float16=...)``."""
        tts_dir, reference = check_tts_assets(options)
        log.info("token2wav voice: assets %s, reference voice %s", tts_dir, reference)
        return cls(factory(tts_dir, float16=options.float16), reference)

    def synthesize(self, request: SpeechRequest) -> Iterator[np.ndarray]:
        if request.tokens is None:
            raise ValueError("the token2wav voice takes speech tokens, not text")
        with self._lock:
            utterance = self._utterance_for(request)
            utterance.buffer.extend(int(t) for t in request.tokens)
            utterance.spoken_tokens += len(request.tokens)
        while True:
            with self._lock:
                chunk, done = self._next_chunk(utterance, request)
            if chunk is not None and chunk.size:
                yield chunk
            if done:
                return

    def close_stream(self, stream_id: str) -> None:
        with self._lock:
            self._utterances.pop(stream_id, None)

    # --- internals -----------------------------------------------------------------------

    def _utterance_for(self, request: SpeechRequest) -> _Utterance:
        current = self._utterances.get(request.stream_id)
        if current is not None and current.utterance_id == request.utterance_id:
            return current
        stream_cache, hift_cache = self._reference_caches()
        with _inference_mode():
            fresh = _Utterance(request.utterance_id, _clone(stream_cache), _clone(hift_cache))
        self._utterances[request.stream_id] = fresh
        return fresh

    def _next_chunk(
        self, utterance: _Utterance, request: SpeechRequest
    ) -> tuple[np.ndarray | None, bool]:
        """The next audio chunk, if any, and whether this request is done."""
        if len(utterance.buffer) >= WINDOW_TOKENS:
            chunk = self._stream(utterance, utterance.buffer[:WINDOW_TOKENS], last=False)
            del utterance.buffer[:CHUNK_TOKENS]
            return chunk, False
        if not request.final:
            return None, True
        if self._utterances.get(request.stream_id) is utterance:
            del self._utterances[request.stream_id]
        if utterance.spoken_tokens == 0:
            return None, True  # nothing spoken (a skip, an empty answer): no flush, no sound
        # What is left: the last window's look-ahead plus less than a chunk of new tokens.
        return self._stream(utterance, utterance.buffer, last=True), True

    def _reference_caches(self) -> tuple[Any, Any]:
        if self._base is None:
            # 1.0.7 sets the attributes and returns them; 1.0.5/1.0.6 only return them. Clone at
            # once: 1.0.7's hift cache is its vocoder's live dict (T2W l.201-204).
            stream_cache, hift_cache = self._t2w.set_stream_cache(self._reference_wav)
            with _inference_mode():
                self._base = (_clone(stream_cache), _clone(hift_cache))
        return self._base

    def _stream(self, utterance: _Utterance, tokens: list[int], last: bool) -> np.ndarray:
        t2w = self._t2w
        t2w.stream_cache, t2w.hift_cache_dict = utterance.stream_cache, utterance.hift_cache_dict
        wav = t2w.stream(list(tokens), prompt_wav=None, last_chunk=last, return_waveform=True)
        utterance.stream_cache, utterance.hift_cache_dict = t2w.stream_cache, t2w.hift_cache_dict
        # (1, N) float32 at 24 kHz, unclipped (T2W l.275-277); the Voice contract says [-1, 1].
        return np.clip(np.asarray(wav, dtype=np.float32).reshape(-1), -1.0, 1.0)


def _clone(tree: Any) -> Any:
    """Deep copy of nested dict/list/tuple of tensors or arrays (like the model's
    ``torch_clone_recursive``, utils.py l.358, without importing torch here)."""
    if isinstance(tree, dict):
        return {key: _clone(value) for key, value in tree.items()}
    if isinstance(tree, list):
        return [_clone(value) for value in tree]
    if isinstance(tree, tuple):
        return tuple(_clone(value) for value in tree)
    if hasattr(tree, "clone"):
        return tree.clone()
    if isinstance(tree, np.ndarray):
        return tree.copy()
    return tree


def _inference_mode() -> contextlib.AbstractContextManager[Any]:
    """Clones made as the model makes them (its streaming_generate runs in inference mode)."""
    try:
        import torch
    except ImportError:
        return contextlib.nullcontext()
    return torch.inference_mode()
