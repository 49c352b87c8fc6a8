"""Service: one Ingress replica's API state (settings, backend, stream hubs), and the rules
for admitting a client: does the stream exist, is there room for another of its kind."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from starlette.exceptions import HTTPException

from serve_app.http.backend import ServiceBackend
from serve_app.http.broadcaster import Broadcaster, Subscription
from serve_app.http.stream_hub import StreamHubs
from serve_app.settings import ServiceSettings
from serve_app.telemetry.sink import MetricsSink


class ClientError(HTTPException):
    """A request the client can fix: answered with its status code and a plain message."""


class ClientKind(StrEnum):
    """The kinds of long-lived client, each with its own limit per stream (a setting)."""

    VIDEO = "video"
    EVENTS = "events"
    AUDIO = "audio"

    @property
    def setting(self) -> str:
        return f"max_{self.value}_clients"


class Service:
    """One replica's API state: settings, the backend, the page and the stream hubs."""

    def __init__(
        self,
        settings: ServiceSettings,
        backend: ServiceBackend,
        backend_info: dict[str, Any],
        page: str,
        metrics: MetricsSink | None = None,
    ) -> None:
        self.settings = settings
        self.backend = backend
        self.backend_info = backend_info
        self.page = page
        self.hubs = StreamHubs(backend, settings.client_queue_frames, metrics=metrics)

    async def stream(self, stream_id: str) -> dict[str, Any]:
        info = await self.backend.get_stream(stream_id)
        if info is None:
            raise ClientError(404, f"no stream {stream_id!r}; GET /api/streams lists them")
        return info

    def check_room(self, clients: Broadcaster[Any], kind: ClientKind) -> None:
        """429 when the stream has as many clients of this kind as its setting allows."""
        limit = getattr(self.settings, kind.setting)
        if len(clients) >= limit:
            raise ClientError(
                429,
                f"stream is at its limit of {limit} {kind.value} clients on this replica "
                f"({kind.setting.upper()})",
            )

    async def speech(self, stream_id: str) -> Subscription[bytes]:
        info = await self.stream(stream_id)
        if not info.get("speech"):
            raise ClientError(404, f"speech is off for stream {stream_id!r} (enable_tts)")
        hub = self.hubs.hub(stream_id)
        self.check_room(hub.audio.clients, ClientKind.AUDIO)
        return hub.audio.subscribe()
