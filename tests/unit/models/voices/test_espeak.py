"""EspeakVoice: real speech from the wheel's libespeak-ng, checked by measuring the audio.

eSpeak's output depends slightly on what the process synthesised before (its pitch "flutter"
and waveform phase run on across calls: a few samples of length, same sound), so comparisons
between calls use tolerances, never bit equality.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from models.messages import VOICE_SAMPLE_RATE_HZ, SpeechRequest
from models.voices.base import Voice
from models.voices.espeak import EspeakVoice, _EspeakLibrary, to_voice_rate

TEN_WORDS = "The red car turns left and stops beside the station."
LONG_TEXT = (
    "A cyclist crosses the bridge while two people wait at the corner. "
    "Behind them the traffic lights change and a bus pulls away from the stop."
)
SILENCE_RMS = 1e-3
REPO_ROOT = Path(__file__).resolve().parents[4]


@pytest.fixture(scope="module")
def voice() -> EspeakVoice:
    return EspeakVoice()


def request(text: str | None, final: bool = True) -> SpeechRequest:
    return SpeechRequest(stream_id="s1", utterance_id="u1", text=text, final=final)


def spoken(voice: EspeakVoice, text: str | None) -> np.ndarray:
    """Everything the voice yields for ``text``, joined."""
    chunks = list(voice.synthesize(request(text)))
    return np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)


def seconds(audio: np.ndarray) -> float:
    return audio.size / VOICE_SAMPLE_RATE_HZ


def rms(audio: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64))))


def median_f0_hz(audio: np.ndarray, rate: int = VOICE_SAMPLE_RATE_HZ) -> float:
    """Median fundamental over loud 40 ms frames, by autocorrelation (60-400 Hz)."""
    frame = int(0.04 * rate)
    estimates = []
    for start in range(0, audio.size - frame, frame):
        piece = audio[start : start + frame] - audio[start : start + frame].mean()
        if rms(piece) < 0.05:
            continue
        corr = np.correlate(piece, piece, "full")[frame - 1 :]
        low, high = rate // 400, rate // 60
        lag = low + int(np.argmax(corr[low:high]))
        if corr[lag] > 0.5 * corr[0]:
            estimates.append(rate / lag)
    assert len(estimates) >= 5, "too few voiced frames to estimate pitch"
    return float(np.median(estimates))


def test_implements_the_voice_protocol(voice: EspeakVoice) -> None:
    assert isinstance(voice, Voice)
    assert voice.name == "espeak"
    voice.close_stream("never-opened")  # no per-stream state: must not raise


def test_output_is_float32_mono_within_full_scale(voice: EspeakVoice) -> None:
    chunks = list(voice.synthesize(request(TEN_WORDS)))
    assert chunks
    for chunk in chunks:
        assert chunk.dtype == np.float32
        assert chunk.ndim == 1
        assert np.all(np.abs(chunk) <= 1.0)
        assert np.all(np.isfinite(chunk))


def test_ten_words_last_a_plausible_time(voice: EspeakVoice) -> None:
    duration = seconds(spoken(voice, TEN_WORDS))
    # 165 wpm is ~0.36 s a word; allow for the sentence-final pause and slower long words.
    assert 10 * 0.2 <= duration <= 10 * 0.6, duration


def test_longer_text_gives_longer_audio(voice: EspeakVoice) -> None:
    short = seconds(spoken(voice, "Hello."))
    medium = seconds(spoken(voice, TEN_WORDS))
    long = seconds(spoken(voice, LONG_TEXT))
    assert short < medium < long
    assert long > 2 * medium * 0.8  # 26 words against 10: roughly proportional


def test_speech_carries_energy_well_above_silence(voice: EspeakVoice) -> None:
    audio = spoken(voice, TEN_WORDS)
    assert rms(audio) > 20 * SILENCE_RMS
    assert np.max(np.abs(audio)) > 0.2
    # Speech is not one loud click: a good share of 20 ms frames is voiced.
    frames = audio[: audio.size // 480 * 480].reshape(-1, 480)
    loud = np.sqrt(np.mean(frames.astype(np.float64) ** 2, axis=1)) > 0.02
    assert loud.mean() > 0.4


def test_chunks_are_chunk_s_long_except_the_last() -> None:
    voice = EspeakVoice(chunk_s=0.25)
    sizes = [chunk.size for chunk in voice.synthesize(request(LONG_TEXT))]
    expected = round(0.25 * VOICE_SAMPLE_RATE_HZ)
    assert len(sizes) > 4
    assert all(size == expected for size in sizes[:-1])
    assert 0 < sizes[-1] <= expected


def test_output_is_at_the_contract_rate(voice: EspeakVoice) -> None:
    native = voice.native_audio(LONG_TEXT)
    assert voice.native_sample_rate_hz == 22_050
    assert native.dtype == np.int16
    # A fresh synthesis may differ from the last by a few pitch periods, hence 1 %.
    expected = native.size * VOICE_SAMPLE_RATE_HZ / voice.native_sample_rate_hz
    assert spoken(voice, LONG_TEXT).size == pytest.approx(expected, rel=0.01)
    # Same call, exactly: conversion stretches 22050 Hz samples by 160/147.
    converted = to_voice_rate(native, voice.native_sample_rate_hz)
    assert converted.size == int(np.ceil(native.size * 160 / 147))


def test_conversion_keeps_frequencies() -> None:
    native_rate = 22_050
    t = np.arange(native_rate) / native_rate
    tone = np.round(0.5 * 32767 * np.sin(2 * np.pi * 1000.0 * t)).astype(np.int16)
    out = to_voice_rate(tone, native_rate)
    spectrum = np.abs(np.fft.rfft(out))
    peak_hz = np.argmax(spectrum) * VOICE_SAMPLE_RATE_HZ / out.size
    assert peak_hz == pytest.approx(1000.0, abs=2.0)  # played at 24 kHz it is still 1 kHz
    assert rms(out) == pytest.approx(0.5 / np.sqrt(2), rel=0.02)


def test_conversion_clips_overshoot_to_full_scale() -> None:
    square = np.tile(np.r_[np.full(50, 32767), np.full(50, -32768)], 100).astype(np.int16)
    out = to_voice_rate(square, 22_050)
    assert np.max(np.abs(out)) <= 1.0


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_blank_text_yields_nothing(voice: EspeakVoice, text: str | None) -> None:
    assert list(voice.synthesize(request(text))) == []


def test_final_flag_changes_nothing_for_text(voice: EspeakVoice) -> None:
    middle = np.concatenate(list(voice.synthesize(request(TEN_WORDS, final=False))))
    last = np.concatenate(list(voice.synthesize(request(TEN_WORDS, final=True))))
    assert seconds(middle) == pytest.approx(seconds(last), rel=0.01)


def test_unicode_text_is_spoken(voice: EspeakVoice) -> None:
    audio = spoken(voice, "Café crème, naïve façade — “quoted” 🙂 ü ß 日本")
    assert seconds(audio) > 1.0
    assert rms(audio) > 20 * SILENCE_RMS


def test_non_english_voice_speaks() -> None:
    audio = spoken(EspeakVoice(voice="de"), "Der Hund läuft über die Straße.")
    assert seconds(audio) > 1.0
    assert rms(audio) > 20 * SILENCE_RMS


def test_rate_parameter_changes_speed() -> None:
    slow = seconds(spoken(EspeakVoice(rate_wpm=110), LONG_TEXT))
    fast = seconds(spoken(EspeakVoice(rate_wpm=300), LONG_TEXT))
    assert fast < 0.6 * slow


def test_pitch_parameter_changes_fundamental() -> None:
    low = median_f0_hz(spoken(EspeakVoice(pitch=10), LONG_TEXT))
    high = median_f0_hz(spoken(EspeakVoice(pitch=90), LONG_TEXT))
    assert high > 1.4 * low


def test_instances_keep_their_own_settings_when_interleaved() -> None:
    slow, fast = EspeakVoice(rate_wpm=110), EspeakVoice(rate_wpm=300)
    alone = seconds(spoken(slow, TEN_WORDS))
    spoken(fast, TEN_WORDS)  # leaves the library's global rate at 300
    after = seconds(spoken(slow, TEN_WORDS))
    assert after == pytest.approx(alone, rel=0.02)
    assert seconds(spoken(fast, TEN_WORDS)) < 0.6 * after


def test_all_instances_share_one_initialised_library() -> None:
    assert EspeakVoice()._library is EspeakVoice(voice="fr")._library


def concurrency_check(repeats: int = 6) -> None:
    """Two threads, two differently set voices, each call compared with a sequential one.

    Run in a child process by the test below: without the lock libespeak-ng aborts the
    process outright, which should read as one failed test, not a dead test run.
    """
    voices = {"short": EspeakVoice(rate_wpm=300), "long": EspeakVoice(rate_wpm=120)}
    texts = {"short": TEN_WORDS, "long": LONG_TEXT}
    baseline = {key: spoken(voices[key], texts[key]) for key in voices}
    results: dict[str, list[np.ndarray]] = {key: [] for key in voices}
    errors: list[BaseException] = []
    start = threading.Barrier(len(voices))

    def worker(key: str) -> Callable[[], None]:
        def run() -> None:
            try:
                start.wait()
                for _ in range(repeats):
                    results[key].append(spoken(voices[key], texts[key]))
            except BaseException as exc:  # a thread cannot fail the check itself
                errors.append(exc)

        return run

    threads = [threading.Thread(target=worker(key)) for key in voices]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    for key, runs in results.items():
        assert len(runs) == repeats, key
        for audio in runs:
            # Interleaved synthesis would splice the other thread's samples or settings in.
            assert audio.size == pytest.approx(baseline[key].size, rel=0.01), key
            assert rms(audio) == pytest.approx(rms(baseline[key]), rel=0.05), key


def test_concurrent_calls_match_sequential_ones() -> None:
    code = "from tests.unit.models.voices.test_espeak import concurrency_check; concurrency_check()"
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"exit {done.returncode}\n{done.stderr[-3000:]}"


def test_unknown_voice_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="no voice 'zz-nonexistent'"):
        EspeakVoice(voice="zz-nonexistent")
    # The failed selection must not poison the library for the next voice.
    assert seconds(spoken(EspeakVoice(), "Still working.")) > 0.5


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"rate_wpm": 20}, "rate_wpm"),
        ({"rate_wpm": 900}, "rate_wpm"),
        ({"pitch": -1}, "pitch"),
        ({"pitch": 101}, "pitch"),
        ({"chunk_s": 0}, "chunk_s"),
    ],
)
def test_out_of_range_settings_are_rejected(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EspeakVoice(**kwargs)  # type: ignore[arg-type]


def test_unloadable_library_names_its_path(monkeypatch: pytest.MonkeyPatch) -> None:
    import espeakng_loader

    bogus = "/nonexistent/dir/libespeak-ng.so"
    monkeypatch.setattr(espeakng_loader, "get_library_path", lambda: bogus)
    with pytest.raises(RuntimeError, match=bogus):
        _EspeakLibrary()  # a fresh load, bypassing the process-wide instance
