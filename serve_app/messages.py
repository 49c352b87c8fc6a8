"""What flows between the service's stages and out to clients: frames, snapshots, events.

Frames leave FrameIngest (one for display, one for the model). Events are what a stream sends
to its clients, in order, each with its media time.

Text and cycle events go to SSE clients as JSON (``event:`` is the ``type``); audio chunks
go to audio clients as raw PCM. Every event carries the stream id, its sequence number in
the stream's event log (``seq``, assigned when released) and ``media_ts_s``, the media time
of the frame it speaks about, so a client can line it up with the picture.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from serve_app.speech.audio_format import OUTPUT_AUDIO


class StreamState(StrEnum):
    STARTING = "starting"
    LIVE = "live"
    RECONNECTING = "reconnecting"
    ENDED = "ended"
    FAILED = "failed"
    STOPPED = "stopped"


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


@dataclass(frozen=True, slots=True)
class IngestSnapshot:
    """What FrameIngest says about a stream when asked for a cycle's frames."""

    batch: WindowBatch | None
    state: StreamState
    detail: str = ""
    lost: bool = False
    """FrameIngest holds no capture for the stream: its replica restarted and lost it."""


@dataclass(frozen=True, slots=True)
class OpenResult:
    """FrameIngest opening a source: it works, or says why not (a user error, not a crash)."""

    ok: bool
    error: str = ""
    fps: float | None = None


class StreamMoving(RuntimeError):
    """The stream is held by another replica, or is being taken over: ask again shortly.

    Raised by a replica that does not (or no longer) hold the stream; the HTTP API answers
    it with 503 and Retry-After, and the Ingress's shared feeds simply reconnect.
    """


@dataclass(frozen=True, slots=True)
class StreamResult:
    """Creating or finding a stream: its description, or why not (status code + message)."""

    ok: bool
    info: dict[str, Any] | None = None
    status_code: int = 200
    error: str = ""

    @classmethod
    def at_limit(cls, max_streams: int) -> StreamResult:
        """Refused: the service already runs MAX_STREAMS streams."""
        return cls(
            False,
            status_code=429,
            error=f"the service runs its limit of {max_streams} streams (MAX_STREAMS); "
            "delete one first",
        )


class _Event(BaseModel):
    model_config = ConfigDict(frozen=True)

    stream_id: str
    seq: int = -1
    wall_ts: float = 0.0
    """Wall time the event was released to clients."""


class StateChanged(_Event):
    """The stream's source changed state (opening, live, reconnecting, ended, failed)."""

    type: Literal["state"] = "state"
    state: StreamState
    detail: str = ""

    def __str__(self) -> str:
        return f"[{self.stream_id}] state {self.state} {self.detail}".rstrip()


class CycleStarted(_Event):
    """The model was asked about frames with these media times (oldest first)."""

    type: Literal["cycle_start"] = "cycle_start"
    cycle: int
    frames_media_ts_s: list[float]
    hint: str
    media_ts_s: float
    question: str = ""
    """Set when the cycle answers a user's question instead of commenting."""


class CommentaryText(_Event):
    """A piece of commentary text; pieces of one cycle concatenate to its answer."""

    type: Literal["text"] = "text"
    cycle: int
    text: str
    media_ts_s: float
    late: bool = False


class CycleEnded(_Event):
    """A cycle finished. ``latency_s``: capture of its newest frame → first output ready."""

    type: Literal["cycle_end"] = "cycle_end"
    cycle: int
    text: str
    skip: bool
    media_ts_s: float
    latency_s: float
    inference_s: float
    late: bool
    lateness_s: float
    shown_at: float
    """Wall time its newest frame is on screen (capture + display delay)."""
    first_text_s: float | None = None
    """The cycle's start to the describer's first text (None: it said nothing)."""
    kind: Literal["commentary", "answer"] = "commentary"
    error: str = ""
    speech_skipped: str = ""
    """Why this cycle's speech was cut short or not spoken (the Vocoder failed or timed out)."""
    replayed: bool = False
    """Sent again from the transcript after a restart (timings unknown); same seq as before."""


class DelayChanged(_Event):
    """The display delay changed: the picture now lags capture by ``target_delay_s``."""

    type: Literal["delay"] = "delay"
    target_delay_s: float
    policy: str
    media_ts_s: float = 0.0


class AudioChunk(_Event):
    """Spoken commentary in the service's output format (``OUTPUT_AUDIO``)."""

    type: Literal["audio"] = "audio"
    cycle: int
    pcm: bytes = Field(repr=False)
    media_ts_s: float
    sample_rate_hz: int = OUTPUT_AUDIO.rate_hz

    @property
    def duration_s(self) -> float:
        return OUTPUT_AUDIO.duration_s(len(self.pcm))


StreamEvent = Annotated[
    StateChanged | CycleStarted | CommentaryText | CycleEnded | DelayChanged | AudioChunk,
    Field(discriminator="type"),
]
