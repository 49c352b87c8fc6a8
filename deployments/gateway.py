"""StreamGateway deployment: the service's streams, served by a StreamShare.

All of the stream logic lives in serve_app.session (the registry of this replica's streams,
and its share among several replicas); this shell only turns the other deployments' handles
into the stages and session ports the registry asks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.handle_ports import HandlePorts, HandleStage
from deployments.logs import send_to_serve_logs
from deployments.metrics import ServeMetrics
from models.messages import VoiceInput
from serve_app.messages import StreamEvent, StreamResult
from serve_app.routing.placement_table import PlacementTable
from serve_app.session.registry import StreamRegistry
from serve_app.session.stages import Stages
from serve_app.session.stream_share import StreamShare
from serve_app.session.stream_specs import StreamSpecStore
from serve_app.settings import ServiceSettings
from serve_app.transcripts.store import TranscriptLine, TranscriptStore


@serve.deployment
class StreamGateway:
    async def __init__(
        self,
        settings: ServiceSettings,
        ingest: DeploymentHandle,
        commentator: DeploymentHandle,
        vocoder: DeploymentHandle,
        backend_info: dict[str, Any],
    ) -> None:
        send_to_serve_logs(settings.log_level)
        data = Path(settings.data_dir)
        transcripts = TranscriptStore(data / "transcripts.sqlite")
        specs = StreamSpecStore(data / "streams.sqlite")
        registry = StreamRegistry(
            settings,
            Stages(HandleStage(ingest), HandleStage(commentator), HandleStage(vocoder)),
            HandlePorts(ingest, commentator, vocoder),
            transcripts,
            voice_input=VoiceInput(backend_info["voice_input"]),
            describer_speaks=bool(backend_info["describer_speaks"]),
            specs=specs,
            metrics=ServeMetrics(),
        )
        table = PlacementTable(data / "placements.sqlite")
        replica = serve.get_replica_context().replica_id.unique_id
        self._registry = StreamShare(
            registry, specs, table, replica, settings, transcripts, backend_info
        )
        # In the background (the other deployments may still be starting): take over the
        # streams that need a replica, start the default stream, then keep the leases.
        self._leases = asyncio.get_running_loop().create_task(self._registry.run())

    async def __del__(self) -> None:
        """Serve's graceful shutdown: the other replicas take this one's streams at once."""
        self._leases.cancel()
        await self._registry.close()

    async def reconfigure(self, config: dict[str, Any]) -> None:
        """Ray Serve user_config: live settings for every stream, without a restart."""
        self._registry.reconfigure(config)

    async def create_stream(
        self, stream_id: str, source: str, overrides: dict[str, Any] | None, trusted: bool = False
    ) -> StreamResult:
        return await self._registry.create_stream(stream_id, source, overrides, trusted)

    async def delete_stream(self, stream_id: str) -> bool:
        return await self._registry.delete_stream(stream_id)

    async def ask(self, stream_id: str, question: str) -> AsyncIterator[str]:
        async for piece in self._registry.ask(stream_id, question):
            yield piece

    async def transcript(self, stream_id: str) -> list[TranscriptLine] | None:
        return await self._registry.transcript(stream_id)

    async def get_stream(self, stream_id: str) -> dict[str, Any] | None:
        return self._registry.get_stream(stream_id)

    async def list_streams(self) -> list[dict[str, Any]]:
        return self._registry.list_streams()

    async def follow(self, stream_id: str, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        async for event in self._registry.follow(stream_id, after_seq):
            yield event

    async def events_since(self, stream_id: str, after_seq: int) -> list[StreamEvent]:
        return await self._registry.events_since(stream_id, after_seq)

    async def status(self) -> dict[str, Any]:
        return self._registry.status()
