"""Service settings: defaults, yaml and environment precedence, errors, weights and exports."""

import ast
from pathlib import Path

import pytest

import serve_app.settings
from serve_app.settings import ServiceSettings, SettingsError, load_settings

ROOT = Path(__file__).resolve().parents[4]


def test_defaults_are_the_original_systems() -> None:
    s = load_settings({})
    assert (s.window_size, s.capture_fps, s.frames_per_inference, s.frame_stride) == (32, 2.0, 4, 2)
    assert s.inference_interval_s == 1.0
    assert (s.stream_delay_init_s, s.stream_delay_ema_alpha) == (5.0, 0.2)
    assert (s.tts_pause_after_s, s.tts_max_new_tokens, s.mjpeg_fps) == (1.0, 150, 10.0)


def test_yaml_args_override_defaults_and_environment_overrides_yaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert load_settings({"capture_fps": 1.0}).capture_fps == 1.0
    monkeypatch.setenv("CAPTURE_FPS", "3")
    assert load_settings({"capture_fps": 1.0}).capture_fps == 3.0


def test_errors_name_every_bad_field() -> None:
    with pytest.raises(SettingsError) as error:
        load_settings({"capture_fps": 0, "bogus": 1, "backend": "gpt"})
    message = str(error.value)
    for field in ("capture_fps", "bogus", "backend"):
        assert field in message


def test_bad_environment_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WINDOW_SIZE", "lots")
    with pytest.raises(SettingsError, match="window_size"):
        load_settings({})


def test_every_setting_has_a_description() -> None:
    undocumented = [n for n, f in ServiceSettings.model_fields.items() if not f.description]
    assert undocumented == []


def test_default_weights_live_in_the_top_level_weights_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("MODEL_PATH", "TTS_MODEL_DIR", "REF_AUDIO_PATH"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings({})
    model = Path(settings.model_path)
    assert model == Path("weights/MiniCPM-o-4_5-awq")
    assert settings.resolved_tts_model_dir() == model / "assets" / "token2wav"
    assert settings.resolved_ref_audio_path() == model / "assets" / "ref_audio.wav"
    # Checkpoints are gigabytes: the folder they default to must never be committed.
    assert "/weights/" in (ROOT / ".gitignore").read_text().splitlines()


def _names_imported_from_settings(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    return {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module == "serve_app.settings"
        for alias in node.names
    }


def test_every_name_the_repo_imports_from_settings_is_exported() -> None:
    folders = ("serve_app", "deployments", "models", "tests", "benchmarks")
    imported = {
        name
        for folder in folders
        for path in (ROOT / folder).rglob("*.py")
        for name in _names_imported_from_settings(path)
    }
    assert imported, "the scan found no imports: did the package move?"
    assert imported <= set(serve_app.settings.__all__)
    for name in serve_app.settings.__all__:
        assert getattr(serve_app.settings, name) is not None
