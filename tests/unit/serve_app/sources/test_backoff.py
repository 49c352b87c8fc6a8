"""Backoff: exponential, capped, jittered delays between reconnect attempts."""

import random

import pytest

from serve_app.sources.backoff import Backoff


class Highest(random.Random):
    """Always picks the top of the jitter range: the delay is the ceiling itself."""

    def uniform(self, a: float, b: float) -> float:
        return b


class Lowest(random.Random):
    """Always picks the bottom of the jitter range."""

    def uniform(self, a: float, b: float) -> float:
        return a


def test_the_ceiling_doubles_each_attempt_up_to_the_maximum() -> None:
    backoff = Backoff(initial_s=0.5, max_s=6.0, rng=Highest())
    assert [backoff.next_delay_s() for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 6.0, 6.0]
    assert backoff.attempt == 6


def test_the_jitter_never_goes_below_half_the_ceiling() -> None:
    backoff = Backoff(initial_s=0.5, max_s=6.0, rng=Lowest())
    assert [backoff.next_delay_s() for _ in range(6)] == [0.25, 0.5, 1.0, 2.0, 3.0, 3.0]


def test_random_delays_stay_between_half_the_ceiling_and_the_ceiling() -> None:
    backoff = Backoff(initial_s=0.5, max_s=15.0, rng=random.Random(7))
    delays = [backoff.next_delay_s() for _ in range(40)]
    ceilings = [min(15.0, 0.5 * 2**attempt) for attempt in range(40)]
    for delay, ceiling in zip(delays, ceilings, strict=True):
        assert ceiling / 2 <= delay <= ceiling
    assert len(set(delays[-10:])) > 1, "capped delays are still jittered, not all equal"


def test_reset_starts_again_from_the_initial_delay() -> None:
    backoff = Backoff(initial_s=0.5, max_s=15.0, rng=Highest())
    for _ in range(4):
        backoff.next_delay_s()
    backoff.reset()
    assert backoff.attempt == 0
    assert backoff.next_delay_s() == pytest.approx(0.5)
