"""Engines built from the settings: plain options, assets and importable names."""

from pathlib import Path

import numpy as np
import pytest

from deployments.engine_factory import (
    build_describer,
    build_voice,
    import_object,
    minicpmo_load_options,
    token2wav_options,
)
from models.loading.token2wav_assets import TOKEN2WAV_FILES
from serve_app.settings import Backend, VoiceBackend, load_settings


def write_assets(model: Path) -> None:
    from scipy.io import wavfile

    tts_dir = model / "assets" / "token2wav"
    tts_dir.mkdir(parents=True)
    for name in TOKEN2WAV_FILES:
        (tts_dir / name).write_bytes(b"x")
    wavfile.write(model / "assets" / "ref_audio.wav", 16_000, np.zeros(1600, dtype=np.int16))


def test_settings_reach_the_minicpmo_engine() -> None:
    settings = load_settings(
        {
            "backend": "minicpmo",
            "minicpmo_engine": "remote_code",
            "enable_tts": False,
            "minicpmo_loader": "tests.fixtures.fake_minicpmo:load_fake_minicpmo",
            "minicpmo_repetition_penalty": 1.0,
            "minicpmo_context_max_cycles": 3,
        }
    )
    describer = build_describer(settings, Backend.MINICPMO)
    assert describer.name == "minicpmo"
    assert describer._options.repetition_penalty == 1.0
    assert describer._options.context_max_cycles == 3


def test_the_loader_gets_plain_options_mapped_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "model_path": str(tmp_path / "model"),
            "attn_implementation": "eager",
            "enable_tts": True,
            "tts_in_process": True,
            "tts_float16": True,
            "ref_audio_path": str(tmp_path / "voice.wav"),
        }
    )
    options = minicpmo_load_options(settings)
    assert (options.model_path, options.attn_implementation) == (str(tmp_path / "model"), "eager")
    assert options.speech and options.vocoder_in_process
    assert options.token2wav == token2wav_options(settings)
    assert options.token2wav.tts_model_dir == tmp_path / "model" / "assets" / "token2wav"
    assert options.token2wav.ref_audio_path == tmp_path / "voice.wav"
    assert options.token2wav.float16 is True


def test_in_process_speech_is_attached_with_the_settings_assets(tmp_path: Path) -> None:
    write_assets(tmp_path / "model")
    settings = load_settings(
        {
            "backend": "minicpmo",
            "minicpmo_engine": "remote_code",
            "model_path": str(tmp_path / "model"),
            "enable_tts": True,
            "tts_in_process": True,
            "minicpmo_loader": "tests.fixtures.fake_minicpmo:load_fake_minicpmo",
        }
    )
    model = build_describer(settings, Backend.MINICPMO)._model
    (call,) = model.init_tts_calls
    assert call["model_dir"] == str(tmp_path / "model" / "assets" / "token2wav")
    assert model.prompt_speech_16k is not None


def test_the_token2wav_voice_is_built_from_the_settings_assets(tmp_path: Path) -> None:
    write_assets(tmp_path / "model")
    settings = load_settings(
        {
            "model_path": str(tmp_path / "model"),
            "tts_float16": True,
            "token2wav_factory": "tests.fixtures.fake_minicpmo:FakeToken2wav",
        }
    )
    voice = build_voice(settings, VoiceBackend.TOKEN2WAV)
    assert voice.name == "token2wav"
    assert voice._t2w.model_path == tmp_path / "model" / "assets" / "token2wav"
    assert voice._t2w.float16 is True


def test_embedded_engines_build() -> None:
    settings = load_settings({})
    assert build_describer(settings, Backend.EMBEDDED).name == "embedded"
    assert build_voice(settings, VoiceBackend.ESPEAK).name == "espeak"
    assert build_voice(settings, VoiceBackend.SYNTHETIC).name == "synthetic"


def test_unresolved_or_unimportable_names_are_errors() -> None:
    with pytest.raises(ValueError, match="resolved"):
        build_describer(load_settings({}), Backend.AUTO)
    with pytest.raises(ValueError, match="cannot import"):
        import_object("tests.fixtures.fake_minicpmo:nothing_here")
    with pytest.raises(ValueError, match="hf_model_path"):
        build_describer(load_settings({}), Backend.HF)
