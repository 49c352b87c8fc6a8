"""The MiniCPM-o loader's speech side: init_tts across remote-code versions, no weights, no GPU."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models.loading.minicpmo_loader import attach_speech, init_tts_kwargs
from models.loading.token2wav_assets import MissingAssetsError, Token2wavOptions
from tests.fixtures.fake_minicpmo import FakeMiniCPMO, FakeMiniCPMONoStreamingArg, FakeToken2wav
from tests.unit.models.loading.test_token2wav_assets import add_assets, options_under


def test_init_tts_gets_streaming_only_where_the_signature_has_it(tmp_path: Path) -> None:
    with_arg = init_tts_kwargs(FakeMiniCPMO().init_tts, tmp_path, float16=False)
    without = init_tts_kwargs(FakeMiniCPMONoStreamingArg().init_tts, tmp_path, float16=False)
    assert with_arg == {"model_dir": str(tmp_path), "enable_float16": False, "streaming": True}
    assert without == {"model_dir": str(tmp_path), "enable_float16": False}


@pytest.mark.parametrize("model_cls", [FakeMiniCPMO, FakeMiniCPMONoStreamingArg])
def test_in_process_speech_builds_token2wav_and_primes_it_with_the_voice(
    tmp_path: Path, model_cls: type[FakeMiniCPMO]
) -> None:
    default = options_under(tmp_path / "MiniCPM-o-4_5-awq")
    options = Token2wavOptions(default.tts_model_dir, default.ref_audio_path, float16=True)
    add_assets(options)
    model = model_cls()
    voice_16k = np.zeros(16_000, dtype=np.float32)
    loaded: list[Path] = []

    def load_reference(path: Path) -> np.ndarray:
        loaded.append(path)
        return voice_16k

    attach_speech(model, options, vocoder_in_process=True, load_reference=load_reference)
    (call,) = model.init_tts_calls
    assert call["model_dir"] == str(options.tts_model_dir)
    assert call["enable_float16"] is True
    assert isinstance(model.tts.audio_tokenizer, FakeToken2wav)
    assert model.tts.config.audio_tokenizer_type == "s3tokenizer_step_audio"
    assert loaded == [options.ref_audio_path]
    assert model.prompt_speech_16k is voice_16k and model.token2wav_cache is not None


def test_split_speech_builds_no_vocoder_and_needs_no_assets(tmp_path: Path) -> None:
    model = FakeMiniCPMO()
    attach_speech(model, options_under(tmp_path / "none"), vocoder_in_process=False)
    assert model.init_tts_calls == [] and model.tts.audio_tokenizer is None


def test_in_process_speech_without_assets_fails_before_building(tmp_path: Path) -> None:
    model = FakeMiniCPMO()
    with pytest.raises(MissingAssetsError):
        attach_speech(model, options_under(tmp_path / "none"), vocoder_in_process=True)
    assert model.init_tts_calls == []


def test_engines_import_without_torch_or_transformers() -> None:
    code = (
        "import sys, models.loading.minicpmo_loader, models.describers.minicpmo, "
        "models.voices.token2wav; "
        "bad = {'torch', 'transformers', 'stepaudio2', 'librosa'} & set(sys.modules); "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[4]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)
