"""Ingress deployment: serves the HTTP API (serve_app/http) over the other deployments' handles.

All of the API lives in serve_app.http.api; this shell only turns handles into the
:class:`ServiceBackend` it asks for, and says what Ray raises when a client leaves.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ray import serve
from ray.exceptions import TaskCancelledError
from ray.serve.handle import DeploymentHandle, DeploymentResponseGenerator

from deployments.logs import send_to_serve_logs
from deployments.metrics import ServeMetrics
from serve_app.http.access import AccessPolicy
from serve_app.http.api import build_api
from serve_app.http.guards import ASGIApp
from serve_app.messages import DisplayFrame, StreamEvent, StreamResult
from serve_app.settings import ServiceSettings
from serve_app.transcripts.store import TranscriptLine


async def _released(response: DeploymentResponseGenerator) -> AsyncIterator[Any]:
    try:
        async for item in response:
            yield item
    finally:
        response.cancel()  # or the callee keeps the call, and its request slot, forever


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


class HandleBackend:
    """The API's ServiceBackend over the StreamGateway and FrameIngest handles."""

    def __init__(self, gateway: DeploymentHandle, ingest: DeploymentHandle) -> None:
        self._gateway = gateway
        self._ingest = ingest
        self._gateway_stream = gateway.options(stream=True)
        self._ingest_stream = ingest.options(stream=True)

    async def get_stream(self, stream_id: str) -> dict[str, Any] | None:
        return await self._gateway.get_stream.remote(stream_id)

    async def list_streams(self) -> list[dict[str, Any]]:
        return await self._gateway.list_streams.remote()

    async def create_stream(
        self, stream_id: str, source: str, overrides: dict[str, Any] | None
    ) -> StreamResult:
        return await self._gateway.create_stream.remote(stream_id, source, overrides)

    async def delete_stream(self, stream_id: str) -> bool:
        return await self._gateway.delete_stream.remote(stream_id)

    async def events_since(self, stream_id: str, after_seq: int) -> list[StreamEvent]:
        return await self._gateway.events_since.remote(stream_id, after_seq)

    def ask(self, stream_id: str, question: str) -> AsyncIterator[str]:
        # Called now, in the request's context: Serve cancels it if the client leaves.
        return _released(self._gateway_stream.ask.remote(stream_id, question))

    async def transcript(self, stream_id: str) -> list[TranscriptLine] | None:
        return await self._gateway.transcript.remote(stream_id)

    async def gateway_status(self) -> dict[str, Any]:
        return await self._gateway.status.remote()

    async def latest_frame(self, stream_id: str) -> DisplayFrame | None:
        return await self._ingest.latest_frame.remote(stream_id)

    async def ingest_status(self) -> dict[str, dict[str, object]]:
        return await self._ingest.status.remote()

    def deployment_health(self) -> tuple[dict[str, str], dict[str, int]]:
        return _deployments()

    def display_frames(self, stream_id: str) -> AsyncIterator[DisplayFrame]:
        return _released(self._ingest_stream.display_frames.remote(stream_id))

    def follow(self, stream_id: str, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        return _released(self._gateway_stream.follow.remote(stream_id, after_seq))


@serve.deployment
@serve.ingress()
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
        self._backend = HandleBackend(gateway, ingest)
        self._backend_info = backend_info
        self._access = access

    def __serve_build_asgi_app__(self) -> ASGIApp:
        """Serve calls this after the constructor: the app needs the settings and handles."""
        return build_api(
            self._settings,
            self._backend,
            self._backend_info,
            self._access,
            cancelled=(TaskCancelledError,),
            metrics=ServeMetrics(),
        )
