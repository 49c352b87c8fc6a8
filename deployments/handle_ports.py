"""HandlePorts and HandleStage: a stream session's ports and stages over Ray Serve handles."""

from __future__ import annotations

from collections.abc import AsyncIterator

import numpy as np
from ray.serve.handle import DeploymentHandle

from models.messages import DescribeRequest, DescriberOutput, SpeechRequest
from serve_app.messages import IngestSnapshot, OpenResult
from serve_app.settings import StreamSettings


class HandlePorts:
    """SessionPorts over Ray Serve handles."""

    def __init__(
        self, ingest: DeploymentHandle, commentator: DeploymentHandle, vocoder: DeploymentHandle
    ) -> None:
        self._ingest = ingest
        self._commentator = commentator.options(stream=True)
        self._vocoder = vocoder.options(stream=True)

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        return await self._ingest.take_batch.remote(stream_id, repeat_ok)

    async def describe(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]:
        response = self._commentator.describe.remote(request)
        try:
            async for output in response:
                yield output
        finally:
            response.cancel()  # an abandoned call must not keep running, or hold its slot

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        response = self._vocoder.synthesize.remote(request)
        try:
            async for chunk in response:
                yield chunk
        finally:
            response.cancel()  # a call past its deadline must not keep the Vocoder busy

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        await self._ingest.set_display_delay.remote(stream_id, delay_s)


class HandleStage:
    """A stage over its handle: IngestStage for FrameIngest, StreamStage for the others."""

    def __init__(self, handle: DeploymentHandle) -> None:
        self._handle = handle

    async def open_stream(
        self, stream_id: str, source: str, settings: StreamSettings, trusted: bool = False
    ) -> OpenResult:
        return await self._handle.open_stream.remote(stream_id, source, settings, trusted)

    async def close_stream(self, stream_id: str) -> None:
        await self._handle.close_stream.remote(stream_id)
