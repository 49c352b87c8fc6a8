"""wire: the bytes and messages clients parse (MJPEG parts, SSE, PCM, WAV, answers)."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import AsyncIterator, Iterable
from typing import TypeVar

from pydantic import TypeAdapter

from serve_app.http import wire
from serve_app.messages import (
    AudioChunk,
    CommentaryText,
    DisplayFrame,
    StateChanged,
    StreamEvent,
    StreamState,
)
from serve_app.speech.audio_format import OUTPUT_AUDIO

T = TypeVar("T")

JPEG = b"\xff\xd8fake jpeg\r\n--frame inside the payload\xff\xd9"


async def items(values: Iterable[T]) -> AsyncIterator[T]:
    for value in values:
        yield value


async def collect(iterator: AsyncIterator[T]) -> list[T]:
    return [item async for item in iterator]


def parse_mjpeg(body: bytes) -> list[tuple[dict[str, str], bytes]]:
    """Parts as a browser reads them: boundary, headers, then Content-Length bytes."""
    parts = []
    rest = body
    while rest:
        assert rest.startswith(f"--{wire.MJPEG_BOUNDARY}\r\n".encode())
        head, _, rest = rest.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode().split("\r\n")[1:])
        size = int(headers["Content-Length"])
        parts.append((headers, rest[:size]))
        assert rest[size : size + 2] == b"\r\n"
        rest = rest[size + 2 :]
    return parts


def audio(seq: int, pcm: bytes) -> AudioChunk:
    return AudioChunk(stream_id="s", seq=seq, cycle=1, pcm=pcm, media_ts_s=1.0)


def text(seq: int, words: str) -> CommentaryText:
    return CommentaryText(stream_id="s", seq=seq, cycle=1, text=words, media_ts_s=2.5)


def test_mjpeg_parts_carry_each_jpeg_whole_with_its_times() -> None:
    frames = [
        DisplayFrame(seq=1, jpeg=JPEG, media_ts_s=1.23456, capture_wall=1000.5),
        DisplayFrame(seq=2, jpeg=b"second", media_ts_s=2.0, capture_wall=1001.0),
    ]
    body = b"".join(map(wire.mjpeg_part, frames))
    parts = parse_mjpeg(body)
    assert [payload for _, payload in parts] == [JPEG, b"second"]
    first_headers = parts[0][0]
    assert first_headers["Content-Type"] == "image/jpeg"
    assert first_headers["X-Media-Ts"] == "1.2346"
    assert first_headers["X-Capture-Wall"] == "1000.5000"


def test_the_mjpeg_media_type_names_the_boundary_the_parts_use() -> None:
    assert wire.MJPEG_MEDIA_TYPE == "multipart/x-mixed-replace; boundary=frame"
    frame = DisplayFrame(seq=1, jpeg=b"x", media_ts_s=0.0, capture_wall=0.0)
    assert wire.mjpeg_part(frame).startswith(b"--frame\r\n")


def test_a_single_frame_says_its_media_time_and_is_not_cached() -> None:
    frame = DisplayFrame(seq=1, jpeg=b"x", media_ts_s=3.0, capture_wall=0.0)
    assert wire.frame_headers(frame) == {"X-Media-Ts": "3.0000", "Cache-Control": "no-store"}


def test_an_sse_message_is_the_event_typed_numbered_and_as_json() -> None:
    event = text(7, "a goal")
    message = wire.sse_message(event)
    assert message is not None
    assert message["event"] == "text"
    assert message["id"] == "7"
    assert TypeAdapter(StreamEvent).validate_json(message["data"]) == event


def test_audio_never_goes_to_sse() -> None:
    assert wire.sse_message(audio(3, b"\x01\x02")) is None


async def test_sse_messages_skip_audio_and_keep_order() -> None:
    events = [
        StateChanged(stream_id="s", seq=1, state=StreamState.LIVE),
        audio(2, b"\x00\x00"),
        text(3, "hello"),
    ]
    messages = await collect(wire.sse_messages(items(events)))
    assert [(m["event"], m["id"]) for m in messages] == [("state", "1"), ("text", "3")]
    assert all("pcm" not in json.loads(m["data"]) for m in messages)


async def test_streaming_wav_is_a_playable_wav_in_the_output_format() -> None:
    pcm = bytes(range(200))  # 100 samples
    body = b"".join(await collect(wire.streaming_wav(items([pcm[:120], pcm[120:]]))))
    with wave.open(io.BytesIO(body)) as wav:
        assert wav.getframerate() == OUTPUT_AUDIO.rate_hz
        assert wav.getnchannels() == OUTPUT_AUDIO.channels
        assert wav.getsampwidth() == OUTPUT_AUDIO.sample_bytes
        assert wav.readframes(1000) == pcm


async def test_an_answer_streams_its_pieces_then_the_whole_text() -> None:
    messages = await collect(wire.answer_messages("s", items(["A red ", "car."])))
    assert [m["event"] for m in messages] == ["answer", "answer", "done"]
    assert [json.loads(m["data"])["text"] for m in messages] == ["A red ", "car.", "A red car."]


async def test_a_model_failing_mid_answer_ends_the_stream_with_an_error() -> None:
    async def failing() -> AsyncIterator[str]:
        yield "A red "
        raise RuntimeError("CUDA out of memory")

    messages = await collect(wire.answer_messages("s", failing()))
    assert [m["event"] for m in messages] == ["answer", "error"]
    assert json.loads(messages[-1]["data"]) == {"error": "the model failed"}


def test_a_notice_that_is_not_in_the_log_carries_no_id_to_resume_at() -> None:
    notice = StateChanged(stream_id="s", state=StreamState.RECONNECTING, detail="restarting")
    message = wire.sse_message(notice)
    assert message is not None and "id" not in message and message["event"] == "state"
