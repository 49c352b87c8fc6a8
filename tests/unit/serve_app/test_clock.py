"""ManualClock wakes exactly what is due; wait_or_timeout returns on an event or the time."""

import asyncio

import pytest

from serve_app.clock import ManualClock, wait_or_timeout
from tests.support.scripted_ports import settle


async def test_a_sleeper_wakes_when_the_clock_passes_its_deadline_and_not_before() -> None:
    clock = ManualClock()
    sleeper = asyncio.create_task(clock.sleep(2.0))
    await settle()
    clock.advance(1.9)
    await settle()
    assert not sleeper.done()
    clock.advance(0.1)
    await settle()
    assert sleeper.done()


async def test_sleepers_wake_in_deadline_order() -> None:
    clock, woke = ManualClock(), []

    async def nap(name: str, seconds: float) -> None:
        await clock.sleep(seconds)
        woke.append(name)

    tasks = [asyncio.create_task(nap("late", 3)), asyncio.create_task(nap("early", 1))]
    await settle()
    clock.advance(5)
    await asyncio.gather(*tasks)
    assert woke == ["early", "late"]


async def test_wait_or_timeout_returns_on_the_event_or_on_the_clock() -> None:
    clock, event = ManualClock(), asyncio.Event()
    waiter = asyncio.create_task(wait_or_timeout(event, clock, 5.0))
    await settle()
    event.set()
    await settle()
    assert waiter.done()
    event.clear()
    waiter = asyncio.create_task(wait_or_timeout(event, clock, 5.0))
    await settle()
    clock.advance(5.0)
    await settle()
    assert waiter.done()
    assert clock.sleepers == 0, "the timer of a finished wait is not left behind"


def test_time_does_not_run_backwards() -> None:
    with pytest.raises(ValueError):
        ManualClock().advance(-1)
