"""DisplayBuffer: a ring of JPEG display frames bounded in seconds and bytes."""

from __future__ import annotations

import bisect
from collections import deque

from serve_app.messages import DisplayFrame


class DisplayBuffer:
    """Every decoded frame at native rate, for showing at ``now − target_delay``.

    Frames are appended in capture order. The oldest go when the buffer spans more than
    ``max_seconds`` of capture time or holds more than ``max_bytes`` of JPEG.
    """

    def __init__(self, max_seconds: float, max_bytes: int) -> None:
        if max_seconds <= 0 or max_bytes <= 0:
            raise ValueError("max_seconds and max_bytes must be > 0")
        self.max_seconds = max_seconds
        self.max_bytes = max_bytes
        self._frames: deque[DisplayFrame] = deque()
        self._captures: deque[float] = deque()  # parallel to _frames, for bisect
        self.nbytes = 0

    def __len__(self) -> int:
        return len(self._frames)

    def append(self, frame: DisplayFrame) -> None:
        if self._captures and frame.capture_wall < self._captures[-1]:
            raise ValueError("frames must be appended in capture order")
        self._frames.append(frame)
        self._captures.append(frame.capture_wall)
        self.nbytes += len(frame.jpeg)
        self._evict(frame.capture_wall)

    def _evict(self, newest: float) -> None:
        while len(self._frames) > 1 and (
            newest - self._captures[0] > self.max_seconds or self.nbytes > self.max_bytes
        ):
            old = self._frames.popleft()
            self._captures.popleft()
            self.nbytes -= len(old.jpeg)

    def latest(self) -> DisplayFrame | None:
        return self._frames[-1] if self._frames else None

    def frame_at(self, wall_time: float) -> DisplayFrame | None:
        """The newest frame captured at or before ``wall_time`` (None if none is that old)."""
        i = bisect.bisect_right(self._captures, wall_time)
        return self._frames[i - 1] if i else None

    def frames_between(self, after_seq: int, until_wall: float) -> list[DisplayFrame]:
        """Frames with seq > ``after_seq`` captured at or before ``until_wall``, in order."""
        end = bisect.bisect_right(self._captures, until_wall)
        out = []
        for i in range(end - 1, -1, -1):
            frame = self._frames[i]
            if frame.seq <= after_seq:
                break
            out.append(frame)
        out.reverse()
        return out

    def first_after(self, seq: int) -> DisplayFrame | None:
        """The oldest frame with a sequence number above ``seq``."""
        if not self._frames or self._frames[-1].seq <= seq:
            return None
        first = self._frames[0].seq
        # Sequence numbers are consecutive within the buffer, so this is an index.
        return self._frames[max(0, seq + 1 - first)]

    def clear(self) -> None:
        self._frames.clear()
        self._captures.clear()
        self.nbytes = 0
