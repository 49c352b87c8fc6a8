"""CycleSpeech: voiced piece by piece, a skip never heard, audio at the output rate."""

import asyncio

import numpy as np
import pytest

from models.messages import VOICE_SAMPLE_RATE_HZ, SpeechTokens, VoiceInput, Waveform
from serve_app.clock import ManualClock
from serve_app.session.cycle_speech import CycleSpeech
from serve_app.speech.audio_format import OUTPUT_AUDIO
from tests.support.scripted_ports import SPEECH_S_PER_CHAR, ScriptedPorts, run_until


def speech(voice_input: VoiceInput = VoiceInput.TEXT, describer_speaks: bool = False):
    ports = ScriptedPorts(ManualClock())
    published: list[np.ndarray] = []
    return (
        ports,
        published,
        CycleSpeech(
            ports, "s", "s:1", voice_input, describer_speaks, 5, published.append, ports.clock, 5.0
        ),
    )


async def test_a_text_answer_is_voiced_sentence_by_sentence_and_ends_with_a_final_piece() -> None:
    ports, published, cycle_speech = speech()
    speaker = asyncio.create_task(cycle_speech.run())
    for piece in ("A red car ", "turns left. ", "It stops"):
        cycle_speech.take_text(piece)
    cycle_speech.finish(skip=False)
    await speaker
    assert [r.text for r in ports.speech] == ["A red car turns left.", "It stops"]
    assert [r.piece for r in ports.speech] == [0, 1]
    assert [r.final for r in ports.speech] == [False, True]
    assert {r.utterance_id for r in ports.speech} == {"s:1"}
    pcm = np.concatenate(published)
    assert pcm.dtype == np.int16
    spoken_chars = len("A red car turns left.") + len("It stops")
    expected_s = spoken_chars * SPEECH_S_PER_CHAR
    assert pcm.size / OUTPUT_AUDIO.rate_hz == pytest.approx(expected_s, abs=0.01)


async def test_a_skip_answer_is_never_voiced() -> None:
    ports, published, cycle_speech = speech()
    speaker = asyncio.create_task(cycle_speech.run())
    cycle_speech.take_text("..")
    cycle_speech.take_text(".")
    cycle_speech.finish(skip=True)
    await speaker
    assert ports.speech == [] and published == []


async def test_speech_tokens_go_to_a_token_voice_as_they_come() -> None:
    ports, _, cycle_speech = speech(VoiceInput.TOKENS, describer_speaks=True)
    speaker = asyncio.create_task(cycle_speech.run())
    cycle_speech.take_text("A long enough answer")
    cycle_speech.take_tokens(SpeechTokens((1, 2, 3)))
    cycle_speech.take_tokens(SpeechTokens((4,), final=True))
    cycle_speech.finish(skip=False)
    await speaker
    assert [r.tokens for r in ports.speech] == [(1, 2, 3), (4,)]
    assert [r.final for r in ports.speech] == [False, True]
    assert all(r.text is None for r in ports.speech), "no text voice for a speaking describer"


async def test_a_describers_own_waveform_is_resampled_to_the_output_rate() -> None:
    ports, published, cycle_speech = speech(None, describer_speaks=True)
    speaker = asyncio.create_task(cycle_speech.run())
    cycle_speech.take_text("A long enough answer")
    cycle_speech.take_waveform(Waveform(np.full(16_000, 0.2, dtype=np.float32), 16_000))
    cycle_speech.finish(skip=False)
    await speaker
    assert ports.speech == []
    seconds = sum(p.size for p in published) / OUTPUT_AUDIO.rate_hz
    # One second of audio, plus the resampler's held-back context flushed at the end.
    assert seconds == pytest.approx(1.0, abs=32 / VOICE_SAMPLE_RATE_HZ)


async def test_a_vocoder_that_hangs_skips_the_speech_after_the_deadline_and_says_why() -> None:
    ports, published, cycle_speech = speech()
    ports.hang_voice = True
    speaker = asyncio.create_task(cycle_speech.run())
    cycle_speech.take_text("A red car turns left. ")
    cycle_speech.take_text("It stops.")
    cycle_speech.finish(skip=False)
    await run_until(ports.clock, speaker.done)
    assert "sent nothing for 5 s" in cycle_speech.skipped
    assert published == []
    assert len(ports.speech) == 1, "after the first failure the rest is not tried"


async def test_a_vocoder_that_fails_skips_the_speech_with_its_error() -> None:
    ports, _, cycle_speech = speech()
    ports.fail_voice = ConnectionError("replica died")
    speaker = asyncio.create_task(cycle_speech.run())
    cycle_speech.take_text("A red car turns left.")
    cycle_speech.finish(skip=False)
    await run_until(ports.clock, speaker.done)
    assert "ConnectionError: replica died" in cycle_speech.skipped
