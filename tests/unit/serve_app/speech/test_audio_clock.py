import random

import pytest

from serve_app.speech.audio_clock import AudioClock, AudioGate

RATE = 48_000


def test_starts_empty() -> None:
    clock = AudioClock(RATE)
    assert clock.first_publish_time is None
    assert clock.estimated_playback_end is None
    assert clock.audio_seconds == 0


def test_back_to_back_chunks_play_in_one_run() -> None:
    clock = AudioClock(RATE)
    assert clock.publish(RATE, release_time=100.0) == 100.0
    assert clock.publish(RATE // 2, release_time=100.2) == 101.0  # queued behind the first
    assert clock.first_publish_time == 100.0
    assert clock.estimated_playback_end == pytest.approx(101.5)
    assert clock.audio_seconds == pytest.approx(1.5)


def test_a_chunk_after_silence_starts_a_new_run() -> None:
    clock = AudioClock(RATE)
    clock.publish(RATE, release_time=100.0)
    assert clock.publish(RATE, release_time=105.0) == 105.0
    assert clock.first_publish_time == 105.0
    assert clock.estimated_playback_end == pytest.approx(106.0)
    assert clock.audio_seconds == pytest.approx(2.0)


def test_reset_clock_forgets_everything() -> None:
    clock = AudioClock(RATE)
    clock.publish(RATE, 1.0)
    clock.reset_clock()
    assert clock.estimated_playback_end is None and clock.audio_seconds == 0


def test_no_drift_over_ten_hours_of_odd_sized_chunks() -> None:
    clock = AudioClock(RATE)
    rng = random.Random(3)
    sizes = [rng.randint(1, 24_000) for _ in range(300_000)]  # ~10 h of audio
    for i, size in enumerate(sizes):
        clock.publish(size, release_time=1000.0 + i * 1e-6)  # always inside the run
    exact = sum(sizes) / RATE
    assert clock.audio_seconds > 10 * 3600 * 0.4
    assert clock.estimated_playback_end - 1000.0 == pytest.approx(exact, abs=1e-6)


def test_gate_waits_for_the_interval_without_speech() -> None:
    gate = AudioGate(interval_s=1.0, pause_after_s=1.0)
    assert gate.next_cycle_at(last_cycle_end=10.0, playback_end=None) == 11.0


def test_gate_waits_for_playout_plus_pause_in_one_combined_wait() -> None:
    gate = AudioGate(interval_s=1.0, pause_after_s=1.0)
    assert gate.next_cycle_at(10.0, playback_end=13.0) == 14.0
    assert gate.next_cycle_at(10.0, playback_end=9.5) == 11.0  # audio long over: interval rules


def test_gate_lets_a_held_cycle_start_before_the_audio_ends() -> None:
    # Its words show display_delay_s after its frames are captured.
    gate = AudioGate(interval_s=1.0, pause_after_s=1.0)
    assert gate.next_cycle_at(10.0, playback_end=15.0, display_delay_s=2.5) == 13.5
    assert gate.next_cycle_at(10.0, playback_end=15.0, display_delay_s=10.0) == 11.0
