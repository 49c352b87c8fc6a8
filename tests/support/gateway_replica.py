"""GatewayReplica: what one StreamGateway replica holds, in process, for unit tests.

A real StreamRegistry and StreamShare over fake stages (:class:`FakeStage`) and scripted
session ports, on a ManualClock. Several replicas made over the same files (specs,
placements, transcripts) and the same clock stand for a gateway deployment of several
replicas, one of which can "die" simply by no longer renewing its leases.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from models.messages import VoiceInput
from serve_app.clock import ManualClock
from serve_app.messages import OpenResult, StreamResult, StreamState
from serve_app.routing.placement_table import PlacementTable
from serve_app.session.registry import StreamRegistry
from serve_app.session.stages import Stages
from serve_app.session.stream_session import StreamSession
from serve_app.session.stream_share import StreamShare
from serve_app.session.stream_specs import StreamSpecStore
from serve_app.settings import ServiceSettings, StreamSettings
from serve_app.transcripts.store import TranscriptStore
from tests.support.scripted_ports import ScriptedPorts

BACKEND = {"describer": "synthetic", "voice": "espeak"}


class FakeStage:
    """A stage in process: records what it is asked; refuses, or holds an open, when told."""

    def __init__(self) -> None:
        self.refuse = ""
        self.hold: asyncio.Event | None = None
        self.opened: list[tuple[str, str, StreamSettings, bool]] = []
        self.closed: list[str] = []
        self.on_close: Callable[[str], None] = lambda stream_id: None

    async def open_stream(
        self, stream_id: str, source: str, settings: StreamSettings, trusted: bool = False
    ) -> OpenResult:
        self.opened.append((stream_id, source, settings, trusted))
        if self.hold is not None:
            await self.hold.wait()
        return OpenResult(False, error=self.refuse) if self.refuse else OpenResult(True)

    async def close_stream(self, stream_id: str) -> None:
        self.on_close(stream_id)
        self.closed.append(stream_id)


class GatewayReplica:
    """A registry and its share over fake stages and scripted session ports."""

    def __init__(
        self,
        transcripts: Path,
        specs: StreamSpecStore,
        table: PlacementTable,
        replica: str = "r1",
        clock: ManualClock | None = None,
        **settings: Any,
    ) -> None:
        self.clock = clock or ManualClock()
        self.ports = ScriptedPorts(self.clock)
        self.ports.state = StreamState.STARTING
        self.ingest, self.commentator, self.vocoder = FakeStage(), FakeStage(), FakeStage()
        self.store = TranscriptStore(transcripts)
        self.specs = specs
        service_settings = ServiceSettings(**{"default_source": "", **settings})
        self.registry = StreamRegistry(
            service_settings,
            Stages(self.ingest, self.commentator, self.vocoder),
            self.ports,
            self.store,
            voice_input=VoiceInput.TEXT,
            describer_speaks=False,
            clock=self.clock,
            specs=specs,
        )
        self.share = StreamShare(
            self.registry,
            specs,
            table,
            replica,
            service_settings,
            self.store,
            BACKEND,
            clock=self.clock,
        )

    async def create(self, stream_id: str, source: str = "demo", **overrides: Any) -> StreamResult:
        return await self.share.create_stream(stream_id, source, overrides or None)

    def session(self, stream_id: str) -> StreamSession:
        session = self.registry.session(stream_id)
        assert session is not None, f"no session for {stream_id!r}"
        return session

    def ids(self) -> list[str]:
        return [stream["id"] for stream in self.registry.list_streams()]

    async def close(self) -> None:
        """No session task outlives its test."""
        await self.share.close()
        self.store.close()
