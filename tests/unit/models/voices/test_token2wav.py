"""Token2wavVoice: the model's buffer protocol, per-stream caches, and the Voice contract.

Runs on a stand-in of stepaudio2.Token2wav (tests/fixtures/fake_minicpmo.py) whose per-call
output length is the real one's; no torch needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.loading.token2wav_assets import TOKEN2WAV_FILES, MissingAssetsError, Token2wavOptions
from models.messages import VOICE_SAMPLE_RATE_HZ, SpeechRequest
from models.voices.base import Voice
from models.voices.token2wav import Token2wavVoice
from tests.fixtures.fake_minicpmo import (
    SAMPLE_RATE_HZ,
    FakeToken2wav,
    FakeToken2wavV105,
    expected_samples,
)

SEED = [4218, 4218, 4218]
REF = "/voices/ref.wav"


def make_voice(
    fake_cls: type[FakeToken2wav] = FakeToken2wav,
) -> tuple[Token2wavVoice, FakeToken2wav]:
    fake = fake_cls("assets/token2wav")
    return Token2wavVoice(fake, REF), fake


def say(
    voice: Token2wavVoice,
    tokens: list[int],
    stream: str = "s1",
    utt: str = "u1",
    final: bool = False,
) -> list[np.ndarray]:
    request = SpeechRequest(stream_id=stream, utterance_id=utt, tokens=tuple(tokens), final=final)
    return list(voice.synthesize(request))


def test_is_a_voice_at_the_voice_rate() -> None:
    voice, _ = make_voice()
    assert isinstance(voice, Voice)
    assert voice.name == "token2wav"
    assert SAMPLE_RATE_HZ == VOICE_SAMPLE_RATE_HZ == 24_000


def test_first_call_waits_for_28_tokens_counting_the_three_silence_seed() -> None:
    voice, fake = make_voice()
    assert say(voice, list(range(100, 124))) == []  # 3 + 24 = 27 buffered: not yet
    out = say(voice, [124])
    assert len(fake.calls) == 1
    assert fake.calls[0].tokens == SEED + list(range(100, 125))
    assert fake.calls[0].last_chunk is False
    assert [chunk.size for chunk in out] == [24_000]  # 1 s: 160 ms silence + 840 ms speech


def test_windows_of_28_slide_by_25_so_3_tokens_are_look_ahead() -> None:
    voice, fake = make_voice()
    tokens = list(range(100, 200))
    for i in range(0, len(tokens), 7):
        say(voice, tokens[i : i + 7])
    sequence = SEED + tokens
    windows = [call.tokens for call in fake.calls]
    assert windows == [sequence[25 * k : 25 * k + 28] for k in range(len(windows))]
    assert len(windows) == (len(sequence) - 3) // 25
    assert not any(call.last_chunk for call in fake.calls)


def test_final_piece_flushes_the_rest_with_last_chunk() -> None:
    voice, fake = make_voice()
    tokens = list(range(100, 160))  # 63 with the seed: windows at 0 and 25, rest from 50
    chunks = say(voice, tokens[:40]) + say(voice, tokens[40:], final=True)
    sequence = SEED + tokens
    assert [c.tokens for c in fake.calls] == [sequence[0:28], sequence[25:53], sequence[50:]]
    assert [c.last_chunk for c in fake.calls] == [False, False, True]
    sizes = [c.size for c in chunks]
    assert sizes == expected_samples([28, 28, 13], [False, False, True])
    # All of it, plus the 160 ms the vocoder put first: 40 ms a token.
    assert sum(sizes) == len(sequence) * 960 + 3840


def test_output_is_float32_mono_at_24k_within_unit_range() -> None:
    voice, _ = make_voice()
    chunks = say(voice, list(range(100, 140)), final=True)
    assert chunks
    for chunk in chunks:
        assert chunk.dtype == np.float32
        assert chunk.ndim == 1
        assert float(np.abs(chunk).max()) <= 1.0


def test_streams_interleaved_on_one_replica_keep_their_own_caches() -> None:
    voice, fake = make_voice()
    a_tokens, b_tokens = list(range(100, 180)), list(range(1000, 1080))
    for i in range(0, 80, 10):
        say(voice, a_tokens[i : i + 10], stream="a")
        say(voice, b_tokens[i : i + 10], stream="b")
    assert len(fake.calls) >= 4
    for call in fake.calls:
        owner = set(a_tokens) if call.tokens[-1] < 1000 else set(b_tokens)
        # What this call's flow cache had consumed came from its own stream only.
        assert set(call.history_before) - {4218} <= owner
    a_calls = [c for c in fake.calls if c.tokens[-1] < 1000]
    assert a_calls[1].history_before == tuple(SEED + a_tokens[:22])


def test_reference_voice_is_prepared_once_and_cloned_per_utterance() -> None:
    voice, fake = make_voice()
    first = say(voice, list(range(100, 130)), utt="u1", final=True)
    second = say(voice, list(range(200, 230)), utt="u2", final=True)
    other = say(voice, list(range(300, 330)), stream="s2", utt="u1", final=True)
    assert fake.set_stream_cache_calls == [REF]
    # Each utterance starts from the reference cache: empty history, 160 ms lead-in again.
    starts = [c for c in fake.calls if c.tokens[:3] == SEED]
    assert [c.history_before for c in starts] == [(), (), ()]
    for chunks in (first, second, other):
        assert np.all(chunks[0][:3840] == 0)


def test_an_utterance_with_no_tokens_makes_no_sound() -> None:
    voice, fake = make_voice()
    assert say(voice, [], final=True) == []
    assert fake.calls == []


def test_an_unfinished_utterance_is_dropped_when_the_next_begins() -> None:
    voice, fake = make_voice()
    say(voice, list(range(100, 110)), utt="u1")
    say(voice, list(range(200, 225)), utt="u2")
    assert fake.calls[0].tokens == SEED + list(range(200, 225))


def test_close_stream_forgets_its_state() -> None:
    voice, fake = make_voice()
    say(voice, list(range(100, 110)))
    voice.close_stream("s1")
    assert say(voice, [], final=True) == []
    assert fake.calls == []


def test_text_requests_are_refused() -> None:
    voice, _ = make_voice()
    with pytest.raises(ValueError, match="tokens"):
        list(voice.synthesize(SpeechRequest(stream_id="s", utterance_id="u", text="hi")))


def test_minicpmo_utils_1_0_5_api_gives_the_same_audio() -> None:
    new, _ = make_voice(FakeToken2wav)
    old, old_fake = make_voice(FakeToken2wavV105)
    tokens = list(range(100, 170))
    a = say(new, tokens, final=True)
    b = say(old, tokens, final=True)
    assert [c.size for c in a] == [c.size for c in b]
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert old_fake.set_stream_cache_calls == [REF]


def test_vocoder_errors_propagate() -> None:
    voice, fake = make_voice()
    fake.fail_on_call = 1
    with pytest.raises(RuntimeError, match="fake Token2wav failure"):
        say(voice, list(range(100, 130)))


def test_missing_assets_fail_before_the_vocoder_is_built(tmp_path: Path) -> None:
    options = Token2wavOptions(tmp_path / "token2wav", tmp_path / "ref.wav")
    built: list[object] = []
    with pytest.raises(MissingAssetsError) as error:
        Token2wavVoice.from_options(options, factory=lambda *a, **k: built.append(a))
    message = str(error.value)
    assert "TTS_MODEL_DIR" in message and "REF_AUDIO_PATH" in message
    assert "openbmb/MiniCPM-o-4_5" in message
    assert built == []


def test_the_vocoder_is_built_from_the_assets_in_the_options(tmp_path: Path) -> None:
    tts_dir = tmp_path / "model" / "assets" / "token2wav"
    tts_dir.mkdir(parents=True)
    for name in TOKEN2WAV_FILES:
        (tts_dir / name).write_bytes(b"x")
    ref = tmp_path / "voice.wav"
    ref.write_bytes(b"RIFF")
    options = Token2wavOptions(tts_dir, ref, float16=True)
    built: list[FakeToken2wav] = []

    def factory(model_dir: Path, float16: bool) -> FakeToken2wav:
        built.append(FakeToken2wav(model_dir, float16=float16))
        return built[-1]

    voice = Token2wavVoice.from_options(options, factory=factory)
    assert built[0].model_path == tts_dir and built[0].float16 is True
    say(voice, list(range(100, 130)), final=True)
    assert built[0].set_stream_cache_calls == [str(ref)]
