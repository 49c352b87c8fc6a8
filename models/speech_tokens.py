"""MiniCPM-o's speech tokens and the buffer protocol between its TTS head and Token2wav.

The one statement of these numbers: the describer's tap, the Token2wav voice and the test
stand-ins all import them from here. Sources: OpenBMB/MiniCPM-o-Demo@28b60cf
MiniCPMO45/modeling_minicpmo.py ("Demo l.N") and minicpmo-utils 1.0.7
src/stepaudio2/token2wav.py ("T2W l.N").

The protocol, as the model runs it (Demo l.2223-2290): the vocoder buffer starts with
:data:`SEED` (three silence tokens); whenever :data:`WINDOW_TOKENS` tokens are buffered,
``stream(buffer[:WINDOW_TOKENS], prompt_wav=None, last_chunk=False, return_waveform=True)``
vocodes the first :data:`CHUNK_TOKENS` (one second) with :data:`LOOKAHEAD_TOKENS` of
look-ahead, and the buffer slides by :data:`CHUNK_TOKENS`; the final call flushes what is
left with ``last_chunk=True``. Window ``k`` therefore covers positions
``CHUNK_TOKENS·k .. CHUNK_TOKENS·k + WINDOW_TOKENS - 1`` of ``SEED + speech``.
"""

from __future__ import annotations

TOKENS_PER_SECOND = 25
"""S3 speech codes are made at 25 Hz (the tokenizer file is speech_tokenizer_v2_25hz.onnx)."""

SILENCE_TOKEN = 4218
"""The S3 code for silence."""

SEED_TOKENS = 3
"""The model seeds its vocoder buffer with three silence tokens (Demo l.2231)."""

SEED: tuple[int, ...] = (SILENCE_TOKEN,) * SEED_TOKENS

LOOKAHEAD_TOKENS = 3
"""Tokens each Token2wav call sees past its chunk: flow.pre_lookahead_len (Demo l.2232,
T2W l.261). A non-final call with no more than this many tokens is refused."""

CHUNK_TOKENS = TOKENS_PER_SECOND
"""Tokens vocoded per call, one second of speech (Demo l.2233; streaming_generate's
``audio_token_chunk_size`` default, Demo l.1999)."""

WINDOW_TOKENS = CHUNK_TOKENS + LOOKAHEAD_TOKENS
"""Tokens handed to each non-final ``stream`` call: the chunk plus its look-ahead (28)."""

TOKEN2WAV_SAMPLE_RATE_HZ = 24_000
"""Token2wav's output rate: mono float32, shape (1, N) (T2W l.275-277)."""

SAMPLES_PER_TOKEN = TOKEN2WAV_SAMPLE_RATE_HZ // TOKENS_PER_SECOND
"""960: 40 ms of audio per speech token."""

STEP_AUDIO_TOKENIZER = "s3tokenizer_step_audio"
"""``tts.config.audio_tokenizer_type`` that selects Token2wav in the model's speech loop
(Demo l.241, checked at l.2223)."""
