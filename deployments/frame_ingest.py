"""FrameIngest deployment: each stream's capture loop, served by an IngestRegistry."""

from __future__ import annotations

from collections.abc import AsyncIterator

from ray import serve

from deployments.logs import send_to_serve_logs
from serve_app.ingest.registry import IngestRegistry
from serve_app.messages import DisplayFrame, IngestSnapshot, OpenResult
from serve_app.settings import ServiceSettings, StreamSettings


@serve.deployment
class FrameIngest:
    def __init__(self, settings: ServiceSettings) -> None:
        send_to_serve_logs(settings.log_level)
        self._registry = IngestRegistry(settings)

    async def open_stream(
        self, stream_id: str, source: str, settings: StreamSettings, trusted: bool = False
    ) -> OpenResult:
        """Open and probe a source. ``trusted``: the operator's own (config), not a client's."""
        return await self._registry.open_stream(stream_id, source, settings, trusted)

    async def close_stream(self, stream_id: str) -> None:
        await self._registry.close_stream(stream_id)

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        return self._registry.take_batch(stream_id, repeat_ok)

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        self._registry.set_display_delay(stream_id, delay_s)

    async def latest_frame(self, stream_id: str) -> DisplayFrame | None:
        return self._registry.latest_frame(stream_id)

    async def display_frames(self, stream_id: str) -> AsyncIterator[DisplayFrame]:
        """Frames as they are due on screen, paced, until the stream is closed."""
        async for frame in self._registry.display_frames(stream_id):
            yield frame

    async def status(self) -> dict[str, dict[str, object]]:
        return self._registry.status()

    def __del__(self) -> None:
        self._registry.close_all()
