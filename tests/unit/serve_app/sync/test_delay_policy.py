"""Display delay policies: the EMA of observed latency, and a high quantile of it."""

import pytest

from serve_app.sync.delay_policy import EmaDelay, QuantileDelay


def test_ema_policy_follows_the_ema_and_never_holds() -> None:
    policy = EmaDelay(initial_s=5.0, alpha=0.2, max_s=12.0)
    assert not policy.holds_results
    assert policy.observe(3.95) == pytest.approx(4.79)


def test_ema_policy_is_capped_and_zero_disables_it() -> None:
    assert EmaDelay(5.0, 1.0, max_s=6.0).observe(30.0) == 6.0
    off = EmaDelay(0.0, 0.2, max_s=12.0)
    assert off.observe(3.0) == 0.0 and off.target_delay_s == 0.0


def test_quantile_policy_keeps_the_initial_delay_until_it_has_samples() -> None:
    policy = QuantileDelay(5.0, quantile=0.9, history=20, margin_s=0.1, max_s=12.0)
    assert policy.holds_results
    assert policy.observe(1.0) == 5.0
    assert policy.observe(1.2) == 5.0
    assert policy.observe(1.1) == pytest.approx(1.3)  # max of three + margin


def test_quantile_policy_covers_a_high_quantile_not_the_mean() -> None:
    policy = QuantileDelay(5.0, quantile=0.9, history=10, margin_s=0.0, max_s=12.0)
    for latency in [1.0] * 8 + [3.0, 3.0]:
        policy.observe(latency)
    # 9 of 10 cycles at or under the delay; the mean (1.4) would leave 2 of 10 late.
    assert policy.target_delay_s == 3.0
    for latency in [1.0] * 10:
        policy.observe(latency)
    assert policy.target_delay_s == 1.0, "old outliers age out of the history"


def test_quantile_policy_off_when_initial_delay_is_zero() -> None:
    policy = QuantileDelay(0.0, 0.9, 10, 0.1, 12.0)
    assert not policy.holds_results
    assert policy.observe(2.0) == 0.0
