"""IngestRegistry: every open stream's capture, by stream id; what FrameIngest serves.

Opening checks the source (parsing, the client policy) and probes it off the event loop, so
a camera that never answers holds up neither the replica nor the other streams. The
registry only reads each capture's display delay: the stream's session owns it and pushes it
through :meth:`IngestRegistry.set_display_delay`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

from serve_app.clock import Clock, SystemClock
from serve_app.ingest.capture_loop import StreamCapture
from serve_app.messages import DisplayFrame, IngestSnapshot, OpenResult, StreamMoving, StreamState
from serve_app.settings import ServiceSettings, StreamSettings
from serve_app.sources.source_policy import SourcePolicy
from serve_app.sources.source_spec import SourceError, parse_source

log = logging.getLogger(__name__)

# The reader bounds its own open by source_open_timeout_s and then says why it failed; this
# grace lets that better message win before the registry gives up with "did not answer".
PROBE_GRACE_S = 2.0
# Stopping a capture at shutdown must not hold the replica's exit for long.
CLOSE_ALL_TIMEOUT_S = 1.0
# How long a viewer of a stream this replica does not hold waits for it to be (re)opened: a
# restarted FrameIngest gets its captures back from the gateway within a cycle or two.
REOPEN_WAIT_S = 15.0
POLL_S = 0.25


class IngestRegistry:
    """Opens, serves and closes stream captures.

    ``clock`` is the wall clock that capture times and display pacing share; it must be the
    captures' time base, so give it a real one (a ManualClock would stall file pacing).
    """

    def __init__(
        self,
        settings: ServiceSettings,
        clock: Clock | None = None,
        probe_grace_s: float = PROBE_GRACE_S,
    ) -> None:
        self._demo_clip = settings.demo_clip
        self._open_timeout_s = settings.source_open_timeout_s
        self._probe_grace_s = probe_grace_s
        self._clock = clock or SystemClock()
        self._policy = SourcePolicy(
            settings.allowed_file_roots,
            settings.allowed_url_schemes,
            settings.allowed_url_hosts,
            settings.allow_webcam,
        )
        self._captures: dict[str, StreamCapture] = {}
        # Ids being probed: a second open of one while the first still probes is refused too.
        self._opening: set[str] = set()
        self._sources: dict[str, str] = {}  # each capture's source, as the gateway gave it
        self._handed_over: set[str] = set()  # now captured by another replica: viewers move

    async def open_stream(
        self, stream_id: str, source: str, settings: StreamSettings, trusted: bool = False
    ) -> OpenResult:
        """Open and probe a source. ``trusted``: the operator's own (config), not a client's."""
        held = self._captures.get(stream_id)
        if held is not None and self._sources.get(stream_id) == source:
            # A restarted gateway resuming a stream this replica still holds: the same stream.
            return OpenResult(True, fps=held.fps)
        if held is not None or stream_id in self._opening:
            return OpenResult(False, f"stream {stream_id!r} is already open")
        self._opening.add(stream_id)
        try:
            spec = parse_source(source, self._demo_clip)
            if not trusted:
                self._policy.check(spec)
            capture = StreamCapture(
                stream_id, spec, settings, self._open_timeout_s, clock=self._clock
            )
            await self._probe(capture)
        except SourceError as error:
            return OpenResult(False, str(error))
        except TimeoutError:
            return OpenResult(
                False, f"source {source!r} did not answer in {self._open_timeout_s} s"
            )
        finally:
            self._opening.discard(stream_id)
        capture.start()
        self._captures[stream_id] = capture
        self._handed_over.discard(stream_id)
        self._sources[stream_id] = source
        log.info("stream %s: capturing %s at %s fps", stream_id, spec, capture.fps or "unknown")
        return OpenResult(True, fps=capture.fps)

    async def _probe(self, capture: StreamCapture) -> None:
        # Probing blocks on the network: in a thread, and the wait for it is bounded.
        probe = asyncio.ensure_future(asyncio.to_thread(capture.open))
        try:
            await asyncio.wait_for(
                asyncio.shield(probe), self._open_timeout_s + self._probe_grace_s
            )
        except (TimeoutError, asyncio.CancelledError):
            # The thread cannot be cancelled; if it opens the source after all, close it.
            def close_if_opened(done: asyncio.Future[None]) -> None:
                if not done.cancelled() and done.exception() is None:
                    capture.stop()

            probe.add_done_callback(close_if_opened)
            raise

    async def close_stream(self, stream_id: str) -> None:
        capture = self._captures.pop(stream_id, None)
        self._sources.pop(stream_id, None)
        if capture is not None:
            await asyncio.to_thread(capture.stop)

    def ids(self) -> set[str]:
        return set(self._captures)

    async def hand_over(self, stream_id: str) -> None:
        """Another replica captures the stream now: stop here; its viewers follow it there."""
        if stream_id in self._captures:
            self._handed_over.add(stream_id)
            await self.close_stream(stream_id)
            log.info("stream %s: now captured by another replica", stream_id)

    def close_all(self) -> None:
        """Stop every capture (the replica is going away); each gets a short join."""
        captures = list(self._captures.values())
        self._captures.clear()
        for capture in captures:
            capture.stop(timeout_s=CLOSE_ALL_TIMEOUT_S)

    def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        capture = self._captures.get(stream_id)
        if capture is None:
            return IngestSnapshot(None, StreamState.STOPPED, "no such stream", lost=True)
        return IngestSnapshot(capture.take_batch(repeat_ok), capture.state, capture.state_detail)

    def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        """The session's delay, pushed as it starts and whenever it moves."""
        capture = self._captures.get(stream_id)
        if capture is not None:
            capture.display_delay_s = delay_s

    def latest_frame(self, stream_id: str) -> DisplayFrame | None:
        capture = self._captures.get(stream_id)
        return capture.latest_frame() if capture else None

    async def display_frames(
        self, stream_id: str, elsewhere: Callable[[], bool] = lambda: False
    ) -> AsyncIterator[DisplayFrame]:
        """Frames as they are due on screen (capture + display delay), paced, until closed.

        A consumer that falls behind gets the newest due frame, not a backlog. A stream this
        replica does not hold is waited for (REOPEN_WAIT_S): after a restart the gateway opens
        it again, and its viewers should not see the video end. StreamMoving when the stream
        is (or goes) to another replica (``elsewhere``: another live replica holds it).
        """
        capture = self._captures.get(stream_id)
        waited = 0.0
        while capture is None and waited < REOPEN_WAIT_S:
            if elsewhere():
                raise StreamMoving(f"stream {stream_id!r} is captured by another replica")
            await self._clock.sleep(POLL_S)
            waited += POLL_S
            capture = self._captures.get(stream_id)
        if capture is None:
            return
        last_seq = -1
        while self._captures.get(stream_id) is capture:
            frame, wait_s = capture.display_step(last_seq, self._clock.now())
            if frame is not None:
                last_seq = frame.seq
                yield frame
            await self._clock.sleep(wait_s)
        if stream_id in self._handed_over:
            raise StreamMoving(f"stream {stream_id!r} moved to another replica")

    def status(self) -> dict[str, dict[str, object]]:
        return {
            stream_id: {
                "source": str(c.spec),
                "state": str(c.state),
                "detail": c.state_detail,
                "fps": c.fps,
                "frames_decoded": c.frames_decoded,
                "loops": c.loops,
                "display_delay_s": round(c.display_delay_s, 3),
                "display_buffer_bytes": c.buffer_bytes(),
                "window_frames": len(c.window),
                "capture_cpu_s": round(c.cpu_seconds, 3),
            }
            for stream_id, c in self._captures.items()
        }
