"""How frames, events and audio look on the wire: MJPEG parts, SSE messages, PCM and WAV.

Every encoding a client depends on lives here, so a change to one (a header, a field) is a
change to one function and its test. The audio format is :data:`OUTPUT_AUDIO`'s, never a
number of this module's own.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterable, AsyncIterator

from serve_app.messages import AudioChunk, DisplayFrame, StreamEvent
from serve_app.speech.audio_format import OUTPUT_AUDIO

log = logging.getLogger(__name__)

MJPEG_BOUNDARY = "frame"
MJPEG_MEDIA_TYPE = f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}"
WAV_MEDIA_TYPE = "audio/wav"
NO_STORE = {"Cache-Control": "no-store"}  # live media: a cached copy is a stale one

SseMessage = dict[str, str]
"""What sse-starlette sends: ``event``, ``id`` and ``data`` fields."""


def frame_headers(frame: DisplayFrame) -> dict[str, str]:
    """A single JPEG's headers: its media time, so a client can line text up with it."""
    return {"X-Media-Ts": f"{frame.media_ts_s:.4f}", **NO_STORE}


def mjpeg_part(frame: DisplayFrame) -> bytes:
    """One part of a multipart/x-mixed-replace stream, with the frame's media and wall time."""
    head = (
        f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
        f"Content-Length: {len(frame.jpeg)}\r\n"
        f"X-Media-Ts: {frame.media_ts_s:.4f}\r\n"
        f"X-Capture-Wall: {frame.capture_wall:.4f}\r\n\r\n"
    )
    return head.encode() + frame.jpeg + b"\r\n"


def sse_message(event: StreamEvent) -> SseMessage | None:
    """An event as an SSE message, or None for audio (it goes to the audio routes only).

    ``id`` is the event's sequence number: a reconnecting EventSource sends it back as
    Last-Event-ID and gets what it missed.
    """
    if isinstance(event, AudioChunk):
        return None
    message = {"event": event.type, "data": event.model_dump_json(exclude={"pcm"})}
    if event.seq >= 0:  # a notice from the Ingress itself is not in the log: no id to resume at
        message["id"] = str(event.seq)
    return message


async def sse_messages(events: AsyncIterable[StreamEvent]) -> AsyncIterator[SseMessage]:
    async for event in events:
        message = sse_message(event)
        if message is not None:
            yield message


async def streaming_wav(pcm: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Raw PCM (in :data:`OUTPUT_AUDIO`'s format) behind a WAV header of unknown length, for
    players that want a file."""
    yield OUTPUT_AUDIO.streaming_wav_header()
    async for block in pcm:
        yield block


async def answer_messages(stream_id: str, pieces: AsyncIterable[str]) -> AsyncIterator[SseMessage]:
    """A question's answer as SSE: ``answer`` per piece, then ``done`` with the whole text.

    The model failing mid-answer ends the stream with an ``error`` message: the response has
    started, so a status code can no longer say it.
    """
    answer = ""
    try:
        async for piece in pieces:
            answer += piece
            yield {"event": "answer", "data": json.dumps({"text": piece})}
    except Exception as error:
        log.warning("ask on %s failed: %s", stream_id, error)
        yield {"event": "error", "data": json.dumps({"error": "the model failed"})}
        return
    yield {"event": "done", "data": json.dumps({"text": answer})}
