"""MiniCPMODescriber: MiniCPM-o 4.5 watching frames and commenting, in text and speech tokens.

The model object comes in ready (``models.loading.minicpmo_loader.load_minicpmo``); this class
only speaks its streaming API, so tests drive it with a stand-in of the same shape
(tests/fixtures/fake_minicpmo.py). Each API fact below names the line it was read from in
OpenBMB/MiniCPM-o-Demo@28b60cf MiniCPMO45/modeling_minicpmo.py ("Demo l.N").

Text: ``streaming_prefill`` (Demo l.1835) with the frames as PIL images in one user message,
then ``streaming_generate(generate_audio=False)`` (Demo l.1994), which yields
``(text_piece, is_finished)`` decoded with ``skip_special_tokens=False`` (utils.py l.309), so
``<|tts_eos|>``/``<|im_end|>`` show up in the text and are stripped here. ``chat(stream=True)``
is not used: the shipped code reads ``outputs.sequences`` after a streamed generate and
fails (Demo l.1199).

Speech, split (the default): the TTS head needs the LLM's hidden states (Demo l.2152-2158), so
speech tokens can only be made here, but Token2wav can run anywhere. During a speech turn the
model's ``tts.audio_tokenizer`` is swapped for :class:`SpeechTokenTap`, an object with
Token2wav's ``stream`` signature: the model's own loop (Demo l.2223-2295) hands it 28-token
windows sliding by 25, and the tap hands back the tokens it had not seen, 25 at a time, as
:class:`SpeechTokens`. No model code is copied or re-implemented.

Speech, in process (``in_process_audio=True``): ``streaming_generate(generate_audio=True)``
with the model's real Token2wav; its ``(waveform (1, N) float32 24 kHz, new_text)`` items
become :class:`Waveform` and :class:`TextDelta`.

Context: the KV cache lives on the model object, one session at a time (``reset_session``,
Demo l.174; a new ``session_id`` resets it, Demo l.1849 and l.1884). Calls are serialised by a
lock; each stream has its own session id, renewed every ``context_max_cycles`` cycles or
before the cache would pass ``context_max_tokens``, so a stream can run for hours. Several
streams on one replica take turns, and each switch starts the model on a fresh context.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from models.describers.answer_text import AnswerText
from models.messages import (
    SKIP_ANSWER,
    DescribeRequest,
    DescriberOutput,
    SpeechTokens,
    TextDelta,
    Waveform,
)

log = logging.getLogger(__name__)

SILENCE_TOKEN = 4218
"""S3 code for silence; the model seeds its vocoder buffer with three (Demo l.2231)."""
LOOKAHEAD_TOKENS = 3  # Demo l.2232: each Token2wav call sees 3 tokens past its chunk
CHUNK_TOKENS = 25  # Demo l.2233: 25 tokens a call = 1 s of speech at 25 Hz
TOKENS_PER_FRAME = 64  # resampler query_num; max_slice_nums=1 keeps a frame to one slice
STEP_AUDIO_TOKENIZER = "s3tokenizer_step_audio"  # Demo l.241: Token2wav's tokenizer type


@dataclass(frozen=True, slots=True)
class MiniCPMOOptions:
    """Sampling and context knobs.

    Sampling values are streaming_generate's own defaults (Demo l.2110-2114), passed
    explicitly so a remote-code update cannot change them silently. There is no beam search on
    this path (ChunkPrefillChunkGenerate samples or decodes greedily): num_beams=1 by
    construction, unlike chat(), whose default is 3 beams.
    """

    do_sample: bool = True
    temperature: float = 0.7
    top_p: float = 0.8
    top_k: int = 100
    repetition_penalty: float = 1.02
    length_penalty: float = 1.0
    # 8 cycles of 4 frames ≈ 8 × (4·64 + ~150) ≈ 3.3k tokens: the model remembers the last
    # half-minute of its own commentary (fewer repeats) and attention stays cheap.
    context_max_cycles: int = 8
    # Well under the remote code's own text window (8000 high / 6000 low, utils.py l.877).
    context_max_tokens: int = 6144

    def __post_init__(self) -> None:
        if self.context_max_cycles < 1 or self.context_max_tokens < 256:
            raise ValueError("context_max_cycles must be >= 1 and context_max_tokens >= 256")


class SpeechTokenTap:
    """Stands in for Token2wav inside the model for one speech turn and keeps the tokens.

    The model calls ``stream(buffer[:28], prompt_wav=None, last_chunk=..., return_waveform=True)``
    whenever 28 tokens are buffered, then drops the first 25; at the end it flushes what is
    left with ``last_chunk=True`` (Demo l.2235-2290). The buffer starts with three silence
    tokens. Window ``k`` therefore covers positions ``25k .. 25k+len-1`` of
    ``seed + speech``; the tap keeps positions it has not seen yet, minus the seed. The model
    also assigns ``stream_cache`` and ``hift_cache_dict`` before the loop (Demo l.2224-2227):
    they are plain attributes here.
    """

    sample_rate = 24_000

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
            if position >= LOOKAHEAD_TOKENS:  # the seed is the vocoder's business, not ours
                self._pending.append(window[position - start])
        self._seen = max(self._seen, end)
        if len(window) >= CHUNK_TOKENS + LOOKAHEAD_TOKENS:
            self._window_start += CHUNK_TOKENS  # the model slides by 25 after a full window
        # No audio is made here; the model wraps this in torch.from_numpy (Demo l.2250).
        return np.zeros((1, 0), dtype=np.float32) if return_waveform else b""

    def take(self) -> list[int]:
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


class SkipGate:
    """Holds speech until the text shows the answer is not the skip answer ``...``.

    A skip must never make a sound; in the model's speech loop text arrives with (after)
    the audio it belongs to, so speech is parked while the text so far could still be "...".
    """

    def __init__(self) -> None:
        self._held: list[DescriberOutput] = []
        self._open = False
        self.released_any = False

    def update(self, answer_so_far: str) -> list[DescriberOutput]:
        if not self._open and not SKIP_ANSWER.startswith(answer_so_far):
            self._open = True
        return self._drain() if self._open else []

    def push(self, item: DescriberOutput) -> list[DescriberOutput]:
        self._held.append(item)
        return self._drain() if self._open else []

    def finish(self, answer: str) -> list[DescriberOutput]:
        if answer == SKIP_ANSWER or not answer:
            self._held.clear()
            return []
        self._open = True
        return self._drain()

    def _drain(self) -> list[DescriberOutput]:
        out, self._held = self._held, []
        self.released_any = self.released_any or bool(out)
        return out


@dataclass(slots=True)
class _Session:
    stream_id: str
    generation: int = 0
    cycles: int = 0
    last_context_tokens: int = 0

    @property
    def session_id(self) -> str:
        return f"{self.stream_id}#{self.generation}"


class MiniCPMODescriber:
    """Describer over a loaded MiniCPM-o 4.5 model (or a stand-in with the same API)."""

    name = "minicpmo"
    emits_speech = True

    def __init__(
        self,
        model: Any,
        *,
        in_process_audio: bool = False,
        options: MiniCPMOOptions | None = None,
    ) -> None:
        self._model = model
        self._in_process_audio = in_process_audio
        self._options = options or MiniCPMOOptions()
        self._lock = threading.Lock()  # the model holds one session's state: one call at a time
        self._sessions: dict[str, _Session] = {}

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        images = [Image.open(io.BytesIO(f.jpeg)).convert("RGB") for f in request.frames]
        prompt = request.instruction  # the whole prompt, question included (the gateway's)
        # A model loaded with ENABLE_TTS off has no TTS head (config.init_tts=False): text only.
        speech = request.speech and getattr(self._model, "tts", None) is not None
        with self._lock:
            session = self._session_for(request, len(images))
            try:
                yield from self._turn(session, images, prompt, request.max_new_tokens, speech)
            except BaseException:
                session.generation += 1  # a half-finished turn leaves odd state: start afresh
                session.cycles = 0
                raise

    def close_stream(self, stream_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(stream_id, None)
            if session is not None and self._model.session_id == session.session_id:
                # Frees the KV cache now rather than at the next stream's turn (Demo l.174).
                self._model.reset_session(reset_token2wav_cache=False)

    # --- one turn ------------------------------------------------------------------------

    def _turn(
        self,
        session: _Session,
        images: list[Image.Image],
        prompt: str,
        max_new_tokens: int,
        speech: bool,
    ) -> Iterator[DescriberOutput]:
        model, opts = self._model, self._options
        model.streaming_prefill(
            session_id=session.session_id,
            msgs=[{"role": "user", "content": [*images, prompt]}],
            omni_mode=False,  # items joined with "\n", as chat() does for plain messages
            # One slice per frame: 64 tokens, not ~400 (processor default 9). streaming_prefill
            # already passes use_image_id=False to the processor itself (Demo l.1936).
            max_slice_nums=1,
            use_tts_template=speech,
            is_last_chunk=True,
        )
        sampling = {
            "do_sample": opts.do_sample,
            "temperature": opts.temperature,
            "top_p": opts.top_p,
            "top_k": opts.top_k,
            "repetition_penalty": opts.repetition_penalty,
            "length_penalty": opts.length_penalty,
        }
        generate = dict(
            session_id=session.session_id,
            generate_audio=speech,
            max_new_tokens=max_new_tokens,
            enable_thinking=False,
            use_tts_template=speech,
            **sampling,
        )
        if not speech:
            yield from self._text_turn(model.streaming_generate(**generate))
        elif self._in_process_audio:
            yield from self._speech_turn(model.streaming_generate(**generate), tap=None)
        else:
            with tapped_speech(model) as tap:
                yield from self._speech_turn(model.streaming_generate(**generate), tap=tap)
        session.cycles += 1
        session.last_context_tokens = self._context_tokens()

    def _text_turn(self, items: Iterator[Any]) -> Iterator[DescriberOutput]:
        answer = AnswerText()
        try:
            for piece, _finished in items:
                if piece is None:  # (None, None): the end sentinel of newer remote code
                    break
                delta = answer.feed(piece)
                if delta:
                    yield TextDelta(delta)
        finally:
            _close(items)
        tail = answer.flush()
        if tail:
            yield TextDelta(tail)

    def _speech_turn(
        self, items: Iterator[Any], tap: SpeechTokenTap | None
    ) -> Iterator[DescriberOutput]:
        answer, gate = AnswerText(), SkipGate()
        try:
            for waveform, piece in items:
                if waveform is None and piece is None:
                    break
                delta = answer.feed(piece or "")
                if delta:
                    yield TextDelta(delta)
                yield from gate.update(answer.text)
                if tap is not None:
                    tokens = tap.take()
                    if tokens:
                        yield from gate.push(SpeechTokens(tuple(tokens)))
                elif waveform is not None:
                    samples = _to_float32_mono(waveform)
                    if samples.size:
                        yield from gate.push(Waveform(samples))
        finally:
            _close(items)
        tail = answer.flush()
        if tail:
            yield TextDelta(tail)
        if tap is not None:
            leftover = tap.take()  # the flush after the model's last yield, if any
            if leftover:
                yield from gate.push(SpeechTokens(tuple(leftover)))
        yield from gate.finish(answer.text)
        if tap is not None and gate.released_any:
            yield SpeechTokens((), final=True)  # the vocoder flushes its look-ahead now

    # --- context -------------------------------------------------------------------------

    def _session_for(self, request: DescribeRequest, n_images: int) -> _Session:
        session = self._sessions.setdefault(request.stream_id, _Session(request.stream_id))
        if self._model.session_id != session.session_id:
            session.cycles = 0  # another stream ran in between: the model starts afresh anyway
            session.last_context_tokens = 0
        upcoming = n_images * TOKENS_PER_FRAME + len(request.instruction) // 3 + 64
        upcoming += request.max_new_tokens
        full = session.last_context_tokens + upcoming > self._options.context_max_tokens
        if session.cycles >= self._options.context_max_cycles or (session.cycles and full):
            session.generation += 1
            session.cycles = 0
            session.last_context_tokens = 0
            log.debug("stream %s: fresh context %s", request.stream_id, session.session_id)
        return session

    def _context_tokens(self) -> int:
        """Tokens in the model's KV cache (transformers' ``Cache.get_seq_length``)."""
        cache = getattr(self._model, "llm_past_key_values", None)
        return int(cache.get_seq_length()) if cache is not None else 0


def _to_float32_mono(waveform: Any) -> np.ndarray:
    """(1, N) float32 torch tensor (Demo l.2250) or array → 1-D float32 numpy."""
    if hasattr(waveform, "detach"):
        waveform = waveform.detach().cpu().numpy()
    return np.asarray(waveform, dtype=np.float32).reshape(-1)


def _close(items: Iterator[Any]) -> None:
    close = getattr(items, "close", None)
    if close is not None:
        close()
