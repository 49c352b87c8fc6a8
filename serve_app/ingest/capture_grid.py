"""CaptureGrid: which decoded frames go to the inference window, one per 1/CAPTURE_FPS.

Media time only (no clock), so the live capture loop and the offline walk of a file pick the
same frames.
"""

from __future__ import annotations

# Timestamps are rounded to the microsecond; a frame this close to its grid point is on it.
GRID_TOLERANCE_S = 1e-6


class CaptureGrid:
    """A fixed grid of ``interval_s`` steps in media time; a frame on or past the next point
    is taken. After a gap (a reconnect, a jump in time) the grid restarts from the frame."""

    def __init__(self, interval_s: float) -> None:
        if interval_s <= 0:
            raise ValueError("interval_s must be > 0")
        self.interval_s = interval_s
        self._next_t: float | None = None

    def takes(self, media_ts_s: float) -> bool:
        """True when the frame at ``media_ts_s`` goes to the window (and the grid moves on)."""
        t = media_ts_s
        if self._next_t is not None and t < self._next_t - GRID_TOLERANCE_S:
            return False
        # Stay on the capture grid; after a gap, restart it from this frame.
        self._next_t = (t if self._next_t is None else self._next_t) + self.interval_s
        if self._next_t <= t:
            self._next_t = t + self.interval_s
        return True
