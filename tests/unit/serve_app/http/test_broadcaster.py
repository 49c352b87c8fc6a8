"""Broadcaster and resume_after: one feed, many clients, each with its own bounded queue."""

import asyncio

import pytest

from serve_app.http.broadcaster import Broadcaster, Overflow, resume_after


async def test_slow_video_viewer_drops_old_frames_and_others_are_unaffected() -> None:
    hub: Broadcaster[int] = Broadcaster(queue_size=3, policy=Overflow.DROP_OLDEST)
    slow, fast = hub.subscribe(), hub.subscribe()
    received: list[int] = []

    async def read_fast() -> None:
        async for item in fast:
            received.append(item)
            if item == 9:
                return

    reader = asyncio.create_task(read_fast())
    for i in range(10):
        hub.publish(i)
        await asyncio.sleep(0)
    await asyncio.wait_for(reader, 1)
    assert received == list(range(10))
    assert slow.dropped == 7
    hub.close()
    assert [i async for i in slow] == [7, 8, 9]


async def test_stalled_event_client_is_disconnected_alone() -> None:
    hub: Broadcaster[int] = Broadcaster(queue_size=2, policy=Overflow.DISCONNECT)
    stalled, ok = hub.subscribe(), hub.subscribe()
    hub.publish(1)
    hub.publish(2)
    assert [await anext(aiter(ok)), await anext(aiter(ok))] == [1, 2]
    hub.publish(3)  # stalled's queue is full: it goes
    assert stalled.disconnected and not ok.disconnected
    assert len(hub) == 1
    # It still gets everything it was sent, then its stream ends (and it reconnects).
    assert [i async for i in stalled] == [1, 2]


async def test_a_video_viewer_that_reads_nothing_for_stall_s_is_disconnected_alone() -> None:
    now = [0.0]
    hub: Broadcaster[int] = Broadcaster(
        queue_size=2, policy=Overflow.DROP_OLDEST, stall_s=30.0, clock=lambda: now[0]
    )
    stuck, watching = hub.subscribe(), hub.subscribe()
    frames = aiter(watching)
    for i in range(5):  # a slow viewer only loses old frames
        now[0] += 5.0
        hub.publish(i)
        assert await anext(frames) == i
    assert not stuck.disconnected and stuck.dropped == 3
    now[0] += 30.0  # stuck has now read nothing for 55 s
    hub.publish(5)
    assert stuck.disconnected and not watching.disconnected and len(hub) == 1


async def test_subscriber_limit() -> None:
    hub: Broadcaster[int] = Broadcaster(1, Overflow.DROP_OLDEST, max_subscribers=1)
    hub.subscribe()
    with pytest.raises(OverflowError):
        hub.subscribe()


async def test_a_reconnecting_client_gets_what_it_missed_then_the_shared_feed_once() -> None:
    feed: Broadcaster[int] = Broadcaster(16, Overflow.DISCONNECT)
    subscription = feed.subscribe()
    for n in (4, 5):  # published after the client subscribed, also still in the log
        feed.publish(n)
    feed.publish(6)
    feed.close()
    got = [n async for n in resume_after([3, 4, 5], subscription, lambda n: n)]
    assert got == [3, 4, 5, 6]
    assert len(feed) == 0, "the subscription is gone once the client is"
