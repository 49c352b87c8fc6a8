"""DisplayDelay: the one owner of a stream's display delay.

The picture lags capture by this delay so that commentary lands on the frames it speaks of.
The stream's session owns it; FrameIngest only holds a copy, which the session pushes every
time :meth:`observe` or :meth:`retune` reports a change (and once at start), so picture and
words never run on two different delays.
"""

from __future__ import annotations

from serve_app.settings import StreamSettings, SyncPolicy
from serve_app.sync.delay_policy import DelayPolicy, EmaDelay, QuantileDelay

# A change smaller than this is not worth telling clients or FrameIngest about.
MIN_CHANGE_S = 0.001

_POLICY_FIELDS = (
    "sync_policy",
    "stream_delay_init_s",
    "sync_latency_quantile",
    "sync_history_cycles",
    "sync_margin_s",
    "stream_delay_ema_alpha",
    "max_display_delay_s",
)


def make_delay_policy(settings: StreamSettings) -> DelayPolicy:
    if settings.sync_policy is SyncPolicy.EMA:
        return EmaDelay(
            settings.stream_delay_init_s,
            settings.stream_delay_ema_alpha,
            settings.max_display_delay_s,
        )
    return QuantileDelay(
        settings.stream_delay_init_s,
        settings.sync_latency_quantile,
        settings.sync_history_cycles,
        settings.sync_margin_s,
        settings.max_display_delay_s,
    )


def _policy_key(settings: StreamSettings) -> tuple[object, ...]:
    return tuple(getattr(settings, name) for name in _POLICY_FIELDS)


class DisplayDelay:
    def __init__(self, settings: StreamSettings) -> None:
        self._key = _policy_key(settings)
        self._policy = make_delay_policy(settings)
        self.policy_name = str(settings.sync_policy)

    @property
    def target_delay_s(self) -> float:
        return self._policy.target_delay_s

    @property
    def holds_results(self) -> bool:
        """True: results wait for the display clock; False: they go out when produced."""
        return self._policy.holds_results

    def observe(self, latency_s: float) -> bool:
        """Feed one non-skip cycle's latency; True when the delay moved."""
        before = self._policy.target_delay_s
        return abs(self._policy.observe(latency_s) - before) >= MIN_CHANGE_S

    def retune(self, settings: StreamSettings) -> bool:
        """Take new settings; a changed sync policy starts a fresh estimate. True when it did."""
        key = _policy_key(settings)
        if key == self._key:
            return False
        self._key = key
        self._policy = make_delay_policy(settings)
        self.policy_name = str(settings.sync_policy)
        return True
