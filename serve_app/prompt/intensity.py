"""How much to say: a scene-difference score and the last answer's length pick a hint."""

from __future__ import annotations

import numpy as np

from models.messages import Intensity
from serve_app.settings import StreamSettings


def scene_difference(previous: np.ndarray | None, current: np.ndarray) -> float:
    """Mean absolute pixel difference in [0, 1] between two windows' thumbnails.

    Thumbnails are small grayscale uint8 arrays of the same shape (one per window, e.g. the
    mean of its frames). No previous window counts as a full change.
    """
    if previous is None or previous.shape != current.shape:
        return 1.0
    diff = np.abs(previous.astype(np.int16) - current.astype(np.int16))
    return float(diff.mean()) / 255.0


class CommentaryIntensity:
    def __init__(self, low_change: float, high_change: float, long_answer_chars: int) -> None:
        if low_change > high_change:
            raise ValueError("low_change must not exceed high_change")
        self.low_change = low_change
        self.high_change = high_change
        self.long_answer_chars = long_answer_chars

    @classmethod
    def from_settings(cls, settings: StreamSettings) -> CommentaryIntensity:
        return cls(
            settings.intensity_low_change,
            settings.intensity_high_change,
            settings.intensity_long_answer_chars,
        )

    def choose(self, scene_change: float, last_answer_chars: int) -> Intensity:
        if scene_change < self.low_change:
            return Intensity.MINIMAL
        # After a long answer, keep the next one short so speech does not pile up.
        if scene_change < self.high_change or last_answer_chars >= self.long_answer_chars:
            return Intensity.BRIEF
        return Intensity.NORMAL
