"""StreamHub: one stream's feeds in one Ingress replica (video, events, audio), shared by all
its clients there; StreamHubs: the replica's hubs, one per stream that has clients.

However many viewers a stream has, a replica asks the service for its frames once and its
events once (:class:`SharedUpstream`), and gives each client its own bounded queue
(:class:`Broadcaster`). Video is encoded once per frame: every viewer is sent the same bytes
object. Audio is one paced PCM stream per stream (:class:`PcmPacer`), made from the events
feed while anyone listens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Protocol

from serve_app.clock import Clock, SystemClock
from serve_app.http import wire
from serve_app.http.broadcaster import Broadcaster, Overflow
from serve_app.http.shared_upstream import RETRY_S, SharedUpstream
from serve_app.messages import AudioChunk, DisplayFrame, StateChanged, StreamEvent, StreamState
from serve_app.speech.pcm_pacer import PcmPacer
from serve_app.telemetry import catalog
from serve_app.telemetry.sink import MetricsSink, NoMetrics

EVENT_QUEUE = 512  # events a slow SSE client may lag before it is dropped (and reconnects)
AUDIO_BLOCK_S = 0.1  # the paced audio's step: small next to a player's buffer
# Blocks a stalled audio client may lag (5 s) before it is dropped alone; it reconnects.
AUDIO_QUEUE = 50


class StreamFeeds(Protocol):
    """Where a hub's upstreams come from.

    Each call opens one long-lived feed. Closing the returned iterator (``aclose``) must
    release the call upstream, or the callee keeps it, and its request slot, forever.
    """

    def display_frames(self, stream_id: str) -> AsyncIterator[DisplayFrame]:
        """The stream's display frames at native rate, delayed for sync, until it is deleted."""
        ...

    def follow(self, stream_id: str, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        """The stream's events after ``after_seq`` (None: from now on), until it is deleted."""
        ...


async def _close(iterator: AsyncIterator[object]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


class StreamHub:
    """One stream's shared video and event upstreams."""

    def __init__(
        self,
        stream_id: str,
        feeds: StreamFeeds,
        frame_queue: int,
        event_queue: int = EVENT_QUEUE,
        retry_s: float = RETRY_S,
        clock: Clock | None = None,
        metrics: MetricsSink | None = None,
    ) -> None:
        self.stream_id = stream_id
        self._metrics = metrics or NoMetrics()
        self._feeds = feeds
        self._clock = clock or SystemClock()
        self._last_event_seq: int | None = None
        self.frames: SharedUpstream[bytes] = SharedUpstream(
            f"stream {stream_id} video",
            # A viewer wants the newest picture.
            Broadcaster(frame_queue, Overflow.DROP_OLDEST, on_count=self._counter("video")),
            self._mjpeg_parts,
            retry_s,
        )
        self.events: SharedUpstream[StreamEvent] = SharedUpstream(
            f"stream {stream_id} events",
            # No line lost: a slow client is dropped and reconnects.
            Broadcaster(event_queue, Overflow.DISCONNECT, on_count=self._counter("events")),
            self._follow_events,
            retry_s,
            on_break=self._announce_break,
        )
        self.audio: SharedUpstream[bytes] = SharedUpstream(
            f"stream {stream_id} audio",
            # A stalled player is dropped alone.
            Broadcaster(AUDIO_QUEUE, Overflow.DISCONNECT, on_count=self._counter("audio")),
            self._paced_audio,
            retry_s,
        )
        self._break_announced = False

    def _counter(self, kind: str) -> Callable[[int], None]:
        tags = {"stream": self.stream_id, "kind": kind}
        return lambda n: self._metrics.set(catalog.VIEWERS, n, tags)

    @property
    def closed(self) -> bool:
        """The stream ended (or was deleted): a new client needs a new hub."""
        return any(feed.clients.closed for feed in (self.frames, self.events, self.audio))

    async def _mjpeg_parts(self) -> AsyncIterator[bytes]:
        frames: AsyncIterator[DisplayFrame] = self._feeds.display_frames(self.stream_id)
        try:
            async for frame in frames:
                yield wire.mjpeg_part(frame)  # once per frame, whatever the number of viewers
        finally:
            await _close(frames)

    async def _paced_audio(self) -> AsyncIterator[bytes]:
        """Real-time PCM: the released speech at the rate it plays, silence in between."""
        events = self.events.subscribe()
        pacer = PcmPacer()
        try:
            while True:
                items, ended = events.take_queued()
                for event in items:
                    if isinstance(event, AudioChunk):
                        pacer.add(event.pcm)
                block = pacer.take(self._clock.now()) + (pacer.drain() if ended else b"")
                if block:
                    yield block
                if ended:
                    return
                await self._clock.sleep(AUDIO_BLOCK_S)
        finally:
            events.close()

    async def _follow_events(self) -> AsyncIterator[StreamEvent]:
        # After a broken upstream, resume after the last event relayed: nothing is lost.
        events = self._feeds.follow(self.stream_id, self._last_event_seq)
        try:
            async for event in events:
                self._last_event_seq = event.seq
                self._break_announced = False
                yield event
        finally:
            await _close(events)

    def _announce_break(self, error: Exception) -> None:
        """The gateway went away: say so once, while the clients stay connected for its return.

        The notice has no sequence number (it is not in the stream's log), so an SSE client's
        Last-Event-ID stays that of the last logged event.
        """
        if self._break_announced:
            return
        self._break_announced = True
        self.events.clients.publish(
            StateChanged(
                stream_id=self.stream_id,
                state=StreamState.RECONNECTING,
                detail=f"the service is restarting ({type(error).__name__}); stay connected",
            )
        )

    async def close(self) -> None:
        await asyncio.gather(self.frames.close(), self.events.close(), self.audio.close())


class StreamHubs:
    """This replica's hubs by stream id."""

    def __init__(
        self,
        feeds: StreamFeeds,
        frame_queue: int,
        event_queue: int = EVENT_QUEUE,
        retry_s: float = RETRY_S,
        metrics: MetricsSink | None = None,
    ) -> None:
        self._feeds = feeds
        self._metrics = metrics
        self._frame_queue = frame_queue
        self._event_queue = event_queue
        self._retry_s = retry_s
        self._hubs: dict[str, StreamHub] = {}

    def hub(self, stream_id: str) -> StreamHub:
        """The stream's hub: the open one, or a new one (first client, or its stream ended)."""
        hub = self._hubs.get(stream_id)
        if hub is None or hub.closed:
            hub = StreamHub(
                stream_id,
                self._feeds,
                self._frame_queue,
                self._event_queue,
                self._retry_s,
                metrics=self._metrics,
            )
            self._hubs[stream_id] = hub
        return hub

    async def close(self, stream_id: str) -> None:
        """The stream was deleted: its clients end now and its upstreams are released."""
        hub = self._hubs.pop(stream_id, None)
        if hub is not None:
            await hub.close()
        if self._metrics is not None:
            self._metrics.forget(stream_id)
