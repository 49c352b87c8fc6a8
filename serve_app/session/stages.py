"""The stages a stream is opened on and closed on, as small protocols.

FrameIngest opens a stream's source; FrameIngest, the Commentator and the Vocoder each hold
something per stream (a capture, a conversation, an utterance ledger) that they drop when the
stream is deleted. The gateway deployment implements these over Ray Serve handles; tests
implement them with in-process fakes, so a :class:`StreamRegistry` runs the same in both.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from serve_app.messages import OpenResult
from serve_app.settings import StreamSettings


class StreamStage(Protocol):
    async def close_stream(self, stream_id: str) -> None:
        """Drop whatever the stage holds for the stream; a stream it never saw is no error."""
        ...


class IngestStage(StreamStage, Protocol):
    async def open_stream(
        self, stream_id: str, source: str, settings: StreamSettings, trusted: bool = False
    ) -> OpenResult:
        """Open and probe ``source``; a source it refuses is a result with the reason.

        ``trusted``: the operator's own source (config), not a client's.
        """
        ...


@dataclass(frozen=True, slots=True)
class Stages:
    """Every stage a stream lives on: the one that opens it and the ones that close it."""

    ingest: IngestStage
    commentator: StreamStage
    vocoder: StreamStage
