"""FrameIngest deployment: each stream's capture loop, served by an IngestRegistry and, among
several replicas, a CaptureShare."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from ray import serve

from deployments.logs import send_to_serve_logs
from serve_app.ingest.capture_share import CaptureShare
from serve_app.ingest.registry import IngestRegistry
from serve_app.messages import DisplayFrame, IngestSnapshot, OpenResult
from serve_app.routing.placement_table import PlacementTable
from serve_app.settings import ServiceSettings, StreamSettings


@serve.deployment
class FrameIngest:
    async def __init__(self, settings: ServiceSettings) -> None:
        send_to_serve_logs(settings.log_level)
        self._registry = IngestRegistry(settings)
        self._share = CaptureShare(
            self._registry,
            PlacementTable(Path(settings.data_dir) / "placements.sqlite"),
            serve.get_replica_context().replica_id.unique_id,
        )
        self._placements = asyncio.get_running_loop().create_task(self._share.run())

    async def open_stream(
        self, stream_id: str, source: str, settings: StreamSettings, trusted: bool = False
    ) -> OpenResult:
        """Open and probe a source. ``trusted``: the operator's own (config), not a client's."""
        return await self._share.open_stream(stream_id, source, settings, trusted)

    async def close_stream(self, stream_id: str) -> None:
        await self._share.close_stream(stream_id)

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        return self._registry.take_batch(stream_id, repeat_ok)

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        self._registry.set_display_delay(stream_id, delay_s)

    async def latest_frame(self, stream_id: str) -> DisplayFrame | None:
        return self._registry.latest_frame(stream_id)

    async def display_frames(self, stream_id: str) -> AsyncIterator[DisplayFrame]:
        """Frames as they are due on screen, paced, until the stream is closed."""
        async for frame in self._share.display_frames(stream_id):
            yield frame

    async def status(self) -> dict[str, dict[str, object]]:
        return self._share.status()

    async def __del__(self) -> None:
        """Serve's graceful shutdown: captures stop, and their streams reopen elsewhere."""
        self._placements.cancel()
        await self._share.close()
