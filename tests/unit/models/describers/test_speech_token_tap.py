"""SpeechTokenTap: fed as the model feeds Token2wav, it hands back each new token once."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from models.describers.speech_token_tap import SpeechTokenTap, tapped_speech

SEED = [4218, 4218, 4218]


def feed_like_the_model(tap: SpeechTokenTap, speech: list[int], step: int) -> list[int]:
    """The model's loop (Demo l.2223-2290): windows of 28 sliding by 25, then a last flush."""
    taken: list[int] = []
    buffer = list(SEED)
    for i in range(0, len(speech), step):
        buffer += speech[i : i + step]
        while len(buffer) >= 28:
            tap.stream(buffer[:28], prompt_wav=None, last_chunk=False, return_waveform=True)
            buffer = buffer[25:]
            taken += tap.take()
    tap.stream(buffer, prompt_wav=None, last_chunk=True, return_waveform=True)
    return taken + tap.take()


def test_every_speech_token_comes_out_once_in_order_without_the_seed() -> None:
    speech = list(range(100, 183))
    for step in (1, 7, 25, 40):
        assert feed_like_the_model(SpeechTokenTap(), speech, step) == speech


def test_it_makes_no_audio_but_answers_in_the_shape_the_model_wraps() -> None:
    out = SpeechTokenTap().stream(SEED + list(range(25)), return_waveform=True)
    assert isinstance(out, np.ndarray) and out.shape == (1, 0) and out.dtype == np.float32


def test_the_model_gets_its_vocoder_back_after_the_turn_even_on_error() -> None:
    tts = SimpleNamespace(
        audio_tokenizer="cosyvoice", config=SimpleNamespace(audio_tokenizer_type="s3")
    )
    model = SimpleNamespace(tts=tts, token2wav_cache=None)
    try:
        with tapped_speech(model) as tap:
            assert model.tts.audio_tokenizer is tap
            assert model.tts.config.audio_tokenizer_type == "s3tokenizer_step_audio"
            assert model.token2wav_cache is not None  # the loop clones it
            raise RuntimeError("turn failed")
    except RuntimeError:
        pass
    assert (tts.audio_tokenizer, tts.config.audio_tokenizer_type) == ("cosyvoice", "s3")
    assert model.token2wav_cache is None
