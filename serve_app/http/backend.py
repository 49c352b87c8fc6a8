"""ServiceBackend: what the HTTP API asks of the rest of the service.

The Ingress deployment implements it over Ray Serve handles (the gateway and FrameIngest);
tests implement it with plain objects. The API never sees a handle, so it runs, and is
tested, without Ray.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Protocol

from serve_app.http.stream_hub import StreamFeeds
from serve_app.messages import DisplayFrame, StreamEvent, StreamResult
from serve_app.transcripts.store import TranscriptLine


class ServiceBackend(StreamFeeds, Protocol):
    """The streams (the gateway's side), their frames (FrameIngest's) and the deployments.

    It is also the :class:`StreamFeeds` the API's stream hubs read video and events from.
    """

    async def get_stream(self, stream_id: str) -> dict[str, Any] | None:
        """The stream's description, or None when there is no such stream."""
        ...

    async def list_streams(self) -> list[dict[str, Any]]: ...

    async def create_stream(
        self, stream_id: str, source: str, overrides: dict[str, Any] | None
    ) -> StreamResult:
        """The new stream, or why not (409 exists, 422 bad source or settings, 429 full)."""
        ...

    async def delete_stream(self, stream_id: str) -> bool:
        """True once the stream is stopped and forgotten; False when there was none."""
        ...

    async def events_since(self, stream_id: str, after_seq: int) -> list[StreamEvent]:
        """The logged events after ``after_seq``: what a reconnecting client missed."""
        ...

    def ask(self, stream_id: str, question: str) -> AsyncIterator[str]:
        """The answer's pieces as the model streams them; raises if the model fails.

        Closing the iterator early (the client left) releases the call upstream.
        """
        ...

    async def transcript(self, stream_id: str) -> list[TranscriptLine] | None:
        """Every line said, or None for a stream that neither exists nor left a transcript."""
        ...

    async def gateway_status(self) -> dict[str, Any]:
        """The gateway's view: ``streams`` (each as :meth:`get_stream` describes it) and more."""
        ...

    async def latest_frame(self, stream_id: str) -> DisplayFrame | None:
        """The newest decoded frame, without display delay; None before the first."""
        ...

    async def ingest_status(self) -> dict[str, dict[str, object]]:
        """FrameIngest's state of each stream, by stream id."""
        ...

    def deployment_health(self) -> tuple[dict[str, str], dict[str, int]]:
        """Each deployment's health and its number of running replicas."""
        ...
