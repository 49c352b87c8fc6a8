"""Checking the input before any work: a readable file with a video stream and frames."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av

DEFAULT_FPS = 25.0  # only for a stream that states no rate at all


class InputError(ValueError):
    """The input cannot be commentated. The message says which file and why."""


@dataclass(frozen=True, slots=True)
class VideoInfo:
    """What the run needs to know about the input before walking it."""

    path: Path
    duration_s: float  # an estimate for the progress bar; the walk measures the real one
    fps: float
    start_s: float  # presentation time of the first frame: media time 0 of the commentary
    has_audio: bool


def probe_video(path: Path) -> VideoInfo:
    """Open ``path`` and decode its first frame, or raise InputError saying why not."""
    if not path.exists():
        raise InputError(f"input file '{path}' does not exist")
    if not path.is_file():
        raise InputError(f"input '{path}' is not a regular file")
    try:
        container = av.open(str(path))
    except (av.FFmpegError, OSError) as error:
        reason = getattr(error, "strerror", None) or str(error)
        raise InputError(f"'{path}' is not a video file PyAV can read ({reason})") from None
    try:
        if not container.streams.video:
            raise InputError(f"'{path}' has no video stream")
        stream = container.streams.video[0]
        rate = stream.average_rate or stream.guessed_rate
        fps = float(rate) if rate else DEFAULT_FPS
        first = _first_frame_time(container, stream, path)
        duration = _duration_s(container, stream)
        return VideoInfo(
            path=path,
            duration_s=duration,
            fps=fps,
            start_s=first,
            has_audio=bool(container.streams.audio),
        )
    finally:
        container.close()


def _first_frame_time(
    container: av.container.InputContainer, stream: av.VideoStream, path: Path
) -> float:
    try:
        for frame in container.decode(stream):
            if frame.pts is None or frame.time_base is None:
                return 0.0
            return float(frame.pts * frame.time_base)
    except av.FFmpegError as error:
        raise InputError(f"'{path}' could not be decoded ({error})") from None
    raise InputError(f"'{path}' has a video stream but no frames")


def _duration_s(container: av.container.InputContainer, stream: av.VideoStream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0
