"""The soundtrack: each line's speech at its start, silence elsewhere, the video's length."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

from offline.commentator import SpokenLine
from offline.soundtrack import place_speech, write_wav
from serve_app.speech.audio_format import OUTPUT_AUDIO

RATE = OUTPUT_AUDIO.rate_hz


def spoken(start_s: float | None, seconds: float, value: int = 1000) -> SpokenLine:
    samples = np.full(round(seconds * RATE), value, np.int16)
    return SpokenLine(1, 0.0, start_s or 0.0, "a line", start_s, samples)


def test_the_track_is_as_long_as_the_video() -> None:
    assert place_speech([], 5.28).size == round(5.28 * RATE)


def test_speech_lies_at_its_start_with_silence_around() -> None:
    track = place_speech([spoken(1.0, 0.5, 1000), spoken(3.0, 1.0, -2000)], 5.0)
    assert not track[:RATE].any()
    assert (track[RATE : RATE + RATE // 2] == 1000).all()
    assert not track[RATE + RATE // 2 : 3 * RATE].any()
    assert (track[3 * RATE : 4 * RATE] == -2000).all()
    assert not track[4 * RATE :].any()


def test_speech_past_the_end_is_cut() -> None:
    track = place_speech([spoken(4.5, 2.0)], 5.0)
    assert track.size == 5 * RATE
    assert (track[round(4.5 * RATE) :] == 1000).all()


def test_a_line_without_speech_adds_nothing() -> None:
    assert not place_speech([spoken(None, 0.0)], 2.0).any()


def test_the_wav_is_mono_16_bit_at_the_output_rate(tmp_path: Path) -> None:
    path = tmp_path / "c.wav"
    write_wav(path, place_speech([spoken(0.5, 0.5)], 2.0))
    with wave.open(str(path)) as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (RATE, 1, 2)
        assert wav.getnframes() == 2 * RATE
