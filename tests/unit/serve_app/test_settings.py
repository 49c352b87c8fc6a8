import ast
from pathlib import Path

import pytest

import serve_app.settings
from serve_app.settings import (
    LIVE_STREAM_SETTINGS,
    ServiceSettings,
    SettingsError,
    StreamSettings,
    load_settings,
)

ROOT = Path(__file__).resolve().parents[3]


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


def test_cross_field_rules() -> None:
    with pytest.raises(SettingsError, match="frame_stride"):
        load_settings({"window_size": 4, "frames_per_inference": 4, "frame_stride": 2})
    with pytest.raises(SettingsError, match="display_buffer_s"):
        load_settings({"display_buffer_s": 5, "max_display_delay_s": 6, "stream_delay_init_s": 1})


def test_per_stream_overrides_are_validated_copies() -> None:
    defaults = load_settings({}).stream_defaults()
    quiet = defaults.with_overrides({"enable_tts": False})
    assert quiet.enable_tts is False and defaults.enable_tts is True
    with pytest.raises(ValueError, match="capture_fps"):
        defaults.with_overrides({"capture_fps": -2})
    with pytest.raises(ValueError, match="model_path"):
        defaults.with_overrides({"model_path": "x"})  # service-wide, not per stream


def test_live_settings_are_stream_settings() -> None:
    assert set(StreamSettings.model_fields) >= LIVE_STREAM_SETTINGS


def test_every_setting_has_a_description() -> None:
    undocumented = [n for n, f in ServiceSettings.model_fields.items() if not f.description]
    assert undocumented == []


def test_docs_settings_md_is_generated_from_the_model() -> None:
    from serve_app.settings.doc import render

    doc = (ROOT / "docs" / "settings.md").read_text()
    assert doc == render(), "run: python -m serve_app.settings.doc > docs/settings.md"
    for name in ServiceSettings.model_fields:
        assert f"`{name.upper()}`" in doc


def test_live_changes_are_validated_like_any_setting() -> None:
    from serve_app.settings import StreamSettings, SyncPolicy

    current = StreamSettings(sync_policy="presentation")
    changed = current.with_live_changes({"sync_policy": "ema", "inference_interval_s": "2.5"})
    # The enum and the float, not the strings Serve's user_config carries.
    assert changed.sync_policy is SyncPolicy.EMA and changed.inference_interval_s == 2.5
    with pytest.raises(ValueError, match=r"user_config: sync_policy"):
        current.with_live_changes({"sync_policy": "sometimes"})
    with pytest.raises(ValueError, match="cannot change live"):
        current.with_live_changes({"frames_per_inference": 2})


def test_no_overrides_leave_the_stream_settings_as_they_are() -> None:
    defaults = StreamSettings()
    assert defaults.with_overrides(None) is defaults
    assert defaults.with_overrides({}) is defaults
    assert defaults.with_live_changes({}) is defaults


def test_overrides_that_break_a_cross_field_rule_are_refused() -> None:
    with pytest.raises(ValueError, match="frames_per_inference"):
        StreamSettings().with_overrides({"window_size": 2})
    with pytest.raises(ValueError, match=r"user_config: \(model\): .*intensity_low_change"):
        StreamSettings().with_live_changes({"intensity_low_change": 0.9})


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
