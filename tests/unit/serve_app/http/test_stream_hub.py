"""StreamHub and StreamHubs: one upstream per stream and kind, resumed, released, replaced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import numpy as np

from serve_app.clock import ManualClock
from serve_app.http import wire
from serve_app.http.stream_hub import StreamHub, StreamHubs
from serve_app.messages import (
    AudioChunk,
    CommentaryText,
    DisplayFrame,
    StateChanged,
    StreamEvent,
    StreamState,
)
from serve_app.speech.audio_format import OUTPUT_AUDIO
from tests.support.scripted_ports import run_until, settle

FOREVER = 3600.0  # a feed that stays open until it is closed


def frame(seq: int) -> DisplayFrame:
    return DisplayFrame(seq=seq, jpeg=b"jpeg", media_ts_s=seq / 10, capture_wall=0.0)


def text(seq: int) -> CommentaryText:
    return CommentaryText(stream_id="s", seq=seq, cycle=seq, text=f"line {seq}", media_ts_s=0.0)


class Feeds:
    """StreamFeeds with a script: the frames, and per call to follow() the events to yield
    (an exception in the list is raised there). ``hold_open``: a feed stays open at its end
    instead of ending (as a live stream's does). Records each call and each feed closed.

    It keeps every feed it hands out, so only an explicit close ends one (a remote call is
    not released by garbage collection either)."""

    def __init__(
        self,
        frames: Sequence[DisplayFrame] = (),
        follows: Sequence[Sequence[StreamEvent | Exception]] = ((),),
        hold_open: bool = False,
    ) -> None:
        self._frames = frames
        self._follows = list(follows)
        self._hold_open = hold_open
        self.frame_calls = 0
        self.follow_after: list[int | None] = []
        self.closed: list[str] = []
        self.opened = asyncio.Event()
        self.handed_out: list[AsyncIterator[object]] = []

    async def _end(self) -> None:
        if self._hold_open:
            await asyncio.sleep(FOREVER)

    def display_frames(self, stream_id: str) -> AsyncIterator[DisplayFrame]:
        feed = self._display_frames()
        self.handed_out.append(feed)
        return feed

    def follow(self, stream_id: str, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        feed = self._follow(after_seq)
        self.handed_out.append(feed)
        return feed

    async def _display_frames(self) -> AsyncIterator[DisplayFrame]:
        self.frame_calls += 1
        self.opened.set()
        try:
            for item in self._frames:
                yield item
            await self._end()
        finally:
            self.closed.append("frames")

    async def _follow(self, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        script = self._follows[len(self.follow_after)]
        self.follow_after.append(after_seq)
        self.opened.set()
        try:
            for item in script:
                await asyncio.sleep(0)  # as a real feed, each event lets the loop run
                if isinstance(item, Exception):
                    raise item
                yield item
            await self._end()
        finally:
            self.closed.append("events")


async def drain(subscription: AsyncIterator[object]) -> list[object]:
    return await asyncio.wait_for(_all(subscription), 5)


async def _all(subscription: AsyncIterator[object]) -> list[object]:
    return [item async for item in subscription]


async def test_a_streams_viewers_share_one_video_upstream() -> None:
    feeds = Feeds(frames=[frame(1), frame(2), frame(3)])
    hub = StreamHub("s", feeds, frame_queue=8)
    first, second = hub.frames.subscribe(), hub.frames.subscribe()
    got = await asyncio.gather(drain(first), drain(second))
    assert got[0] == got[1] == [wire.mjpeg_part(frame(i)) for i in (1, 2, 3)]
    assert all(a is b for a, b in zip(*got, strict=True)), "encoded once, the same bytes to all"
    assert feeds.frame_calls == 1


async def test_a_broken_event_upstream_resumes_after_the_last_relayed_event() -> None:
    feeds = Feeds(follows=[[text(1), text(2), ConnectionError("replica restarted")], [text(3)]])
    hub = StreamHub("s", feeds, frame_queue=8, retry_s=0)
    got = await drain(hub.events.subscribe())
    notice = got[2]
    assert isinstance(notice, StateChanged) and notice.state is StreamState.RECONNECTING
    assert notice.seq == -1, "not a logged event: a client resumes after text 2"
    assert got[:2] + got[3:] == [text(1), text(2), text(3)]
    assert feeds.follow_after == [None, 2]


async def test_a_long_outage_is_announced_once_not_at_every_retry() -> None:
    broken = [ConnectionError("no replica")]
    feeds = Feeds(follows=[[text(1), *broken], broken, broken, [text(2)]])
    hub = StreamHub("s", feeds, frame_queue=8, retry_s=0)
    got = await drain(hub.events.subscribe())
    assert [type(e).__name__ for e in got] == ["CommentaryText", "StateChanged", "CommentaryText"]


async def test_the_last_client_leaving_closes_the_event_feed() -> None:
    feeds = Feeds(follows=[[text(n) for n in range(1, 10_000)]], hold_open=True)
    hub = StreamHub("s", feeds, frame_queue=8, event_queue=10_000)
    async for _ in hub.events.subscribe():
        break  # the only client leaves after one event
    for _ in range(500):  # the upstream notices at its next event
        if feeds.closed:
            break
        await asyncio.sleep(0.01)
    assert feeds.closed == ["events"]


async def test_closing_a_hub_ends_its_clients_and_closes_both_feeds() -> None:
    feeds = Feeds(hold_open=True)
    hub = StreamHub("s", feeds, frame_queue=8)
    frames, events = hub.frames.subscribe(), hub.events.subscribe()
    while feeds.frame_calls == 0 or not feeds.follow_after:
        await asyncio.sleep(0)
    await hub.close()
    assert sorted(feeds.closed) == ["events", "frames"]
    assert await drain(frames) == [] and await drain(events) == []
    assert hub.closed


async def test_a_stream_keeps_its_hub_while_its_upstreams_run() -> None:
    hubs = StreamHubs(Feeds(hold_open=True), frame_queue=8)
    hub = hubs.hub("s")
    hub.events.subscribe()
    assert hubs.hub("s") is hub
    assert hubs.hub("other") is not hub
    await hubs.close("s")
    await hubs.close("other")


async def test_a_stream_whose_upstream_ended_gets_a_new_hub() -> None:
    hubs = StreamHubs(Feeds(frames=[frame(1)]), frame_queue=8)
    ended = hubs.hub("s")
    await drain(ended.frames.subscribe())  # the feed ends: the stream was deleted elsewhere
    assert ended.closed
    assert hubs.hub("s") is not ended


async def test_closing_a_stream_closes_its_hub_and_a_new_client_gets_a_fresh_one() -> None:
    feeds = Feeds(follows=[[], []], hold_open=True)
    hubs = StreamHubs(feeds, frame_queue=8)
    old = hubs.hub("s")
    subscription = old.events.subscribe()
    await feeds.opened.wait()
    await hubs.close("s")
    assert old.closed and feeds.closed == ["events"]
    assert await drain(subscription) == []
    assert hubs.hub("s") is not old
    await hubs.close("never opened")  # nothing to close: no error


def spoken(seq: int, pcm: bytes) -> AudioChunk:
    return AudioChunk(stream_id="s", seq=seq, cycle=seq, pcm=pcm, media_ts_s=0.0)


async def test_listeners_share_one_paced_audio_stream_with_silence_between_lines() -> None:
    clock = ManualClock()
    line = b"\x01\x00" * 4800  # 0.1 s of speech
    feeds = Feeds(follows=[[spoken(1, line), text(2), spoken(3, line)]], hold_open=True)
    hub = StreamHub("s", feeds, frame_queue=8, clock=clock)
    first, second = aiter(hub.audio.subscribe()), aiter(hub.audio.subscribe())
    await run_until(clock, lambda: len(feeds.follow_after) == 1)
    received = b""
    for _ in range(20):  # two seconds of audio, taken in the player's own time
        clock.advance(0.1)
        await settle()
        received += await asyncio.wait_for(anext(first), 1)
        assert await asyncio.wait_for(anext(second), 1) is not None
    seconds = len(received) / OUTPUT_AUDIO.bytes_per_s
    assert 1.8 <= seconds <= 2.0, "handed out at the rate it plays, not in a burst"
    samples = np.frombuffer(received, dtype="<i2")
    assert int((samples != 0).sum()) == 2 * 4800, "both lines, whole"
    assert int((samples == 0).sum()) > 0, "silence fills the rest of the time"
    await hub.close()
    assert feeds.follow_after == [None], "one events feed for every listener"
