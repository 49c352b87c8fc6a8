"""Stream settings: the cross-field rules, per-stream overrides and live changes."""

import pytest

from serve_app.settings import LIVE_STREAM_SETTINGS, SettingsError, StreamSettings, load_settings


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
