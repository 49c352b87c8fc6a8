"""Walking a file's frames by their presentation timestamps, as the capture loop would see them.

The same reader (PyAV, times from the first frame), the same capture grid (one frame per
1/CAPTURE_FPS of media time) and the same window frames as the live service, only never
paced: the next frame is decoded as soon as the previous one is handled.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from serve_app.ingest.capture_grid import CaptureGrid
from serve_app.ingest.capture_loop import window_frame
from serve_app.messages import WindowFrame
from serve_app.settings import StreamSettings
from serve_app.sources.source_spec import SourceKind, SourceSpec
from serve_app.sources.video_reader import AvReader

OPEN_TIMEOUT_S = 10.0  # a local file opens at once; this only bounds a stuck network share


@dataclass(frozen=True, slots=True)
class WalkedFrame:
    """One decoded frame: its media time, and its window frame when it is on the grid."""

    media_ts_s: float
    for_model: WindowFrame | None


class FrameWalk:
    """Every frame of a file in presentation order; ``media_s`` is its length once walked."""

    def __init__(self, spec: SourceSpec, settings: StreamSettings) -> None:
        if spec.kind is not SourceKind.FILE:
            raise ValueError("the offline walk reads files only")
        self._spec = spec
        self._settings = settings
        self.frames = 0
        self.last_ts_s: float | None = None
        self.fps: float | None = None

    def __iter__(self) -> Iterator[WalkedFrame]:
        reader = AvReader(self._spec.location, OPEN_TIMEOUT_S, live=False)
        self.fps = reader.fps
        grid = CaptureGrid(1.0 / self._settings.capture_fps)
        try:
            for raw_t, decoded in reader.decoded():
                t = round(raw_t, 6)  # as the capture loop rounds it
                for_model = None
                if grid.takes(t):
                    # Offline, a frame is "captured" when it is shown: capture time is media
                    # time, so the cycle's release rule puts each line on its own frame.
                    max_side = self._settings.inference_max_side_px
                    image = decoded.to_ndarray(format="bgr24")  # only the frames it keeps
                    for_model = window_frame(image, t, t, max_side)
                self.frames += 1
                self.last_ts_s = t
                yield WalkedFrame(t, for_model)
        finally:
            reader.close()

    @property
    def media_s(self) -> float:
        """The video's length: the last frame's time plus one frame's duration."""
        if self.last_ts_s is None:
            return 0.0
        return self.last_ts_s + 1.0 / (self.fps or 25.0)
