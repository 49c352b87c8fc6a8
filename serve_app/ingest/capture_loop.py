"""StreamCapture: one source's decode loop, feeding the display buffer and inference window.

It runs in its own thread (decoding and JPEG encoding release the GIL) and paces file
sources to their native rate, so a file plays like a live camera. Each display frame is
JPEG-encoded once here and shared by every viewer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import cv2
import numpy as np

from serve_app.clock import Clock, SystemClock
from serve_app.ingest.capture_grid import CaptureGrid
from serve_app.ingest.display_buffer import DisplayBuffer
from serve_app.ingest.inference_window import InferenceWindow
from serve_app.messages import DisplayFrame, StreamState, WindowBatch, WindowFrame
from serve_app.settings import StreamSettings
from serve_app.sources.backoff import Backoff
from serve_app.sources.source_spec import SourceError, SourceSpec
from serve_app.sources.video_reader import VideoReader, open_reader

log = logging.getLogger(__name__)

THUMBNAIL_SIZE = (32, 18)  # enough for a scene-difference score, ~600 bytes a frame
# A file source that falls this far behind its native rate re-anchors instead of bursting.
MAX_PACING_LAG_S = 0.5

StateListener = Callable[[StreamState, str], None]


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    return buf.tobytes()


def scaled_to(image: np.ndarray, max_side: int) -> np.ndarray:
    h, w = image.shape[:2]
    scale = max_side / max(h, w)
    if scale >= 1:
        return image
    return cv2.resize(image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)


def window_frame(image: np.ndarray, t: float, capture_wall: float, max_side_px: int) -> WindowFrame:
    """A frame for the model: scaled, JPEG-encoded, with its scene-difference thumbnail."""
    small = scaled_to(image, max_side_px)
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY)
    return WindowFrame(
        jpeg=encode_jpeg(small, 90),
        media_ts_s=t,
        capture_wall=capture_wall,
        thumbnail=cv2.resize(gray, THUMBNAIL_SIZE, interpolation=cv2.INTER_AREA),
    )


class StreamCapture:
    def __init__(
        self,
        stream_id: str,
        spec: SourceSpec,
        settings: StreamSettings,
        open_timeout_s: float,
        clock: Clock | None = None,
        on_state: StateListener | None = None,
    ) -> None:
        self.stream_id = stream_id
        self.spec = spec
        self.settings = settings
        self.open_timeout_s = open_timeout_s
        self._clock = clock or SystemClock()
        self._on_state = on_state or (lambda state, detail: None)
        self._lock = threading.Lock()
        self.display = DisplayBuffer(
            settings.display_buffer_s, int(settings.display_buffer_max_mb * 1024 * 1024)
        )
        self.window = InferenceWindow(
            settings.window_size, settings.frames_per_inference, settings.frame_stride
        )
        # The stream's session owns the display delay and sets it as it starts; until then
        # (and for a capture without a session) frames are due as they are captured.
        self.display_delay_s = 0.0
        self.state = StreamState.STARTING
        self.state_detail = ""
        self.fps: float | None = None
        self.frames_decoded = 0
        self.loops = 0
        self.cpu_seconds = 0.0
        self._cpu_start = 0.0
        self._last_media_t: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._reader: VideoReader | None = None

    # --- lifecycle ---------------------------------------------------------------------
    def open(self) -> None:
        """Probe the source (bounded by open_timeout_s); raises SourceError if unusable."""
        self._reader = open_reader(self.spec, self.open_timeout_s)
        self.fps = self._reader.fps

    def start(self) -> None:
        if self._reader is None:
            self.open()
        self._thread = threading.Thread(
            target=self._run, name=f"capture-{self.stream_id}", daemon=True
        )
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
        if self._reader is not None:
            self._reader.close()
        self._set_state(StreamState.STOPPED, "")

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    # --- what consumers read ------------------------------------------------------------
    def latest_frame(self) -> DisplayFrame | None:
        with self._lock:
            return self.display.latest()

    def due_frames(self, after_seq: int, now: float) -> list[DisplayFrame]:
        """Display frames whose time to be shown (capture + delay) has come."""
        with self._lock:
            return self.display.frames_between(after_seq, now - self.display_delay_s)

    def next_due_time(self, after_seq: int) -> float | None:
        """When the first frame after ``after_seq`` is due on screen, if it exists yet."""
        with self._lock:
            frame = self.display.first_after(after_seq)
        return None if frame is None else frame.capture_wall + self.display_delay_s

    def display_step(self, after_seq: int, now: float) -> tuple[DisplayFrame | None, float]:
        """The frame to show now after ``after_seq`` (if any) and how long to wait for the next.

        A viewer that fell behind gets the newest due frame, not a backlog. Before anything is
        due (a new stream, held back by the delay) the first frame is shown as a still.
        """
        due = self.due_frames(after_seq, now)
        frame = due[-1] if due else (self.first_frame() if after_seq < 0 else None)
        seq = frame.seq if frame is not None else after_seq
        next_due = self.next_due_time(seq)
        interval = self.display_interval_s
        wait = interval if next_due is None else next_due - now
        return frame, min(max(wait, 0.002), interval)

    def frame_shown_at(self, now: float) -> DisplayFrame | None:
        with self._lock:
            return self.display.frame_at(now - self.display_delay_s)

    def take_batch(self, repeat_ok: bool = False) -> WindowBatch | None:
        with self._lock:
            return self.window.take_batch(repeat_ok)

    def first_frame(self) -> DisplayFrame | None:
        with self._lock:
            return self.display.first_after(-1)

    def buffer_bytes(self) -> int:
        with self._lock:
            return self.display.nbytes

    @property
    def display_interval_s(self) -> float:
        return 1.0 / (self.fps or self.settings.mjpeg_fps)

    # --- the loop ----------------------------------------------------------------------
    def _set_state(self, state: StreamState, detail: str) -> None:
        if state is self.state and detail == self.state_detail:
            return
        self.state, self.state_detail = state, detail
        log.info("stream %s: %s %s", self.stream_id, state, detail)
        self._on_state(state, detail)

    def _run(self) -> None:
        self._cpu_start = time.thread_time()
        backoff = Backoff()
        try:
            while not self._stop.is_set():
                # Media time keeps increasing across file loops and live reconnects.
                media_offset = (
                    0.0
                    if self._last_media_t is None
                    else self._last_media_t + self.display_interval_s
                )
                try:
                    if self._reader is None:
                        self.open()
                    self._set_state(StreamState.LIVE, str(self.spec))
                    self._play(media_offset)
                    backoff.reset()
                except ConnectionError as error:
                    self._reader = None
                    delay = backoff.next_delay_s()
                    self._set_state(StreamState.RECONNECTING, f"{error}; retry in {delay:.1f} s")
                    self._stop.wait(delay)
                    continue
                except SourceError as error:
                    if self.spec.is_live and not self._stop.is_set():
                        self._reader = None
                        delay = backoff.next_delay_s()
                        self._set_state(StreamState.RECONNECTING, f"{error}; retry in {delay:.1f}s")
                        self._stop.wait(delay)
                        continue
                    self._set_state(StreamState.FAILED, str(error))
                    return
                if self._stop.is_set():
                    return
                if self.spec.is_live:
                    self._reader = None  # a live source that ended: try to get it back
                    self._set_state(StreamState.RECONNECTING, "source ended")
                    self._stop.wait(backoff.next_delay_s())
                    continue
                if not self.settings.loop:
                    self._set_state(StreamState.ENDED, "end of file")
                    return
                self.loops += 1
                if self._reader is not None:
                    self._reader.close()
                self._reader = None
        except Exception as error:  # the thread must report, not vanish
            log.exception("stream %s: capture failed", self.stream_id)
            self._set_state(StreamState.FAILED, f"capture failed: {error}")
        finally:
            self.cpu_seconds = time.thread_time() - self._cpu_start

    def _play(self, media_offset: float) -> None:
        """Decode until the source ends, fails or stop is asked."""
        assert self._reader is not None
        settings = self.settings
        grid = CaptureGrid(1.0 / settings.capture_fps)
        display_interval = self.display_interval_s
        pace = not self.spec.is_live
        anchor_wall: float | None = None
        anchor_media = 0.0
        next_display_t = -1.0
        for media_ts, image in self._reader.frames():
            if self._stop.is_set():
                break
            t = round(media_offset + media_ts, 6)
            if pace:
                now = self._clock.now()
                if anchor_wall is None or now - (anchor_wall + t - anchor_media) > MAX_PACING_LAG_S:
                    anchor_wall, anchor_media = now, t
                wait = anchor_wall + (t - anchor_media) - now
                if wait > 0 and self._stop.wait(wait):
                    break
            # Live sources without a rate are thinned to MJPEG_FPS for display.
            if self.fps is None and t < next_display_t:
                continue
            self._push(image, t, self._clock.now(), grid.takes(t))
            self._last_media_t = t
            next_display_t = t + display_interval - 1e-6

    def _push(self, image: np.ndarray, t: float, capture_wall: float, to_window: bool) -> None:
        jpeg = encode_jpeg(image, self.settings.jpeg_quality)
        for_model = None
        if to_window:
            for_model = window_frame(image, t, capture_wall, self.settings.inference_max_side_px)
        with self._lock:
            self.display.append(DisplayFrame(self.frames_decoded, jpeg, t, capture_wall))
            if for_model is not None:
                self.window.push(for_model)
        self.frames_decoded += 1
        self.cpu_seconds = time.thread_time() - self._cpu_start  # this thread's CPU so far
