"""The frames that leave FrameIngest: one for display, one for the model."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, slots=True)
class DisplayFrame:
    """A display frame, JPEG-encoded once and shared by every viewer.

    ``media_ts_s`` is the source's presentation time (monotonic across loops of a file);
    ``capture_wall`` is the wall time it was decoded at native rate.
    """

    seq: int
    jpeg: bytes = field(repr=False)
    media_ts_s: float
    capture_wall: float

    def __str__(self) -> str:
        return f"DisplayFrame#{self.seq} t={self.media_ts_s:.3f}s {len(self.jpeg)} B"


@dataclass(frozen=True, slots=True)
class WindowFrame:
    """A frame in the inference window: smaller JPEG plus a grayscale thumbnail."""

    jpeg: bytes = field(repr=False)
    media_ts_s: float
    capture_wall: float
    thumbnail: np.ndarray = field(repr=False)


@dataclass(frozen=True, slots=True)
class WindowBatch:
    """One cycle's frames, oldest first, and how much the scene changed since the last."""

    frames: tuple[WindowFrame, ...]
    scene_change: float

    @property
    def anchor(self) -> WindowFrame:
        """The newest frame: latency and sync are measured against it."""
        return self.frames[-1]
