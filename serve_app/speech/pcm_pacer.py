"""PcmPacer: spoken commentary as a real-time PCM stream, with silence between the lines.

Speech arrives as each line is released, usually faster than real time and with gaps
between lines. A plain player (``curl … | aplay``) plays what it gets as it gets it: fed in
bursts it runs ahead, then starves, and drifts off the picture. The pacer hands out audio at
exactly the rate it plays: each ``take`` returns every sample due since the last one, queued
speech first and silence when there is none, so a listener's player stays as far behind the
release instant as its own buffer and no further. Time is counted in whole samples from the
first take, so the stream never drifts however long it runs.
"""

from __future__ import annotations

import math
from collections import deque

from serve_app.speech.audio_format import OUTPUT_AUDIO, PcmFormat

# Speech queued beyond this is dropped from the front (the oldest) rather than played late:
# it only happens when lines come faster than they can be spoken.
MAX_BACKLOG_S = 8.0


class PcmPacer:
    def __init__(self, fmt: PcmFormat = OUTPUT_AUDIO, max_backlog_s: float = MAX_BACKLOG_S) -> None:
        self._format = fmt
        self._frame_bytes = fmt.channels * fmt.sample_bytes
        self._max_backlog = int(max_backlog_s * fmt.rate_hz) * self._frame_bytes
        self._queue: deque[bytes] = deque()
        self._queued = 0  # bytes in the queue
        self._head = 0  # bytes of the queue's first chunk already handed out
        self._started_at: float | None = None
        self._samples_out = 0
        self.dropped_bytes = 0

    @property
    def backlog_s(self) -> float:
        """Speech queued and not yet handed out."""
        return self._format.duration_s(self._queued - self._head)

    def add(self, pcm: bytes) -> None:
        """Queue speech to play after everything queued before it."""
        whole = len(pcm) - len(pcm) % self._frame_bytes
        if whole:
            self._queue.append(pcm[:whole])
            self._queued += whole
        while self._queued - self._head > self._max_backlog and self._queue:
            dropped = self._queue.popleft()
            self.dropped_bytes += len(dropped) - self._head
            self._queued -= len(dropped)
            self._head = 0

    def drain(self) -> bytes:
        """All queued speech at once, paced or not (the stream ends: nothing said is lost)."""
        rest = b"".join(self._queue)[self._head :]
        self._queue.clear()
        self._queued = self._head = 0
        return rest

    def take(self, now: float) -> bytes:
        """Every sample due from the last take up to ``now``: speech, then silence."""
        if self._started_at is None:
            self._started_at = now
        due = math.floor((now - self._started_at) * self._format.rate_hz) - self._samples_out
        if due <= 0:
            return b""
        self._samples_out += due
        wanted = due * self._frame_bytes
        out = bytearray()
        while len(out) < wanted and self._queue:
            chunk = self._queue[0]
            piece = chunk[self._head : self._head + wanted - len(out)]
            out += piece
            self._head += len(piece)
            if self._head == len(chunk):
                self._queue.popleft()
                self._queued -= len(chunk)
                self._head = 0
        out += bytes(wanted - len(out))  # silence: zero samples
        return bytes(out)
