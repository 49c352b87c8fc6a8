"""Token2wav's assets and the reference voice: what is missing is named, the voice is read."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.loading.token2wav_assets import (
    TOKEN2WAV_FILES,
    MissingAssetsError,
    Token2wavOptions,
    check_tts_assets,
    load_reference_voice_16k,
)


def options_under(model: Path) -> Token2wavOptions:
    """The layout the settings default to: {model_path}/assets/..."""
    assets = model / "assets"
    return Token2wavOptions(assets / "token2wav", assets / "ref_audio.wav", model_path=str(model))


def add_assets(options: Token2wavOptions) -> None:
    options.tts_model_dir.mkdir(parents=True, exist_ok=True)
    for name in TOKEN2WAV_FILES:
        (options.tts_model_dir / name).write_bytes(b"x")
    options.ref_audio_path.write_bytes(b"RIFF")


def test_missing_assets_name_both_settings_and_the_bf16_repo(tmp_path: Path) -> None:
    model = tmp_path / "MiniCPM-o-4_5-awq"
    with pytest.raises(MissingAssetsError) as error:
        check_tts_assets(options_under(model))
    message = str(error.value)
    assert "TTS_MODEL_DIR" in message and "REF_AUDIO_PATH" in message
    assert "openbmb/MiniCPM-o-4_5" in message and "assets/" in message
    assert "flow.pt" in message
    assert f"--local-dir {model}" in message  # where to download them


def test_only_the_missing_asset_is_named(tmp_path: Path) -> None:
    options = options_under(tmp_path / "MiniCPM-o-4_5-awq")
    add_assets(options)
    options.ref_audio_path.unlink()
    with pytest.raises(MissingAssetsError) as error:
        check_tts_assets(options)
    assert "REF_AUDIO_PATH" in str(error.value) and "TTS_MODEL_DIR" not in str(error.value)


def test_present_assets_are_returned_as_given(tmp_path: Path) -> None:
    options = options_under(tmp_path / "MiniCPM-o-4_5-awq")
    add_assets(options)
    assert check_tts_assets(options) == (options.tts_model_dir, options.ref_audio_path)


@pytest.mark.parametrize("dtype", ["int16", "float32"])
def test_the_reference_voice_is_read_as_mono_float32_at_16k(tmp_path: Path, dtype: str) -> None:
    from scipy.io import wavfile

    t = np.arange(48_000) / 48_000
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    stereo = np.stack([tone, tone], axis=1)
    data = (stereo * 32767).astype(np.int16) if dtype == "int16" else stereo.astype(np.float32)
    wavfile.write(tmp_path / "voice.wav", 48_000, data)
    voice = load_reference_voice_16k(tmp_path / "voice.wav")
    assert voice.dtype == np.float32 and voice.ndim == 1 and voice.size == 16_000
    assert 0.45 < float(np.abs(voice).max()) < 0.55
