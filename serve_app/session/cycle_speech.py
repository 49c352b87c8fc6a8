"""CycleSpeech: one cycle's speech, from the answer as it streams to scheduled 48 kHz audio.

A text voice gets the answer sentence by sentence; a token voice gets the describer's speech
tokens; a describer that makes its own waveform has it resampled. Everything is held back by
the skip filter until the text cannot be the skip answer, then voiced in order by one task.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable

import numpy as np

from models.audio import PcmResampler, resample
from models.messages import VOICE_SAMPLE_RATE_HZ, SpeechRequest, SpeechTokens, VoiceInput, Waveform
from serve_app.clock import Clock
from serve_app.session.ports import SessionPorts
from serve_app.settings import StreamSettings
from serve_app.speech.audio_format import OUTPUT_AUDIO
from serve_app.speech.sentences import SentenceSplitter
from serve_app.speech.skip_filter import SkipAudioFilter

SpeechWork = SpeechRequest | np.ndarray  # a piece for the Vocoder, or audio already made

log = logging.getLogger(__name__)


def speech_on(settings: StreamSettings, voice_input: VoiceInput | None, speaks: bool) -> bool:
    """A stream speaks when its settings ask for it and something can: a voice that takes
    the describer's text or tokens, or a describer that speaks itself."""
    return settings.enable_tts and (voice_input is not None or speaks)


class CycleSpeech:
    def __init__(
        self,
        ports: SessionPorts,
        stream_id: str,
        utterance_id: str,
        voice_input: VoiceInput | None,
        describer_speaks: bool,
        hold_chars: int,
        publish: Callable[[np.ndarray], None],
        clock: Clock,
        timeout_s: float,
    ) -> None:
        self._ports = ports
        self._stream_id = stream_id
        self._utterance_id = utterance_id
        self._voice_input = voice_input
        self._text_voice = voice_input is VoiceInput.TEXT and not describer_speaks
        self._publish = publish  # int16 PCM at the output rate → scheduled for release
        self._filter: SkipAudioFilter[SpeechWork] = SkipAudioFilter(hold_chars)
        self._sentences = SentenceSplitter()
        self._work: asyncio.Queue[SpeechWork | None] = asyncio.Queue()
        self._clock = clock
        self._timeout_s = timeout_s
        self.skipped = ""  # why the speech was cut short; "" when it was all spoken

    # --- what the describer streams ---------------------------------------------------
    def take_text(self, text: str) -> None:
        self._queue(self._filter.add_text(text))
        if self._text_voice:
            for sentence in self._sentences.feed(text):
                self._offer(self._text_request(sentence, final=False))

    def take_tokens(self, output: SpeechTokens) -> None:
        if self._voice_input is VoiceInput.TOKENS:
            self._offer(
                SpeechRequest(
                    stream_id=self._stream_id,
                    utterance_id=self._utterance_id,
                    tokens=output.tokens,
                    final=output.final,
                )
            )

    def take_waveform(self, wave: Waveform) -> None:
        samples = resample(wave.samples, wave.sample_rate_hz, VOICE_SAMPLE_RATE_HZ)
        self._offer(samples)

    def finish(self, skip: bool) -> None:
        """The answer is complete: flush what was held (or drop it, for a skip) and end."""
        if self._text_voice and not skip:
            # Every utterance ends with a final piece, empty when the answer ended on a full
            # stop: the voice (and the Vocoder's router) learn that it is over.
            self._offer(self._text_request(self._sentences.rest(), final=True))
        self._queue(self._filter.finish())
        self._work.put_nowait(None)

    # --- voicing ------------------------------------------------------------------------
    async def run(self) -> None:
        """Voice the released work in order and publish its audio as it comes.

        A Vocoder that fails, or sends nothing for ``timeout_s``, ends this cycle's speech
        (``skipped`` says why) and never the cycle: its text is already on its way.
        """
        resampler = PcmResampler(VOICE_SAMPLE_RATE_HZ, OUTPUT_AUDIO.rate_hz)
        spoke = False
        pieces = 0
        while (item := await self._work.get()) is not None:
            if self.skipped:
                continue  # drain what is left unspoken, so finish() is never blocked
            if isinstance(item, np.ndarray):
                chunks: AsyncIterator[np.ndarray] = _one(item)
            else:
                chunks = self._ports.synthesize(dataclasses.replace(item, piece=pieces))
                pieces += 1
            async for chunk in self._within_deadline(chunks):
                spoke = spoke or chunk.size > 0
                self._publish(resampler.process(chunk))
        if spoke:  # the held-back tail; nothing at all for an answer that said nothing
            self._publish(resampler.flush())

    async def _within_deadline(
        self, chunks: AsyncIterator[np.ndarray]
    ) -> AsyncIterator[np.ndarray]:
        """The chunks, each within ``timeout_s`` of the one before (on the session's clock).

        A Vocoder that fails or falls silent ends the iteration and sets ``skipped``.
        """
        iterator = aiter(chunks)
        try:
            while True:
                try:
                    chunk = await self._next_chunk(iterator)
                except StopAsyncIteration:
                    return
                except Exception as error:
                    self.skipped = f"speech skipped: {_reason(error, self._timeout_s)}"
                    log.warning("utterance %s: %s", self._utterance_id, self.skipped)
                    return
                yield chunk
        finally:
            close = getattr(iterator, "aclose", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    await close()

    async def _next_chunk(self, iterator: AsyncIterator[np.ndarray]) -> np.ndarray:
        step = asyncio.ensure_future(anext(iterator))
        timer = asyncio.ensure_future(self._clock.sleep(self._timeout_s))
        try:
            await asyncio.wait({step, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not step.done():
                step.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await step
        if step.cancelled():
            raise TimeoutError
        return step.result()

    def _text_request(self, text: str, final: bool) -> SpeechRequest:
        return SpeechRequest(
            stream_id=self._stream_id, utterance_id=self._utterance_id, text=text, final=final
        )

    def _offer(self, item: SpeechWork) -> None:
        self._queue(self._filter.add_speech(item))

    def _queue(self, items: list[SpeechWork]) -> None:
        for item in items:
            self._work.put_nowait(item)


async def _one(chunk: np.ndarray) -> AsyncIterator[np.ndarray]:
    yield chunk


def _reason(error: Exception, timeout_s: float) -> str:
    if isinstance(error, TimeoutError):
        return f"the Vocoder sent nothing for {timeout_s:g} s"
    return f"the Vocoder failed ({type(error).__name__}: {error})"
