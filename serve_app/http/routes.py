"""The HTTP routes: streams, video (MJPEG), commentary (SSE), speech (PCM, WAV), transcripts.

Routes are module-level functions on :data:`router`; each reaches its replica's state
(:class:`Service`: settings, the backend, the stream hubs) through a dependency, so the
routes, and their OpenAPI document, exist before and without a backend. ``api.build_api``
mounts them.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import asdict
from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sse_starlette.sse import EventSourceResponse

from serve_app.http import wire
from serve_app.http.broadcaster import resume_after
from serve_app.http.resume import missed_events
from serve_app.http.service import ClientError, ClientKind, Service
from serve_app.messages import DisplayFrame, StreamEvent
from serve_app.speech.audio_format import OUTPUT_AUDIO
from serve_app.transcripts.formats import to_srt, to_webvtt

SSE_PING_S = 15  # a comment line this often keeps proxies from closing an idle event stream


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


def stream_urls(stream_id: str) -> dict[str, str]:
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


async def _service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(_service)]
router = APIRouter()


# --- page and status ------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse, include_in_schema=False)
async def page(service: ServiceDep) -> HTMLResponse:
    return HTMLResponse(service.page)


@router.get("/api/status", summary="Backends, deployments and every stream's state")
async def status(service: ServiceDep) -> dict[str, Any]:
    backend = service.backend
    gateway_status, ingest_status = await asyncio.gather(
        backend.gateway_status(), backend.ingest_status()
    )
    health, replicas = backend.deployment_health()
    return {
        "backend": service.backend_info,
        "deployments": health,
        "replicas": replicas,
        "default_stream": service.settings.default_stream_id,
        "streams": [
            {**s, "ingest": ingest_status.get(s["id"], {})} for s in gateway_status["streams"]
        ],
    }


@router.get("/api/streams", summary="List streams")
async def list_streams(service: ServiceDep) -> list[dict[str, Any]]:
    return await service.backend.list_streams()


@router.post("/api/streams", status_code=201, summary="Start a stream from a source")
async def create_stream(body: CreateStream, service: ServiceDep) -> JSONResponse:
    stream_id = body.id or f"s-{uuid.uuid4().hex[:10]}"
    result = await service.backend.create_stream(stream_id, body.source, body.settings)
    if not result.ok:
        raise ClientError(result.status_code, result.error)
    return JSONResponse({**(result.info or {}), "urls": stream_urls(stream_id)}, status_code=201)


@router.delete("/api/streams/{stream_id}", status_code=204, summary="Stop and remove a stream")
async def delete_stream(stream_id: str, service: ServiceDep) -> Response:
    if not await service.backend.delete_stream(stream_id):
        raise ClientError(404, f"no stream {stream_id!r}")
    await service.hubs.close(stream_id)
    return Response(status_code=204)


@router.get("/api/streams/{stream_id}", summary="One stream's state")
async def get_stream(stream_id: str, service: ServiceDep) -> dict[str, Any]:
    return await service.stream(stream_id)


# --- video ----------------------------------------------------------------------------------
@router.get("/api/streams/{stream_id}/frame", summary="The newest frame (real time, no delay)")
async def frame(stream_id: str, service: ServiceDep) -> Response:
    await service.stream(stream_id)
    latest: DisplayFrame | None = await service.backend.latest_frame(stream_id)
    if latest is None:
        raise ClientError(404, f"stream {stream_id!r} has no frame yet; retry shortly")
    return Response(latest.jpeg, media_type="image/jpeg", headers=wire.frame_headers(latest))


@router.get("/api/streams/{stream_id}/mjpeg", summary="Video at native rate, delayed for sync")
async def mjpeg(stream_id: str, service: ServiceDep) -> StreamingResponse:
    await service.stream(stream_id)
    hub = service.hubs.hub(stream_id)
    service.check_room(hub.frames.clients, ClientKind.VIDEO)
    return StreamingResponse(
        hub.frames.subscribe(),  # the same encoded part for every viewer
        media_type=wire.MJPEG_MEDIA_TYPE,
        headers=wire.NO_STORE,
    )


# --- commentary -----------------------------------------------------------------------------
@router.get("/api/streams/{stream_id}/events", summary="Commentary and cycle events (SSE)")
async def events(stream_id: str, request: Request, service: ServiceDep) -> EventSourceResponse:
    await service.stream(stream_id)
    last_id = request.headers.get("last-event-id")
    if last_id is not None and not last_id.isdigit():
        raise ClientError(400, "Last-Event-ID must be an event sequence number")
    hub = service.hubs.hub(stream_id)
    service.check_room(hub.events.clients, ClientKind.EVENTS)
    subscription = hub.events.subscribe()
    source: AsyncIterable[StreamEvent] = subscription
    missed: list[StreamEvent] | None = None
    if last_id is not None:
        # A reconnecting client is a viewer of the shared feed like any other; what it
        # missed comes once from the event log.
        try:
            missed = await missed_events(service.backend, stream_id, int(last_id))
        finally:
            if missed is None:  # a failed resume must not keep a viewer's place
                subscription.close()
        if missed is None:
            raise ClientError(503, "the service is restarting; reconnect shortly")
        # A notice from the Ingress itself (seq < 0) is not in the log: it always goes through.
        source = resume_after(missed, source, lambda event: event.seq if event.seq >= 0 else None)
    return EventSourceResponse(wire.sse_messages(source), ping=SSE_PING_S)


def _audio(body: AsyncIterator[bytes], media_type: str) -> StreamingResponse:
    return StreamingResponse(
        body, media_type=media_type, headers={**OUTPUT_AUDIO.headers, **wire.NO_STORE}
    )


@router.get("/api/streams/{stream_id}/audio-stream", summary="Spoken commentary, raw PCM")
async def audio_stream(stream_id: str, service: ServiceDep) -> StreamingResponse:
    subscription = await service.speech(stream_id)
    return _audio(subscription, OUTPUT_AUDIO.media_type)


@router.get(
    "/api/streams/{stream_id}/audio-stream.wav", summary="Spoken commentary as streamed WAV"
)
async def audio_wav(stream_id: str, service: ServiceDep) -> StreamingResponse:
    subscription = await service.speech(stream_id)
    return _audio(wire.streaming_wav(subscription), wire.WAV_MEDIA_TYPE)


@router.post("/api/streams/{stream_id}/ask", summary="Ask about what is on screen (SSE answer)")
async def ask(stream_id: str, body: Question, service: ServiceDep) -> EventSourceResponse:
    await service.stream(stream_id)
    pieces = service.backend.ask(stream_id, body.question)
    return EventSourceResponse(wire.answer_messages(stream_id, pieces))


@router.get("/api/streams/{stream_id}/transcript", summary="Every line said, in media time")
async def transcript(
    stream_id: str, service: ServiceDep, format: TranscriptFormat = TranscriptFormat.JSON
) -> Response:
    lines = await service.backend.transcript(stream_id)
    if lines is None:
        raise ClientError(404, f"no stream {stream_id!r} and no transcript for it")
    if format is TranscriptFormat.VTT:
        return Response(to_webvtt(lines), media_type="text/vtt; charset=utf-8")
    if format is TranscriptFormat.SRT:
        return Response(to_srt(lines), media_type="application/x-subrip; charset=utf-8")
    return JSONResponse([asdict(line) for line in lines])


# --- the default stream's short forms -------------------------------------------------------
@router.get("/api/frame", summary="The default stream's newest frame")
async def default_frame(service: ServiceDep) -> Response:
    return await frame(service.settings.default_stream_id, service)


@router.get("/api/mjpeg", summary="The default stream's video")
async def default_mjpeg(service: ServiceDep) -> StreamingResponse:
    return await mjpeg(service.settings.default_stream_id, service)


@router.get("/api/events", summary="The default stream's commentary events")
async def default_events(request: Request, service: ServiceDep) -> EventSourceResponse:
    return await events(service.settings.default_stream_id, request, service)


@router.get("/api/audio-stream", summary="The default stream's spoken commentary")
async def default_audio(service: ServiceDep) -> StreamingResponse:
    return await audio_stream(service.settings.default_stream_id, service)


@router.get("/api/audio-stream.wav", summary="The default stream's spoken commentary as WAV")
async def default_audio_wav(service: ServiceDep) -> StreamingResponse:
    return await audio_wav(service.settings.default_stream_id, service)
