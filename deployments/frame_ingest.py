"""FrameIngest deployment: owns each stream's capture loop; a thin shell over StreamCapture."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from ray import serve

from deployments.logs import send_to_serve_logs
from serve_app.clock import SystemClock
from serve_app.ingest.capture_loop import StreamCapture
from serve_app.messages import DisplayFrame, IngestSnapshot, OpenResult, StreamState
from serve_app.settings import ServiceSettings, StreamSettings
from serve_app.sources.source_policy import SourcePolicy
from serve_app.sources.source_spec import SourceError, parse_source

log = logging.getLogger("ray.serve")


@serve.deployment
class FrameIngest:
    def __init__(self, settings: ServiceSettings) -> None:
        send_to_serve_logs(settings.log_level)
        self._settings = settings
        self._captures: dict[str, StreamCapture] = {}
        self._clock = SystemClock()
        self._policy = SourcePolicy(
            settings.allowed_file_roots,
            settings.allowed_url_schemes,
            settings.allowed_url_hosts,
            settings.allow_webcam,
        )

    async def open_stream(
        self, stream_id: str, source: str, settings: StreamSettings, trusted: bool = False
    ) -> OpenResult:
        """Open and probe a source. ``trusted``: the operator's own (config), not a client's."""
        if stream_id in self._captures:
            return OpenResult(False, f"stream {stream_id!r} is already open")
        try:
            spec = parse_source(source, self._settings.demo_clip)
            if not trusted:
                self._policy.check(spec)
            capture = StreamCapture(stream_id, spec, settings, self._settings.source_open_timeout_s)
            # Probing blocks on the network: off the event loop, bounded by the timeout.
            await asyncio.wait_for(
                asyncio.to_thread(capture.open), self._settings.source_open_timeout_s + 2
            )
        except SourceError as error:
            return OpenResult(False, str(error))
        except TimeoutError:
            return OpenResult(
                False,
                f"source {source!r} did not answer in {self._settings.source_open_timeout_s} s",
            )
        capture.start()
        self._captures[stream_id] = capture
        log.info("stream %s: capturing %s at %s fps", stream_id, spec, capture.fps or "unknown")
        return OpenResult(True, fps=capture.fps)

    async def close_stream(self, stream_id: str) -> None:
        capture = self._captures.pop(stream_id, None)
        if capture is not None:
            await asyncio.to_thread(capture.stop)

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        capture = self._captures.get(stream_id)
        if capture is None:
            return IngestSnapshot(None, StreamState.STOPPED, "no such stream")
        return IngestSnapshot(capture.take_batch(repeat_ok), capture.state, capture.state_detail)

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        capture = self._captures.get(stream_id)
        if capture is not None:
            capture.display_delay_s = delay_s

    async def latest_frame(self, stream_id: str) -> DisplayFrame | None:
        capture = self._captures.get(stream_id)
        return capture.latest_frame() if capture else None

    async def display_frames(self, stream_id: str) -> AsyncIterator[DisplayFrame]:
        """Frames as they are due on screen (capture + display delay), paced, until closed.

        A consumer that falls behind gets the newest due frame, not a backlog.
        """
        capture = self._captures.get(stream_id)
        if capture is None:
            return
        last_seq = -1
        while self._captures.get(stream_id) is capture:
            frame, wait_s = capture.display_step(last_seq, self._clock.now())
            if frame is not None:
                last_seq = frame.seq
                yield frame
            await asyncio.sleep(wait_s)

    async def status(self) -> dict[str, dict[str, object]]:
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

    def __del__(self) -> None:
        for capture in self._captures.values():
            capture.stop(timeout_s=1.0)
