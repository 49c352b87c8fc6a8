"""Releases: events wait for their release time on the clock, in time order; flush loses none."""

import asyncio

from serve_app.clock import ManualClock
from serve_app.messages import StateChanged, StreamState
from serve_app.session.event_log import EventLog
from serve_app.session.releases import Releases
from tests.support.scripted_ports import settle


def state(detail: str) -> StateChanged:
    return StateChanged(stream_id="s", state=StreamState.LIVE, detail=detail)


async def test_events_are_released_at_their_time_in_time_order() -> None:
    clock = ManualClock(100.0)
    log = EventLog(clock=clock)
    releases = Releases(log, clock)
    runner = asyncio.create_task(releases.run())
    releases.schedule(103.0, state("third"))
    releases.schedule(101.0, state("first"))
    releases.now(state("now"))
    await settle()
    assert [e.detail for e in log.since(-1)] == ["now"]
    clock.advance(1.0)
    await settle()
    assert [e.detail for e in log.since(-1)] == ["now", "first"]
    assert log.since(-1)[-1].wall_ts == 101.0
    clock.advance(2.0)
    await settle()
    assert [e.detail for e in log.since(-1)] == ["now", "first", "third"]
    runner.cancel()


async def test_flush_releases_everything_still_held() -> None:
    clock = ManualClock(100.0)
    log = EventLog(clock=clock)
    releases = Releases(log, clock)
    releases.schedule(500.0, state("held"))
    releases.flush()
    assert [e.detail for e in log.since(-1)] == ["held"] and len(releases) == 0
