"""Ingress deployment: the HTTP surface (FastAPI) and local fan-out to clients.

Each replica keeps one upstream per stream for video and one for events, whatever the
number of viewers (:class:`StreamHub`), and gives each client its own bounded queue.
"""

import asyncio
import json
import logging
import struct
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import asdict
from enum import StrEnum
from importlib import resources
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from ray import serve
from ray.exceptions import TaskCancelledError
from ray.serve.handle import DeploymentHandle
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException

from deployments.logs import send_to_serve_logs
from serve_app.http.access import AccessPolicy
from serve_app.http.broadcaster import Broadcaster, Overflow, Subscription, resume_after
from serve_app.http.guards import AccessGuard, ASGIApp, BodyLimit
from serve_app.http.shared_upstream import SharedUpstream
from serve_app.messages import AudioChunk, DisplayFrame, StreamEvent
from serve_app.settings import ServiceSettings
from serve_app.transcripts.formats import to_srt, to_webvtt

log = logging.getLogger("ray.serve")

MJPEG_BOUNDARY = "frame"
EVENT_QUEUE = 512  # events a slow SSE client may lag before it is dropped (and reconnects)

app = FastAPI(
    title="Live commentary",
    description="Live AI commentary on video streams: text (SSE), video (MJPEG), speech (PCM).",
    version="0.1.0",
)


class ClientError(HTTPException):
    """A request the client can fix: answered with its status code and a plain message."""


@app.exception_handler(HTTPException)
async def _http_error(request: Request, error: HTTPException) -> JSONResponse:
    return JSONResponse({"error": error.detail}, status_code=error.status_code)


@app.exception_handler(RequestValidationError)
async def _validation_error(request: Request, error: RequestValidationError) -> JSONResponse:
    problems = [
        f"{'.'.join(str(p) for p in item['loc'])}: {item['msg']}" for item in error.errors()
    ]
    return JSONResponse({"error": "invalid request", "problems": problems}, status_code=422)


def _client_left(error: BaseException) -> bool:
    """Serve cancels a request whose client disconnected; that is not an error."""
    if isinstance(error, BaseExceptionGroup):
        return all(_client_left(inner) for inner in error.exceptions)
    return isinstance(error, TaskCancelledError | asyncio.CancelledError)


@app.exception_handler(Exception)
async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    if _client_left(error):
        log.debug("client left %s", request.url.path)
        return JSONResponse({"error": "client disconnected"}, status_code=499)
    # Logged in full here; the client gets a message, never a stack trace.
    log.exception("unhandled error on %s", request.url.path)
    return JSONResponse({"error": f"internal error: {type(error).__name__}"}, status_code=500)


class StreamHub:
    """One stream's upstreams in this replica (video and events), shared by all its clients."""

    def __init__(
        self, stream_id: str, ingest: DeploymentHandle, gateway: DeploymentHandle, queue: int
    ) -> None:
        self.stream_id = stream_id
        self._ingest = ingest.options(stream=True)
        self._gateway = gateway.options(stream=True)
        self._last_event_seq: int | None = None
        self.frames: SharedUpstream[DisplayFrame] = SharedUpstream(
            f"stream {stream_id} video",
            Broadcaster(queue, Overflow.DROP_OLDEST),
            self._display_frames,
        )
        self.events: SharedUpstream[StreamEvent] = SharedUpstream(
            f"stream {stream_id} events",
            Broadcaster(EVENT_QUEUE, Overflow.DISCONNECT),
            self._follow_events,
        )

    @property
    def closed(self) -> bool:
        return self.frames.clients.closed or self.events.clients.closed

    async def _display_frames(self) -> AsyncIterator[DisplayFrame]:
        upstream = self._ingest.display_frames.remote(self.stream_id)
        try:
            async for frame in upstream:
                yield frame
        finally:
            upstream.cancel()  # or FrameIngest keeps the call, and its request slot, forever

    async def _follow_events(self) -> AsyncIterator[StreamEvent]:
        # After a broken upstream, resume after the last event relayed: nothing is lost.
        upstream = self._gateway.follow.remote(self.stream_id, self._last_event_seq)
        try:
            async for event in upstream:
                self._last_event_seq = event.seq
                yield event
        finally:
            upstream.cancel()

    async def close(self) -> None:
        await asyncio.gather(self.frames.close(), self.events.close())


class TranscriptFormat(StrEnum):
    JSON = "json"
    VTT = "vtt"
    SRT = "srt"


class CreateStream(BaseModel):
    """POST /api/streams: where the video comes from, and optional per-stream settings."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(
        ..., min_length=1, max_length=2048, description="demo, demo:<clip>, a path or a URL"
    )
    id: str | None = Field(
        None, pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$", description="Chosen id (default: random)"
    )
    settings: dict[str, Any] | None = Field(
        None, description="Per-stream overrides of StreamSettings (see docs/settings.md)"
    )


class Question(BaseModel):
    """POST /api/streams/{id}/ask."""

    model_config = ConfigDict(extra="forbid")

    question: str = Field(..., min_length=1, max_length=500)


PCM_HEADERS = {"X-Audio-Rate": "48000", "X-Audio-Channels": "1", "X-Audio-Format": "s16le"}


def streaming_wav_header(rate_hz: int) -> bytes:
    """A WAV header for a stream of unknown length (sizes at their maximum, as players expect)."""
    unknown = 0xFFFFFFFF
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, 1, 1, rate_hz, rate_hz * 2, 2, 16)
        + b"data"
        + struct.pack("<I", unknown)
    )


async def _pcm(subscription: Subscription[StreamEvent]) -> AsyncIterator[bytes]:
    async for event in subscription:
        if isinstance(event, AudioChunk):
            yield event.pcm


def _stream_urls(stream_id: str) -> dict[str, str]:
    base = f"/api/streams/{stream_id}"
    return {
        "self": base,
        "mjpeg": f"{base}/mjpeg",
        "events": f"{base}/events",
        "audio": f"{base}/audio-stream",
        "wav": f"{base}/audio-stream.wav",
        "transcript": f"{base}/transcript",
        "ask": f"{base}/ask",
        "frame": f"{base}/frame",
    }


def _deployments() -> tuple[dict[str, str], dict[str, int]]:
    """Each deployment's health and its number of running replicas."""
    try:
        status = serve.status()
    except Exception as error:  # status is informative; never fail the request over it
        return {"error": str(error)}, {}
    health: dict[str, str] = {}
    replicas: dict[str, int] = {}
    for application in status.applications.values():
        for name, deployment in application.deployments.items():
            health[name] = str(getattr(deployment.status, "value", deployment.status))
            running = {str(getattr(k, "value", k)): v for k, v in deployment.replica_states.items()}
            replicas[name] = running.get("RUNNING", 0)
    return health, replicas


# serve.ingress pickles the FastAPI app when the class is decorated, so everything its
# routes call must already be defined above this point.
@serve.deployment
@serve.ingress(app)
class Ingress:
    def __init__(
        self,
        settings: ServiceSettings,
        gateway: DeploymentHandle,
        ingest: DeploymentHandle,
        backend_info: dict[str, Any],
        access: AccessPolicy,
    ) -> None:
        send_to_serve_logs(settings.log_level)
        self._settings = settings
        self._gateway = gateway
        self._ingest = ingest
        self._backend_info = backend_info
        self._hubs: dict[str, StreamHub] = {}
        self._page = resources.files("serve_app.http").joinpath("static/index.html").read_text()
        self._access = access

    def __serve_build_asgi_app__(self) -> ASGIApp:
        """Serve calls this after the constructor: the guards need the settings."""
        api: FastAPI = self._asgi_app  # the app with this class's routes bound
        if self._settings.cors_origins:
            api.add_middleware(
                CORSMiddleware,
                allow_origins=self._settings.cors_origins,
                allow_methods=["GET", "POST", "DELETE"],
                allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
            )
        guarded = AccessGuard(api, self._access)
        return BodyLimit(guarded, self._settings.max_request_bytes)

    # --- helpers -------------------------------------------------------------------------
    async def _stream(self, stream_id: str) -> dict[str, Any]:
        info = await self._gateway.get_stream.remote(stream_id)
        if info is None:
            raise ClientError(404, f"no stream {stream_id!r}; GET /api/streams lists them")
        return info

    def _hub(self, stream_id: str) -> StreamHub:
        hub = self._hubs.get(stream_id)
        if hub is None or hub.closed:  # new, or a deleted one's
            hub = StreamHub(
                stream_id, self._ingest, self._gateway, self._settings.client_queue_frames
            )
            self._hubs[stream_id] = hub
        return hub

    def _check_viewers(self, broadcaster: Broadcaster[Any]) -> None:
        if len(broadcaster) >= self._settings.max_viewers_per_stream:
            raise ClientError(
                429, f"stream is at its limit of {self._settings.max_viewers_per_stream} viewers"
            )

    # --- page and status ----------------------------------------------------------------
    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def page(self) -> HTMLResponse:
        return HTMLResponse(self._page)

    @app.get("/api/status", summary="Backends, deployments and every stream's state")
    async def status(self) -> dict[str, Any]:
        gateway_status, ingest_status = await asyncio.gather(
            self._gateway.status.remote(), self._ingest.status.remote()
        )
        health, replicas = _deployments()
        return {
            "backend": self._backend_info,
            "deployments": health,
            "replicas": replicas,
            "default_stream": self._settings.default_stream_id,
            "streams": [
                {**s, "ingest": ingest_status.get(s["id"], {})} for s in gateway_status["streams"]
            ],
        }

    @app.get("/api/streams", summary="List streams")
    async def list_streams(self) -> list[dict[str, Any]]:
        return await self._gateway.list_streams.remote()

    @app.post("/api/streams", status_code=201, summary="Start a stream from a source")
    async def create_stream(self, body: CreateStream) -> JSONResponse:
        stream_id = body.id or f"s-{uuid.uuid4().hex[:10]}"
        result = await self._gateway.create_stream.remote(stream_id, body.source, body.settings)
        if not result.ok:
            raise ClientError(result.status_code, result.error)
        return JSONResponse({**result.info, "urls": _stream_urls(stream_id)}, status_code=201)

    @app.delete("/api/streams/{stream_id}", status_code=204, summary="Stop and remove a stream")
    async def delete_stream(self, stream_id: str) -> Response:
        if not await self._gateway.delete_stream.remote(stream_id):
            raise ClientError(404, f"no stream {stream_id!r}")
        hub = self._hubs.pop(stream_id, None)
        if hub is not None:
            await hub.close()
        return Response(status_code=204)

    @app.get("/api/streams/{stream_id}", summary="One stream's state")
    async def get_stream(self, stream_id: str) -> dict[str, Any]:
        return await self._stream(stream_id)

    # --- video ----------------------------------------------------------------------------
    @app.get("/api/streams/{stream_id}/frame", summary="The newest frame (real time, no delay)")
    async def frame(self, stream_id: str) -> Response:
        await self._stream(stream_id)
        frame: DisplayFrame | None = await self._ingest.latest_frame.remote(stream_id)
        if frame is None:
            raise ClientError(404, f"stream {stream_id!r} has no frame yet; retry shortly")
        return Response(
            frame.jpeg,
            media_type="image/jpeg",
            headers={"X-Media-Ts": f"{frame.media_ts_s:.4f}", "Cache-Control": "no-store"},
        )

    @app.get("/api/streams/{stream_id}/mjpeg", summary="Video at native rate, delayed for sync")
    async def mjpeg(self, stream_id: str) -> StreamingResponse:
        await self._stream(stream_id)
        hub = self._hub(stream_id)
        self._check_viewers(hub.frames.clients)
        subscription = hub.frames.subscribe()

        async def parts() -> AsyncIterator[bytes]:
            async for frame in subscription:
                yield (
                    (
                        f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(frame.jpeg)}\r\n"
                        f"X-Media-Ts: {frame.media_ts_s:.4f}\r\n"
                        f"X-Capture-Wall: {frame.capture_wall:.4f}\r\n\r\n"
                    ).encode()
                    + frame.jpeg
                    + b"\r\n"
                )

        return StreamingResponse(
            parts(),
            media_type=f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}",
            headers={"Cache-Control": "no-store"},
        )

    # --- commentary -----------------------------------------------------------------------
    @app.get("/api/streams/{stream_id}/events", summary="Commentary and cycle events (SSE)")
    async def events(self, stream_id: str, request: Request) -> EventSourceResponse:
        await self._stream(stream_id)
        last_id = request.headers.get("last-event-id")
        if last_id is not None and not last_id.isdigit():
            raise ClientError(400, "Last-Event-ID must be an event sequence number")
        hub = self._hub(stream_id)
        self._check_viewers(hub.events.clients)
        source: AsyncIterable[StreamEvent] = hub.events.subscribe()
        if last_id is not None:
            # A reconnecting client is a viewer of the shared feed like any other; what it
            # missed comes once from the event log.
            missed = await self._gateway.events_since.remote(stream_id, int(last_id))
            source = resume_after(missed, source, lambda event: getattr(event, "seq", None))

        async def messages() -> AsyncIterator[dict[str, str]]:
            async for event in source:
                if isinstance(event, AudioChunk):
                    continue
                yield {
                    "event": event.type,
                    "id": str(event.seq),
                    "data": event.model_dump_json(exclude={"pcm"}),
                }

        return EventSourceResponse(messages(), ping=15)

    async def _speech(self, stream_id: str) -> Subscription[StreamEvent]:
        info = await self._stream(stream_id)
        if not info.get("speech"):
            raise ClientError(404, f"speech is off for stream {stream_id!r} (enable_tts)")
        hub = self._hub(stream_id)
        self._check_viewers(hub.events.clients)
        return hub.events.subscribe()

    @app.get("/api/streams/{stream_id}/audio-stream", summary="Spoken commentary, raw PCM")
    async def audio_stream(self, stream_id: str) -> StreamingResponse:
        subscription = await self._speech(stream_id)
        return StreamingResponse(
            _pcm(subscription),
            media_type="audio/L16;rate=48000;channels=1",
            headers={**PCM_HEADERS, "Cache-Control": "no-store"},
        )

    @app.get(
        "/api/streams/{stream_id}/audio-stream.wav", summary="Spoken commentary as streamed WAV"
    )
    async def audio_wav(self, stream_id: str) -> StreamingResponse:
        subscription = await self._speech(stream_id)

        async def wav() -> AsyncIterator[bytes]:
            yield streaming_wav_header(48_000)
            async for pcm in _pcm(subscription):
                yield pcm

        return StreamingResponse(
            wav(), media_type="audio/wav", headers={**PCM_HEADERS, "Cache-Control": "no-store"}
        )

    @app.post("/api/streams/{stream_id}/ask", summary="Ask about what is on screen (SSE answer)")
    async def ask(self, stream_id: str, body: Question) -> EventSourceResponse:
        await self._stream(stream_id)
        pieces = self._gateway.options(stream=True).ask.remote(stream_id, body.question)

        async def messages() -> AsyncIterator[dict[str, str]]:
            answer = ""
            try:
                async for piece in pieces:
                    answer += piece
                    yield {"event": "answer", "data": json.dumps({"text": piece})}
            except Exception as error:  # the model failed mid-answer: say so, in-stream
                log.warning("ask on %s failed: %s", stream_id, error)
                yield {"event": "error", "data": json.dumps({"error": "the model failed"})}
                return
            yield {"event": "done", "data": json.dumps({"text": answer})}

        return EventSourceResponse(messages())

    @app.get("/api/streams/{stream_id}/transcript", summary="Every line said, in media time")
    async def transcript(
        self, stream_id: str, format: TranscriptFormat = TranscriptFormat.JSON
    ) -> Response:
        lines = await self._gateway.transcript.remote(stream_id)
        if lines is None:
            raise ClientError(404, f"no stream {stream_id!r} and no transcript for it")
        if format is TranscriptFormat.VTT:
            return Response(to_webvtt(lines), media_type="text/vtt; charset=utf-8")
        if format is TranscriptFormat.SRT:
            return Response(to_srt(lines), media_type="application/x-subrip; charset=utf-8")
        return JSONResponse([asdict(line) for line in lines])

    # --- the default stream's short forms --------------------------------------------------
    @app.get("/api/frame", summary="The default stream's newest frame")
    async def default_frame(self) -> Response:
        return await self.frame(self._settings.default_stream_id)

    @app.get("/api/mjpeg", summary="The default stream's video")
    async def default_mjpeg(self) -> StreamingResponse:
        return await self.mjpeg(self._settings.default_stream_id)

    @app.get("/api/events", summary="The default stream's commentary events")
    async def default_events(self, request: Request) -> EventSourceResponse:
        return await self.events(self._settings.default_stream_id, request)

    @app.get("/api/audio-stream", summary="The default stream's spoken commentary")
    async def default_audio(self) -> StreamingResponse:
        return await self.audio_stream(self._settings.default_stream_id)
