"""The MiniCPM-o loader at its boundary: synthetic model directories, no weights, no GPU."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from models.loading.minicpmo_loader import (
    TOKEN2WAV_FILES,
    MissingAssetsError,
    attach_speech,
    awq_modules_to_not_convert,
    check_tts_assets,
    init_tts_kwargs,
    inspect_model_dir,
    load_reference_voice_16k,
    prepare_quantization_config,
    refresh_remote_code_cache,
    remote_code_cache_dir,
)
from serve_app.settings import ServiceSettings
from tests.fixtures.fake_minicpmo import FakeMiniCPMO, FakeMiniCPMONoStreamingArg, FakeToken2wav

ISSUE_LIST = [
    "vpm",
    "resampler",
    "apm",
    "audio_projection_layer",
    "audio_avg_pooler",
    "tts",
    "llm.model.embed_tokens",
    "llm.lm_head",
    "llm.model.norm",
]
# As published in the AWQ repo: modules_to_not_convert is null (nerdpudding model_patches.md).
AWQ_QUANT = {
    "bits": 4,
    "group_size": 128,
    "modules_to_not_convert": None,
    "quant_method": "awq",
    "version": "gemm",
    "zero_point": True,
}


def write_model_dir(root: Path, name: str, quantization: dict | None) -> Path:
    model = root / name
    model.mkdir(parents=True)
    config = {"architectures": ["MiniCPMO"], "model_type": "minicpmo", "torch_dtype": "bfloat16"}
    if quantization is not None:
        config["quantization_config"] = quantization
    (model / "config.json").write_text(json.dumps(config, indent=2))
    return model


@pytest.fixture()
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MODEL_PATH", "TTS_MODEL_DIR", "REF_AUDIO_PATH", "TTS_FLOAT16", "TTS_IN_PROCESS"):
        monkeypatch.delenv(name, raising=False)


# --- dtype and quantization -----------------------------------------------------------------


def test_awq_directory_loads_in_float16(tmp_path: Path) -> None:
    info = inspect_model_dir(write_model_dir(tmp_path, "MiniCPM-o-4_5-awq", AWQ_QUANT))
    assert info.is_awq and info.dtype_name == "float16" and info.is_local


def test_bf16_directory_loads_in_bfloat16(tmp_path: Path) -> None:
    info = inspect_model_dir(write_model_dir(tmp_path, "MiniCPM-o-4_5", None))
    assert not info.is_awq and info.quant_method is None and info.dtype_name == "bfloat16"


def test_a_directory_without_config_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="MODEL_PATH"):
        inspect_model_dir(tmp_path / "nothing-here")


def test_modules_not_to_convert_are_everything_but_the_llm_layers() -> None:
    assert awq_modules_to_not_convert() == ISSUE_LIST


def test_the_awq_fix_is_applied_to_the_loaded_config_not_the_file(tmp_path: Path) -> None:
    model = write_model_dir(tmp_path, "MiniCPM-o-4_5-awq", AWQ_QUANT)
    before = (model / "config.json").read_bytes()
    config = SimpleNamespace(**json.loads(before))  # what AutoConfig hands back, in shape
    prepare_quantization_config(config)
    assert config.quantization_config["modules_to_not_convert"] == ISSUE_LIST
    assert config.quantization_config["group_size"] == 128
    assert (model / "config.json").read_bytes() == before


def test_the_awq_fix_keeps_modules_a_config_already_lists() -> None:
    config = SimpleNamespace(quantization_config={**AWQ_QUANT, "modules_to_not_convert": ["x"]})
    prepare_quantization_config(config)
    assert config.quantization_config["modules_to_not_convert"] == ["x", *ISSUE_LIST]


def test_the_awq_fix_through_transformers_autoconfig(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    # A config transformers knows without remote code, so nothing lands in the modules cache.
    model = tmp_path / "awq"
    model.mkdir()
    raw = {"model_type": "qwen3", "quantization_config": AWQ_QUANT}
    (model / "config.json").write_text(json.dumps(raw))
    before = (model / "config.json").read_bytes()
    config = transformers.AutoConfig.from_pretrained(str(model))
    prepare_quantization_config(config)
    assert config.quantization_config["modules_to_not_convert"] == ISSUE_LIST
    awq = transformers.AwqConfig.from_dict(config.quantization_config)
    assert awq.modules_to_not_convert == ISSUE_LIST  # what from_pretrained builds from it
    assert (model / "config.json").read_bytes() == before


# --- remote code cache ----------------------------------------------------------------------


def test_stale_remote_code_in_the_modules_cache_is_refreshed(tmp_path: Path) -> None:
    model = write_model_dir(tmp_path, "MiniCPM-o-4_5-awq", AWQ_QUANT)
    (model / "modeling_minicpmo.py").write_text("VERSION = 2\n")
    (model / "utils.py").write_text("HELPERS = 1\n")
    cache_root = tmp_path / "hf_modules"
    cached = remote_code_cache_dir(model, cache_root)
    assert cached == cache_root / "transformers_modules" / "MiniCPM-o-4_5-awq"
    cached.mkdir(parents=True)
    (cached / "modeling_minicpmo.py").write_text("VERSION = 1\n")  # same size: the shallow trap
    (cached / "utils.py").write_text("HELPERS = 1\n")
    (cached / "__pycache__").mkdir()
    stamp = os.stat(model / "modeling_minicpmo.py")
    os.utime(cached / "modeling_minicpmo.py", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))

    assert refresh_remote_code_cache(model, cache_root) == ["modeling_minicpmo.py"]
    assert (cached / "modeling_minicpmo.py").read_text() == "VERSION = 2\n"
    assert not (cached / "__pycache__").exists()
    assert refresh_remote_code_cache(model, cache_root) == []  # now in step


def test_a_model_never_loaded_has_nothing_to_refresh(tmp_path: Path) -> None:
    model = write_model_dir(tmp_path, "MiniCPM-o-4_5", None)
    (model / "modeling_minicpmo.py").write_text("VERSION = 2\n")
    assert refresh_remote_code_cache(model, tmp_path / "hf_modules") == []


def test_the_cache_folder_ignores_a_trailing_slash(tmp_path: Path) -> None:
    assert remote_code_cache_dir(f"{tmp_path}/MiniCPM-o-4_5/", "/c").name == "MiniCPM-o-4_5"


# --- speech assets ----------------------------------------------------------------------------


def awq_settings(tmp_path: Path, **overrides: object) -> ServiceSettings:
    model = tmp_path / "MiniCPM-o-4_5-awq"
    model.mkdir(exist_ok=True)
    return ServiceSettings(model_path=str(model), **overrides)


def add_assets(settings: ServiceSettings) -> None:
    tts_dir = settings.resolved_tts_model_dir()
    tts_dir.mkdir(parents=True, exist_ok=True)
    for name in TOKEN2WAV_FILES:
        (tts_dir / name).write_bytes(b"x")
    settings.resolved_ref_audio_path().write_bytes(b"RIFF")


def test_missing_assets_name_both_settings_and_the_bf16_repo(
    tmp_path: Path, clean_env: None
) -> None:
    with pytest.raises(MissingAssetsError) as error:
        check_tts_assets(awq_settings(tmp_path))
    message = str(error.value)
    assert "TTS_MODEL_DIR" in message and "REF_AUDIO_PATH" in message
    assert "openbmb/MiniCPM-o-4_5" in message and "assets/" in message
    assert "flow.pt" in message


def test_only_the_missing_asset_is_named(tmp_path: Path, clean_env: None) -> None:
    settings = awq_settings(tmp_path)
    add_assets(settings)
    settings.resolved_ref_audio_path().unlink()
    with pytest.raises(MissingAssetsError) as error:
        check_tts_assets(settings)
    assert "REF_AUDIO_PATH" in str(error.value) and "TTS_MODEL_DIR" not in str(error.value)


def test_present_assets_resolve_to_the_default_layout(tmp_path: Path, clean_env: None) -> None:
    settings = awq_settings(tmp_path)
    add_assets(settings)
    tts_dir, ref = check_tts_assets(settings)
    assert tts_dir == Path(settings.model_path) / "assets" / "token2wav"
    assert ref == Path(settings.model_path) / "assets" / "ref_audio.wav"


# --- init_tts across remote-code versions ---------------------------------------------------------


def test_init_tts_gets_streaming_only_where_the_signature_has_it(tmp_path: Path) -> None:
    with_arg = init_tts_kwargs(FakeMiniCPMO().init_tts, tmp_path, float16=False)
    without = init_tts_kwargs(FakeMiniCPMONoStreamingArg().init_tts, tmp_path, float16=False)
    assert with_arg == {"model_dir": str(tmp_path), "enable_float16": False, "streaming": True}
    assert without == {"model_dir": str(tmp_path), "enable_float16": False}


@pytest.mark.parametrize("model_cls", [FakeMiniCPMO, FakeMiniCPMONoStreamingArg])
def test_in_process_speech_builds_token2wav_and_primes_it_with_the_voice(
    tmp_path: Path, clean_env: None, model_cls: type[FakeMiniCPMO]
) -> None:
    settings = awq_settings(tmp_path, tts_float16=True)
    add_assets(settings)
    model = model_cls()
    voice_16k = np.zeros(16_000, dtype=np.float32)
    loaded: list[Path] = []

    def load_reference(path: Path) -> np.ndarray:
        loaded.append(path)
        return voice_16k

    attach_speech(model, settings, vocoder_in_process=True, load_reference=load_reference)
    (call,) = model.init_tts_calls
    assert call["model_dir"] == str(settings.resolved_tts_model_dir())
    assert call["enable_float16"] is True
    assert isinstance(model.tts.audio_tokenizer, FakeToken2wav)
    assert model.tts.config.audio_tokenizer_type == "s3tokenizer_step_audio"
    assert loaded == [settings.resolved_ref_audio_path()]
    assert model.prompt_speech_16k is voice_16k and model.token2wav_cache is not None


def test_split_speech_builds_no_vocoder_and_needs_no_assets(
    tmp_path: Path, clean_env: None
) -> None:
    model = FakeMiniCPMO()
    attach_speech(model, awq_settings(tmp_path), vocoder_in_process=False)
    assert model.init_tts_calls == [] and model.tts.audio_tokenizer is None


def test_in_process_speech_without_assets_fails_before_building(
    tmp_path: Path, clean_env: None
) -> None:
    model = FakeMiniCPMO()
    with pytest.raises(MissingAssetsError):
        attach_speech(model, awq_settings(tmp_path), vocoder_in_process=True)
    assert model.init_tts_calls == []


def test_engines_import_without_torch_or_transformers() -> None:
    code = (
        "import sys, models.loading.minicpmo_loader, models.describers.minicpmo, "
        "models.voices.token2wav; "
        "bad = {'torch', 'transformers', 'stepaudio2', 'librosa'} & set(sys.modules); "
        "assert not bad, bad"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


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


# --- optional imports of the remote code (seen on the GPU machine, benchmarks/gpu_minicpmo.py) ---


def test_missing_optional_remote_imports_are_skipped_and_others_kept():
    from models.loading.minicpmo_loader import skip_missing_optional_imports

    found = ["torch", "flag_gems", "librosa", "soundfile", "numpy", "missing_required"]
    installed = {"torch", "numpy", "soundfile"}
    keep, skipped = skip_missing_optional_imports(found, is_installed=installed.__contains__)
    # installed optional packages are still checked; a missing required one is still reported
    assert keep == ["torch", "soundfile", "numpy", "missing_required"]
    assert skipped == ["flag_gems", "librosa"]


def test_optional_remote_imports_relaxes_transformers_scan_only_while_loading(tmp_path):
    pytest.importorskip("transformers")
    from transformers import dynamic_module_utils

    from models.loading.minicpmo_loader import optional_remote_imports

    module = tmp_path / "modeling_x.py"
    module.write_text(
        "import os\nimport json\nif os.getenv('USE_FLAGOS') == '1':\n    import flag_gems\n"
        "def f():\n    import librosa\n"
    )
    original = dynamic_module_utils.get_imports
    with optional_remote_imports():
        assert "flag_gems" not in dynamic_module_utils.get_imports(str(module))
        assert "librosa" not in dynamic_module_utils.get_imports(str(module))
        dynamic_module_utils.check_imports(str(module))  # would raise ImportError outside
    assert dynamic_module_utils.get_imports is original
    with pytest.raises(ImportError, match="flag_gems"):
        dynamic_module_utils.check_imports(str(module))
