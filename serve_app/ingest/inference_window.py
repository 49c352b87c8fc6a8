"""InferenceWindow: the last WINDOW_SIZE frames at CAPTURE_FPS, and each cycle's pick of them."""

from __future__ import annotations

from collections import deque

import numpy as np

from serve_app.messages import WindowBatch, WindowFrame
from serve_app.prompt.intensity import scene_difference


class InferenceWindow:
    """A sliding window of frames; a cycle takes ``frames_per_inference``, every ``stride``-th.

    The newest frame is always the last one taken, so the model comments on the latest
    picture. The scene-difference score compares this batch's mean thumbnail with the one
    of the previous batch taken.
    """

    def __init__(self, size: int, frames_per_inference: int, stride: int) -> None:
        if (frames_per_inference - 1) * stride + 1 > size:
            raise ValueError("frames_per_inference × stride does not fit in the window")
        self.size = size
        self.frames_per_inference = frames_per_inference
        self.stride = stride
        self._frames: deque[WindowFrame] = deque(maxlen=size)
        self._last_thumbnail: np.ndarray | None = None
        self._last_anchor: WindowFrame | None = None

    def __len__(self) -> int:
        return len(self._frames)

    def push(self, frame: WindowFrame) -> None:
        self._frames.append(frame)

    def take_batch(self, repeat_ok: bool = False) -> WindowBatch | None:
        """This cycle's frames, oldest first; None until there is a frame not yet taken.

        With fewer frames than the full span, it takes what the stride allows, so the first
        cycle need not wait for the window to fill. A fast model never comments twice on the
        same newest frame: it waits for the next one (unless ``repeat_ok``: a user's question
        about what is on screen is answered at once).
        """
        if not self._frames or (self._frames[-1] is self._last_anchor and not repeat_ok):
            return None
        picked = list(self._frames)[::-1][:: self.stride][: self.frames_per_inference]
        picked.reverse()
        thumb = np.mean([f.thumbnail for f in picked], axis=0).astype(np.uint8)
        change = scene_difference(self._last_thumbnail, thumb)
        self._last_thumbnail = thumb
        self._last_anchor = picked[-1]
        return WindowBatch(frames=tuple(picked), scene_change=change)

    def frame_near(self, media_ts_s: float) -> WindowFrame | None:
        """The window frame whose media time is closest to ``media_ts_s``."""
        if not self._frames:
            return None
        return min(self._frames, key=lambda f: abs(f.media_ts_s - media_ts_s))

    def clear(self) -> None:
        self._frames.clear()
        self._last_thumbnail = None
        self._last_anchor = None
