"""Opening a source and reading its frames with their media timestamps.

Files and URLs go through PyAV (bundled FFmpeg), which gives every frame's presentation
time; webcams through OpenCV, which gives none, so their time is the wall clock's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol

import numpy as np

if TYPE_CHECKING:
    import av

from serve_app.sources.source_spec import SourceError, SourceKind, SourceSpec


class VideoReader(Protocol):
    fps: float | None
    """Nominal frame rate, when the source reports one."""

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        """(media time in seconds from the start, BGR image) until the source ends."""
        ...

    def close(self) -> None: ...


class AvReader:
    """A file or network stream decoded by PyAV."""

    def __init__(self, location: str, open_timeout_s: float, live: bool) -> None:
        import av  # imported here so that merely parsing sources needs no FFmpeg

        options = {"rtsp_transport": "tcp"} if location.startswith("rtsp") else {}
        try:
            # timeout=(open, read) in seconds bounds a source that never answers.
            self._container = av.open(location, options=options, timeout=(open_timeout_s, 10.0))
        except (av.FFmpegError, OSError) as error:
            raise SourceError(f"source {location!r} could not be opened: {error}") from None
        if not self._container.streams.video:
            self._container.close()
            raise SourceError(f"source {location!r} has no video stream")
        self._stream = self._container.streams.video[0]
        self._stream.thread_type = "AUTO"
        rate = self._stream.average_rate or self._stream.guessed_rate
        self.fps = float(rate) if rate else None
        self._live = live

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        for t, frame in self.decoded():
            yield t, frame.to_ndarray(format="bgr24")

    def decoded(self) -> Iterator[tuple[float, av.VideoFrame]]:
        """(media time in seconds from the start, the decoded frame, not yet converted):
        for a reader that converts only the frames it keeps."""
        import av

        first_pts: float | None = None
        index = 0
        try:
            for frame in self._container.decode(self._stream):
                if frame.pts is not None and frame.time_base is not None:
                    t = float(frame.pts * frame.time_base)
                else:
                    t = index / (self.fps or 25.0)
                if first_pts is None:
                    first_pts = t
                index += 1
                yield t - first_pts, frame
        except av.FFmpegError as error:
            if not self._live:
                raise SourceError(f"decoding failed: {error}") from None
            raise ConnectionError(f"stream lost: {error}") from None

    def close(self) -> None:
        self._container.close()


class WebcamReader:
    """A local camera through OpenCV."""

    def __init__(self, index: int, open_timeout_s: float) -> None:
        import cv2

        self._capture = cv2.VideoCapture(index)
        if not self._capture.isOpened():
            raise SourceError(f"webcam {index} could not be opened")
        rate = self._capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(rate) if rate and rate > 0 else None
        self._lock = threading.Lock()

    def frames(self) -> Iterator[tuple[float, np.ndarray]]:
        start = time.time()
        while True:
            with self._lock:
                ok, image = self._capture.read()
            if not ok:
                raise ConnectionError("webcam stopped delivering frames")
            yield time.time() - start, image

    def close(self) -> None:
        self._capture.release()


def open_reader(spec: SourceSpec, open_timeout_s: float) -> VideoReader:
    if spec.kind is SourceKind.WEBCAM:
        return WebcamReader(int(spec.location), open_timeout_s)
    return AvReader(spec.location, open_timeout_s, live=spec.is_live)
