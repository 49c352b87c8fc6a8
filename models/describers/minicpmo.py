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

Speech, split (the default): the TTS head's tokens are taken out of the model by a
:class:`~models.describers.speech_token_tap.SpeechTokenTap` and leave as :class:`SpeechTokens`,
one chunk per vocoder window (models/speech_tokens.py), for the Vocoder deployment to vocode.

Speech, in process (``in_process_audio=True``): ``streaming_generate(generate_audio=True)``
with the model's real Token2wav; its ``(waveform (1, N) float32, new_text)`` items become
:class:`Waveform` and :class:`TextDelta`.

Either way speech waits behind a :class:`~models.describers.skip_gate.SkipGate`, so a skip
makes no sound. Context: calls are serialised by a lock (the model holds one session's KV
cache) and :class:`~models.describers.model_sessions.ModelSessions` says which session each
stream's turn runs in.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from models.describers.answer_text import AnswerText
from models.describers.frame_prep import TOKENS_PER_FRAME
from models.describers.model_sessions import ModelSession, ModelSessions
from models.describers.skip_gate import SkipGate
from models.describers.speech_token_tap import SpeechTokenTap, tapped_speech
from models.messages import DescribeRequest, DescriberOutput, SpeechTokens, TextDelta, Waveform
from models.speech_tokens import TOKEN2WAV_SAMPLE_RATE_HZ

TEMPLATE_OVERHEAD_TOKENS = 64  # chat-template markers around a turn, for the room estimate


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


class MiniCPMODescriber:
    """Describer over a loaded MiniCPM-o 4.5 model (or a stand-in with the same API)."""

    name = "minicpmo"

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
        self._sessions = ModelSessions(
            self._options.context_max_cycles, self._options.context_max_tokens
        )

    def describe(self, request: DescribeRequest) -> Iterator[DescriberOutput]:
        images = [Image.open(io.BytesIO(f.jpeg)).convert("RGB") for f in request.frames]
        prompt = request.instruction  # the whole prompt, question included (the gateway's)
        # A model loaded with ENABLE_TTS off has no TTS head (config.init_tts=False): text only.
        speech = request.speech and getattr(self._model, "tts", None) is not None
        with self._lock:
            session = self._sessions.for_turn(
                request.stream_id, self._model.session_id, _upcoming_tokens(request)
            )
            try:
                yield from self._turn(session, images, prompt, request.max_new_tokens, speech)
            except BaseException:
                session.start_afresh()  # a half-finished turn leaves odd state
                raise

    def close_stream(self, stream_id: str) -> None:
        with self._lock:
            session = self._sessions.pop(stream_id)
            if session is not None and self._model.session_id == session.session_id:
                # Frees the KV cache now rather than at the next stream's turn (Demo l.174).
                self._model.reset_session(reset_token2wav_cache=False)

    # --- one turn ------------------------------------------------------------------------

    def _turn(
        self,
        session: ModelSession,
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
                        yield from gate.push(Waveform(samples, TOKEN2WAV_SAMPLE_RATE_HZ))
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

    def _context_tokens(self) -> int:
        """Tokens in the model's KV cache (transformers' ``Cache.get_seq_length``)."""
        cache = getattr(self._model, "llm_past_key_values", None)
        return int(cache.get_seq_length()) if cache is not None else 0


def _upcoming_tokens(request: DescribeRequest) -> int:
    """A turn's cost in context: its frames, its prompt (~3 characters a token) and answer."""
    frames = len(request.frames) * TOKENS_PER_FRAME
    return (
        frames + len(request.instruction) // 3 + TEMPLATE_OVERHEAD_TOKENS + request.max_new_tokens
    )


def _to_float32_mono(waveform: Any) -> np.ndarray:
    """(1, N) float32 torch tensor (Demo l.2250) or array → 1-D float32 numpy."""
    if hasattr(waveform, "detach"):
        waveform = waveform.detach().cpu().numpy()
    return np.asarray(waveform, dtype=np.float32).reshape(-1)


def _close(items: Iterator[Any]) -> None:
    close = getattr(items, "close", None)
    if close is not None:
        close()
