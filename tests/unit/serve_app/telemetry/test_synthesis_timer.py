"""SynthesisTimer: seconds spent per second of audio made."""

from __future__ import annotations

import pytest

from serve_app.telemetry.synthesis_timer import SynthesisTimer


def test_half_a_second_for_two_seconds_of_audio_is_a_quarter() -> None:
    now = [10.0]
    timer = SynthesisTimer(24_000, clock=lambda: now[0])
    timer.count(24_000)
    timer.count(24_000)
    now[0] = 10.5
    assert timer.real_time_factor() == pytest.approx(0.25)


def test_a_piece_without_audio_has_no_factor() -> None:
    assert SynthesisTimer(24_000, clock=lambda: 1.0).real_time_factor() is None
