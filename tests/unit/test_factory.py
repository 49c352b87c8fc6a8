"""Backend choice and engine building from settings."""

from pathlib import Path

import pytest

from deployments.engine_factory import build_describer, build_voice, choose_backends, import_object
from serve_app.settings import Backend, VoiceBackend, load_settings


def model_dir(tmp_path: Path) -> str:
    (tmp_path / "config.json").write_text("{}")
    return str(tmp_path)


def test_auto_is_embedded_without_a_gpu(tmp_path: Path) -> None:
    choice = choose_backends(load_settings({"model_path": model_dir(tmp_path)}), False)
    assert (choice.describer, choice.voice) == (Backend.EMBEDDED, VoiceBackend.ESPEAK)
    assert "no GPU" in choice.reason


def test_auto_is_embedded_without_weights(tmp_path: Path) -> None:
    choice = choose_backends(load_settings({"model_path": str(tmp_path / "none")}), True)
    assert choice.describer is Backend.EMBEDDED and "no model" in choice.reason


def test_auto_is_minicpmo_with_a_gpu_and_weights_and_its_voice_follows(tmp_path: Path) -> None:
    # vLLM (the default engine) gives text only: the text voice speaks it.
    settings = load_settings({"model_path": model_dir(tmp_path)})
    choice = choose_backends(settings, True)
    assert (choice.describer, choice.voice) == (Backend.MINICPMO, VoiceBackend.ESPEAK)
    assert choice.wants_gpu and not choice.speaks
    # The remote-code engine has MiniCPM-o's own TTS head: its tokens go to Token2wav.
    remote = {"model_path": model_dir(tmp_path), "minicpmo_engine": "remote_code"}
    choice = choose_backends(load_settings(remote), True)
    assert (choice.voice, choice.speaks) == (VoiceBackend.TOKEN2WAV, True)
    in_process = load_settings({**remote, "tts_in_process": True})
    assert choose_backends(in_process, True).voice is VoiceBackend.ESPEAK


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


def test_minicpmo_without_a_gpu_or_with_a_bad_model_dir_fails_at_build_time(tmp_path: Path) -> None:
    from deployments.app import build_graph
    from serve_app.settings import SettingsError

    explicit = load_settings({"backend": "minicpmo", "model_path": str(tmp_path)})
    with pytest.raises(SettingsError, match="needs an NVIDIA GPU"):
        build_graph(explicit, gpu_available=False)
    with pytest.raises(SettingsError, match=r"MODEL_PATH .* has no config\.json"):
        build_graph(explicit, gpu_available=True)
    (tmp_path / "config.json").write_text('{"architectures": ["MiniCPMO"]}')
    with pytest.raises(SettingsError, match='"version" is None'):
        build_graph(explicit, gpu_available=True)
