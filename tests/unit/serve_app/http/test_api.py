"""The HTTP API (build_api and its routes), in-process against a fake ServiceBackend.

Streaming routes are read to their end: the fake's feeds end (as a deleted stream's do),
which ends every client cleanly, or stay open until a test releases them.
"""

from __future__ import annotations

import asyncio
import io
import re
import wave
from collections.abc import AsyncIterator, Iterator
from importlib import resources
from typing import Any

import httpx
import numpy as np
import pytest

from serve_app.http import resume
from serve_app.http.access import AccessPolicy
from serve_app.http.api import build_api, openapi_document
from serve_app.messages import (
    AudioChunk,
    CommentaryText,
    DisplayFrame,
    StreamEvent,
    StreamResult,
)
from serve_app.settings import ServiceSettings
from serve_app.speech.audio_format import OUTPUT_AUDIO
from serve_app.transcripts.store import TranscriptLine

INFO = {"describer": "synthetic", "voice": "none"}
TOKEN = "t0ken"


class ClientLeft(Exception):
    """What the platform raises in a request whose client disconnected."""


def text(seq: int) -> CommentaryText:
    return CommentaryText(stream_id="s", seq=seq, cycle=seq, text=f"line {seq}", media_ts_s=1.0)


def audio(seq: int, pcm: bytes) -> AudioChunk:
    return AudioChunk(stream_id="s", seq=seq, cycle=seq, pcm=pcm, media_ts_s=1.0)


def frame(seq: int, jpeg: bytes) -> DisplayFrame:
    return DisplayFrame(seq=seq, jpeg=jpeg, media_ts_s=seq / 4, capture_wall=100.0 + seq)


class FakeBackend:
    """A ServiceBackend of plain data. Its feeds yield ``frames`` / ``live`` and then end,
    or, with ``hold_open``, wait for ``release`` (or for the hub to close them)."""

    def __init__(self) -> None:
        self.streams: dict[str, dict[str, Any]] = {"s": {"id": "s", "speech": False}}
        self.create_result = StreamResult(True, info={"id": "cam"}, status_code=201)
        self.created: list[tuple[str, str, dict[str, Any] | None]] = []
        self.deleted: list[str] = []
        self.frames: list[DisplayFrame] = []
        self.latest: DisplayFrame | None = None
        self.live: list[StreamEvent] = []
        self.log: list[StreamEvent] = []
        self.since_calls: list[tuple[str, int]] = []
        self.since_error: Exception | None = None
        self.hold_open = False
        self.release = asyncio.Event()
        self.following = asyncio.Event()
        self.answer = ["A red ", "car."]
        self.lines: list[TranscriptLine] | None = None
        self.failure: BaseException | None = None

    async def get_stream(self, stream_id: str) -> dict[str, Any] | None:
        return self.streams.get(stream_id)

    async def list_streams(self) -> list[dict[str, Any]]:
        if self.failure is not None:
            raise self.failure
        return list(self.streams.values())

    async def create_stream(
        self, stream_id: str, source: str, overrides: dict[str, Any] | None
    ) -> StreamResult:
        self.created.append((stream_id, source, overrides))
        return self.create_result

    async def delete_stream(self, stream_id: str) -> bool:
        self.deleted.append(stream_id)
        return self.streams.pop(stream_id, None) is not None

    async def events_since(self, stream_id: str, after_seq: int) -> list[StreamEvent]:
        self.since_calls.append((stream_id, after_seq))
        if self.since_error is not None:
            raise self.since_error
        return [event for event in self.log if event.seq > after_seq]

    async def ask(self, stream_id: str, question: str) -> AsyncIterator[str]:
        for piece in self.answer:
            yield piece

    async def transcript(self, stream_id: str) -> list[TranscriptLine] | None:
        return self.lines

    async def gateway_status(self) -> dict[str, Any]:
        return {"streams": list(self.streams.values())}

    async def latest_frame(self, stream_id: str) -> DisplayFrame | None:
        return self.latest

    async def ingest_status(self) -> dict[str, dict[str, object]]:
        return {"s": {"fps": 25.0}}

    def deployment_health(self) -> tuple[dict[str, str], dict[str, int]]:
        return {"Ingress": "HEALTHY"}, {"Ingress": 1}

    async def display_frames(self, stream_id: str) -> AsyncIterator[DisplayFrame]:
        for item in self.frames:
            yield item
        await self._end()

    async def follow(self, stream_id: str, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        self.following.set()
        for item in self.live:
            yield item
        await self._end()

    async def _end(self) -> None:
        if self.hold_open:
            await self.release.wait()


@pytest.fixture
def backend() -> FakeBackend:
    return FakeBackend()


def client(backend: FakeBackend, peer: str = "127.0.0.1", **settings: Any) -> httpx.AsyncClient:
    """A client of the whole API (guards included); loopback needs no token by default."""
    app = build_api(
        ServiceSettings(default_stream_id="s", **settings),
        backend,
        INFO,
        AccessPolicy(TOKEN, token_was_generated=True, protect_reads=False),
        cancelled=(ClientLeft,),
    )
    transport = httpx.ASGITransport(app, raise_app_exceptions=False, client=(peer, 50000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


def sse(body: str) -> list[dict[str, str]]:
    """SSE messages as an EventSource sees them (comments and pings left out)."""
    messages = []
    for block in re.split(r"\r?\n\r?\n", body):
        fields = {}
        for line in block.splitlines():
            if line and not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
        if fields:
            messages.append(fields)
    return messages


def mjpeg_payloads(body: bytes) -> Iterator[bytes]:
    for part in body.split(b"--frame\r\n")[1:]:
        head, _, rest = part.partition(b"\r\n\r\n")
        size = int(re.search(rb"Content-Length: (\d+)", head).group(1))  # type: ignore[union-attr]
        yield rest[:size]


# --- streams ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path", ["", "/frame", "/mjpeg", "/events", "/audio-stream", "/audio-stream.wav"]
)
async def test_an_unknown_stream_is_a_404_that_says_where_to_look(
    backend: FakeBackend, path: str
) -> None:
    async with client(backend) as api:
        response = await api.get(f"/api/streams/nope{path}")
    assert response.status_code == 404
    assert response.json() == {"error": "no stream 'nope'; GET /api/streams lists them"}


async def test_creating_a_stream_passes_its_request_on_and_answers_201_with_its_urls(
    backend: FakeBackend,
) -> None:
    async with client(backend) as api:
        body = {"source": "demo", "id": "cam", "settings": {"capture_fps": 2}}
        response = await api.post("/api/streams", json=body)
    assert response.status_code == 201
    assert backend.created == [("cam", "demo", {"capture_fps": 2})]
    assert response.json()["id"] == "cam"
    assert response.json()["urls"]["events"] == "/api/streams/cam/events"
    assert response.json()["urls"]["wav"] == "/api/streams/cam/audio-stream.wav"


async def test_a_stream_created_without_an_id_gets_a_random_one(backend: FakeBackend) -> None:
    async with client(backend) as api:
        await api.post("/api/streams", json={"source": "demo"})
    assert re.fullmatch(r"s-[0-9a-f]{10}", backend.created[0][0])


@pytest.mark.parametrize("status", [409, 422, 429])
async def test_the_backends_refusal_to_create_passes_through_with_its_message(
    backend: FakeBackend, status: int
) -> None:
    backend.create_result = StreamResult(False, status_code=status, error=f"why not: {status}")
    async with client(backend) as api:
        response = await api.post("/api/streams", json={"source": "demo"})
    assert response.status_code == status
    assert response.json() == {"error": f"why not: {status}"}


async def test_an_invalid_request_is_a_422_that_lists_each_problem(backend: FakeBackend) -> None:
    async with client(backend) as api:
        response = await api.post("/api/streams", json={"source": "", "colour": "red"})
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid request"
    assert any(p.startswith("body.source: ") for p in body["problems"])
    assert any(p.startswith("body.colour: ") for p in body["problems"])
    assert backend.created == []


async def test_deleting_a_stream_is_a_204_and_an_unknown_one_a_404(backend: FakeBackend) -> None:
    async with client(backend) as api:
        deleted = await api.delete("/api/streams/s")
        again = await api.delete("/api/streams/s")
    assert deleted.status_code == 204 and deleted.content == b""
    assert (again.status_code, again.json()) == (404, {"error": "no stream 's'"})


async def test_deleting_a_stream_ends_its_clients_here(backend: FakeBackend) -> None:
    backend.hold_open = True  # the feed itself would never end
    async with client(backend) as api:
        watching = asyncio.create_task(api.get("/api/streams/s/events"))
        await backend.following.wait()
        assert (await api.delete("/api/streams/s")).status_code == 204
        response = await asyncio.wait_for(watching, 5)
    assert response.status_code == 200


async def test_streams_are_listed_and_described(backend: FakeBackend) -> None:
    async with client(backend) as api:
        listed = await api.get("/api/streams")
        one = await api.get("/api/streams/s")
    assert listed.json() == [{"id": "s", "speech": False}]
    assert one.json() == {"id": "s", "speech": False}


async def test_status_joins_the_backend_the_deployments_and_each_streams_ingest(
    backend: FakeBackend,
) -> None:
    async with client(backend) as api:
        status = (await api.get("/api/status")).json()
    assert status == {
        "backend": INFO,
        "deployments": {"Ingress": "HEALTHY"},
        "replicas": {"Ingress": 1},
        "default_stream": "s",
        "streams": [{"id": "s", "speech": False, "ingest": {"fps": 25.0}}],
    }


# --- video ------------------------------------------------------------------------------
async def test_the_newest_frame_is_its_jpeg_with_its_media_time(backend: FakeBackend) -> None:
    backend.latest = frame(2, b"\xff\xd8newest")
    async with client(backend) as api:
        response = await api.get("/api/streams/s/frame")
        default = await api.get("/api/frame")
    assert response.content == default.content == b"\xff\xd8newest"
    assert response.headers["content-type"] == "image/jpeg"
    assert response.headers["x-media-ts"] == "0.5000"
    assert response.headers["cache-control"] == "no-store"


async def test_a_stream_without_a_frame_yet_says_to_retry(backend: FakeBackend) -> None:
    async with client(backend) as api:
        response = await api.get("/api/streams/s/frame")
    assert response.status_code == 404
    assert response.json() == {"error": "stream 's' has no frame yet; retry shortly"}


async def test_mjpeg_parts_carry_each_jpeg(backend: FakeBackend) -> None:
    backend.frames = [frame(1, b"\xff\xd8one"), frame(2, b"\xff\xd8two\r\n\r\nmore")]
    async with client(backend) as api:
        response = await api.get("/api/streams/s/mjpeg")
        default = await api.get("/api/mjpeg")
    assert response.headers["content-type"] == "multipart/x-mixed-replace; boundary=frame"
    assert response.headers["cache-control"] == "no-store"
    expected = [b"\xff\xd8one", b"\xff\xd8two\r\n\r\nmore"]
    assert list(mjpeg_payloads(response.content)) == expected
    assert list(mjpeg_payloads(default.content)) == expected


# --- commentary -------------------------------------------------------------------------
async def test_events_are_sse_without_audio(backend: FakeBackend) -> None:
    backend.live = [text(1), audio(2, b"\x00\x00"), text(3)]
    async with client(backend) as api:
        response = await api.get("/api/events")
    assert response.headers["content-type"].startswith("text/event-stream")
    messages = sse(response.text)
    assert [(m["event"], m["id"]) for m in messages] == [("text", "1"), ("text", "3")]
    assert backend.since_calls == []


async def test_a_client_resuming_with_last_event_id_gets_the_missed_events_once_then_live_ones(
    backend: FakeBackend,
) -> None:
    backend.log = [text(1), text(2), text(3)]
    backend.live = [text(3), audio(4, b"\x00\x00"), text(5)]  # 3 is in both
    async with client(backend) as api:
        response = await api.get("/api/streams/s/events", headers={"Last-Event-ID": "1"})
    assert [m["id"] for m in sse(response.text)] == ["2", "3", "5"]
    assert backend.since_calls == [("s", 1)]


async def test_a_last_event_id_that_is_not_a_number_is_a_400(backend: FakeBackend) -> None:
    async with client(backend) as api:
        response = await api.get("/api/streams/s/events", headers={"Last-Event-ID": "abc"})
    assert response.status_code == 400
    assert response.json() == {"error": "Last-Event-ID must be an event sequence number"}


async def test_a_reconnecting_client_counts_against_the_viewer_limit(
    backend: FakeBackend,
) -> None:
    backend.hold_open = True
    async with client(backend, max_events_clients=1) as api:
        watching = asyncio.create_task(api.get("/api/streams/s/events"))
        await backend.following.wait()
        refused = await api.get("/api/streams/s/events", headers={"Last-Event-ID": "5"})
        backend.release.set()
        await asyncio.wait_for(watching, 5)
    assert refused.status_code == 429
    assert refused.json() == {
        "error": "stream is at its limit of 1 events clients on this replica (MAX_EVENTS_CLIENTS)"
    }
    assert backend.since_calls == []


async def test_a_resume_that_fails_says_retry_and_gives_back_its_viewer_place(
    backend: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(resume, "RESUME_RETRY_S", 0.0)
    backend.since_error = ConnectionError("gateway restarting")
    async with client(backend, max_events_clients=1) as api:
        failed = await api.get("/api/streams/s/events", headers={"Last-Event-ID": "5"})
        backend.since_error = None
        again = await api.get("/api/streams/s/events", headers={"Last-Event-ID": "5"})
    assert failed.status_code == 503
    assert failed.json() == {"error": "the service is restarting; reconnect shortly"}
    assert len(backend.since_calls) == resume.RESUME_TRIES + 1, "asked again before giving up"
    assert again.status_code == 200, "the failed attempt did not keep the only place"


async def test_a_question_is_answered_piece_by_piece_then_done(backend: FakeBackend) -> None:
    async with client(backend) as api:
        response = await api.post("/api/streams/s/ask", json={"question": "What car?"})
    messages = sse(response.text)
    assert [m["event"] for m in messages] == ["answer", "answer", "done"]
    assert messages[-1]["data"] == '{"text": "A red car."}'


# --- speech -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/api/streams/s/audio-stream",
        "/api/streams/s/audio-stream.wav",
        "/api/audio-stream",
        "/api/audio-stream.wav",
    ],
)
async def test_audio_routes_are_404_when_speech_is_off(backend: FakeBackend, path: str) -> None:
    async with client(backend) as api:
        response = await api.get(path)
    assert response.status_code == 404
    assert response.json() == {"error": "speech is off for stream 's' (enable_tts)"}


async def test_the_audio_stream_is_the_raw_pcm_with_its_format_in_headers(
    backend: FakeBackend,
) -> None:
    backend.streams["s"]["speech"] = True
    backend.live = [audio(1, b"\x01\x00\x02\x00"), text(2), audio(3, b"\x03\x00")]
    async with client(backend) as api:
        response = await api.get("/api/streams/s/audio-stream")
    assert speech_of(response.content) == [1, 2, 3], "the lines in order; silence between"
    assert response.headers["content-type"] == OUTPUT_AUDIO.media_type
    for name, value in OUTPUT_AUDIO.headers.items():
        assert response.headers[name] == value
    assert response.headers["cache-control"] == "no-store"


async def test_the_wav_stream_plays_as_a_wav_of_the_same_pcm(backend: FakeBackend) -> None:
    backend.streams["s"]["speech"] = True
    pcm = bytes(range(64))
    backend.live = [audio(1, pcm[:40]), audio(2, pcm[40:])]
    async with client(backend) as api:
        response = await api.get("/api/streams/s/audio-stream.wav")
    assert response.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(response.content)) as wav:
        assert wav.getframerate() == OUTPUT_AUDIO.rate_hz
        assert wav.getnchannels() == OUTPUT_AUDIO.channels
        assert speech_of(wav.readframes(10**6)) == speech_of(pcm)


def speech_of(pcm: bytes) -> list[int]:
    """The non-silent samples: the paced stream fills the time between lines with zeros."""
    return [s for s in np.frombuffer(pcm, dtype="<i2").tolist() if s != 0]


# --- transcripts ------------------------------------------------------------------------
LINES = [
    TranscriptLine("s", 1, 0.0, 1.0, 10.0, "Kick-off."),
    TranscriptLine("s", 2, 1.0, 2.5, 11.0, "A shot."),
]


async def test_a_transcript_comes_as_json_vtt_or_srt(backend: FakeBackend) -> None:
    backend.lines = LINES
    async with client(backend) as api:
        as_json = await api.get("/api/streams/s/transcript")
        vtt = await api.get("/api/streams/s/transcript", params={"format": "vtt"})
        srt = await api.get("/api/streams/s/transcript", params={"format": "srt"})
    assert [line["text"] for line in as_json.json()] == ["Kick-off.", "A shot."]
    assert as_json.json()[1]["media_ts"] == 2.5
    assert vtt.headers["content-type"] == "text/vtt; charset=utf-8"
    assert vtt.text.startswith("WEBVTT") and "A shot." in vtt.text
    assert srt.headers["content-type"] == "application/x-subrip; charset=utf-8"
    assert srt.text.startswith("1\n") and "00:00:01,000 --> " in srt.text


async def test_no_transcript_is_a_404_and_an_unknown_format_a_422(backend: FakeBackend) -> None:
    async with client(backend) as api:
        missing = await api.get("/api/streams/x/transcript")
        backend.lines = LINES
        bad = await api.get("/api/streams/s/transcript", params={"format": "doc"})
    assert missing.json() == {"error": "no stream 'x' and no transcript for it"}
    assert missing.status_code == 404
    assert bad.status_code == 422 and bad.json()["error"] == "invalid request"


# --- errors, page, guards ---------------------------------------------------------------
async def test_an_unexpected_error_is_a_500_that_names_it_without_a_stack_trace(
    backend: FakeBackend,
) -> None:
    backend.failure = RuntimeError("secret internals")
    async with client(backend) as api:
        response = await api.get("/api/streams")
    assert response.status_code == 500
    assert response.json() == {"error": "internal error: RuntimeError"}


async def test_a_request_whose_client_left_is_a_499(backend: FakeBackend) -> None:
    backend.failure = ClientLeft()
    async with client(backend) as api:
        response = await api.get("/api/streams")
    assert response.status_code == 499
    assert response.json() == {"error": "client disconnected"}


async def test_the_page_is_served_at_the_root(backend: FakeBackend) -> None:
    page = resources.files("serve_app.http").joinpath("static/index.html").read_text()
    async with client(backend) as api:
        response = await api.get("/")
    assert response.headers["content-type"].startswith("text/html")
    assert response.text == page


async def test_the_api_sits_behind_the_access_guard_and_the_body_limit(
    backend: FakeBackend,
) -> None:
    async with client(backend, peer="192.0.2.7", max_request_bytes=1024) as api:
        anonymous = await api.post("/api/streams", json={"source": "demo"})
        auth = {"Authorization": f"Bearer {TOKEN}"}
        too_big = await api.post("/api/streams", json={"source": "x" * 2000}, headers=auth)
        allowed = await api.post("/api/streams", json={"source": "demo"}, headers=auth)
    assert anonymous.status_code == 401
    assert too_big.status_code == 413
    assert allowed.status_code == 201
    assert len(backend.created) == 1


async def test_configured_cors_origins_may_call_the_api(backend: FakeBackend) -> None:
    origin = "https://app.example"
    preflight = {"Origin": origin, "Access-Control-Request-Method": "POST"}
    async with client(backend, cors_origins=[origin]) as api:
        allowed = await api.options("/api/streams", headers=preflight)
    async with client(backend) as api:
        unconfigured = await api.options("/api/streams", headers=preflight)
    assert allowed.headers["access-control-allow-origin"] == origin
    assert "access-control-allow-origin" not in unconfigured.headers


def test_the_openapi_document_describes_every_route_without_a_backend() -> None:
    paths = openapi_document()["paths"]
    base = "/api/streams/{stream_id}"
    assert set(paths) == {
        "/api/status",
        "/api/streams",
        base,
        *(f"{base}/{leaf}" for leaf in ("frame", "mjpeg", "events", "ask", "transcript")),
        f"{base}/audio-stream",
        f"{base}/audio-stream.wav",
        "/api/frame",
        "/api/mjpeg",
        "/api/events",
        "/api/audio-stream",
        "/api/audio-stream.wav",
    }
    assert paths["/api/streams"]["post"]["summary"] == "Start a stream from a source"
