"""The output audio format: one owner for rate, channels and sample size, and what follows."""

import io
import wave

from serve_app.speech.audio_format import OUTPUT_AUDIO, PcmFormat


def test_clients_get_48_khz_mono_16_bit() -> None:
    assert (OUTPUT_AUDIO.rate_hz, OUTPUT_AUDIO.channels, OUTPUT_AUDIO.sample_bytes) == (
        48_000,
        1,
        2,
    )
    assert OUTPUT_AUDIO.media_type == "audio/L16;rate=48000;channels=1"
    assert OUTPUT_AUDIO.headers == {
        "X-Audio-Rate": "48000",
        "X-Audio-Channels": "1",
        "X-Audio-Format": "s16le",
    }


def test_duration_follows_the_format() -> None:
    assert OUTPUT_AUDIO.duration_s(96_000) == 1.0
    assert PcmFormat(rate_hz=24_000, channels=2).duration_s(96_000) == 1.0


def test_the_streaming_wav_header_is_one_a_wav_reader_accepts() -> None:
    pcm = b"\x01\x00" * 4_800
    with wave.open(io.BytesIO(OUTPUT_AUDIO.streaming_wav_header() + pcm)) as reader:
        assert reader.getframerate() == 48_000
        assert reader.getnchannels() == 1 and reader.getsampwidth() == 2
        assert reader.readframes(4_800) == pcm
