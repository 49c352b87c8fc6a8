"""The CLI's settings: the service's model from the environment, a few flags on top."""

from __future__ import annotations

import pytest

from offline.options import flag_overrides, load_offline_settings
from serve_app.settings import SettingsError


def test_flags_name_stream_settings() -> None:
    flags = {"language": "de", "interval": "2.5", "frames": "3", "no_speech": True}
    assert flag_overrides(flags) == {
        "language": "de",
        "inference_interval_s": "2.5",
        "frames_per_inference": "3",
        "enable_tts": False,
    }


def test_flags_left_out_set_nothing() -> None:
    assert flag_overrides({"language": None, "no_speech": False}) == {}


def test_flags_are_validated_by_the_settings_model() -> None:
    settings = load_offline_settings({"interval": "2.5", "language": "de"})
    assert settings.stream.inference_interval_s == 2.5
    # The voice is built from the service settings: it must speak the flag's language too.
    assert settings.service.language == "de"


def test_a_flag_beats_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFERENCE_INTERVAL_S", "7")
    monkeypatch.setenv("TTS_PAUSE_AFTER_S", "0.5")
    settings = load_offline_settings({"interval": "3"})
    assert settings.stream.inference_interval_s == 3.0
    assert settings.stream.tts_pause_after_s == 0.5


def test_a_bad_flag_is_one_line_naming_the_field() -> None:
    with pytest.raises(SettingsError) as error:
        load_offline_settings({"interval": "-1", "frames": "zero"})
    message = str(error.value)
    assert "\n" not in message
    assert "inference_interval_s" in message and "frames_per_inference" in message


def test_a_bad_environment_value_names_the_field(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPTURE_FPS", "0")
    with pytest.raises(SettingsError, match="capture_fps"):
        load_offline_settings({})


def test_cross_field_rules_hold_for_flags_too() -> None:
    with pytest.raises(SettingsError, match="window_size"):
        load_offline_settings({"frames": "32"})  # 32 frames at stride 2 exceed the window
