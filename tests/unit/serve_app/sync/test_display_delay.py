"""DisplayDelay: one owner for the delay; it says when the delay moved so it can be pushed."""

from serve_app.settings import StreamSettings, SyncPolicy
from serve_app.sync.delay_policy import EmaDelay, QuantileDelay
from serve_app.sync.display_delay import DisplayDelay


def test_it_starts_at_the_configured_delay_with_the_configured_policy() -> None:
    delay = DisplayDelay(StreamSettings(stream_delay_init_s=3.0))
    assert delay.target_delay_s == 3.0
    assert delay.holds_results and delay.policy_name == "presentation"


def test_observing_latency_reports_a_move_only_when_the_delay_moved() -> None:
    delay = DisplayDelay(StreamSettings(sync_policy=SyncPolicy.EMA, stream_delay_init_s=2.0))
    assert delay.observe(4.0) is True
    assert delay.target_delay_s > 2.0
    steady = DisplayDelay(StreamSettings(sync_policy=SyncPolicy.EMA, stream_delay_init_s=2.0))
    assert steady.observe(2.0) is False


def test_a_new_sync_policy_starts_a_fresh_estimate_and_says_so() -> None:
    settings = StreamSettings(stream_delay_init_s=2.0)
    delay = DisplayDelay(settings)
    assert isinstance(delay._policy, QuantileDelay)
    changed = settings.with_live_changes({"sync_policy": "ema"})
    assert delay.retune(changed) is True
    assert isinstance(delay._policy, EmaDelay) and delay.policy_name == "ema"
    assert delay.retune(changed) is False, "the same settings again change nothing"


def test_settings_that_do_not_touch_the_delay_keep_its_estimate() -> None:
    settings = StreamSettings(sync_policy=SyncPolicy.EMA, stream_delay_init_s=2.0)
    delay = DisplayDelay(settings)
    delay.observe(6.0)
    learned = delay.target_delay_s
    assert delay.retune(settings.with_live_changes({"tts_pause_after_s": 2.0})) is False
    assert delay.target_delay_s == learned
