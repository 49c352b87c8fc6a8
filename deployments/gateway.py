"""StreamGateway deployment: one StreamSession per stream, wired to the other deployments."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError
from ray import serve
from ray.serve.handle import DeploymentHandle

from deployments.logs import send_to_serve_logs
from models.messages import DescribeRequest, DescriberOutput, SpeechRequest, VoiceInput
from serve_app.messages import IngestSnapshot, StreamEvent, StreamResult
from serve_app.session.stream_session import StreamSession
from serve_app.settings import (
    LIVE_STREAM_SETTINGS,
    ServiceSettings,
    StreamSettings,
    describe_validation_error,
)
from serve_app.transcripts.recorder import record_transcript
from serve_app.transcripts.store import TranscriptLine, TranscriptStore

log = logging.getLogger("ray.serve")


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
        async for output in self._commentator.describe.remote(request):
            yield output

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        async for chunk in self._vocoder.synthesize.remote(request):
            yield chunk

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        await self._ingest.set_display_delay.remote(stream_id, delay_s)


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
        self._settings = settings
        self._defaults = settings.stream_defaults()
        self._ingest = ingest
        self._commentator = commentator
        self._vocoder = vocoder
        self._ports = HandlePorts(ingest, commentator, vocoder)
        self._backend_info = backend_info
        self._voice_input = VoiceInput(backend_info["voice_input"])
        self._describer_speaks = bool(backend_info["describer_speaks"])
        self._sessions: dict[str, StreamSession] = {}
        self._sources: dict[str, str] = {}
        self._recorders: dict[str, asyncio.Task[None]] = {}
        self._opening: set[str] = set()  # ids being probed: no duplicate, counted in limits
        self._transcripts = TranscriptStore(Path(settings.data_dir) / "transcripts.sqlite")
        log.info("transcripts in %s", self._transcripts.path)
        self._boot: asyncio.Task[None] | None = None
        if settings.default_source:
            # In the background: the other deployments may still be starting.
            self._boot = asyncio.get_running_loop().create_task(self._start_default())

    async def _start_default(self) -> None:
        result = await self.create_stream(
            self._settings.default_stream_id, self._settings.default_source, None, trusted=True
        )
        if not result.ok:
            log.error("default stream did not start: %s", result.error)

    async def reconfigure(self, config: dict[str, Any]) -> None:
        """Ray Serve user_config: live settings for every stream, without a restart."""
        self._defaults = self._settings.stream_defaults().with_live_changes(config)
        for session in self._sessions.values():
            session.apply_settings(session.settings.with_live_changes(config))
        log.info("live settings applied: %s", config)

    async def create_stream(
        self,
        stream_id: str,
        source: str,
        overrides: dict[str, Any] | None,
        trusted: bool = False,
    ) -> StreamResult:
        if stream_id in self._sessions or stream_id in self._opening:
            return StreamResult(False, status_code=409, error=f"stream {stream_id!r} exists")
        if len(self._sessions) + len(self._opening) >= self._settings.max_streams:
            return StreamResult(
                False,
                status_code=429,
                error=f"the service runs its limit of {self._settings.max_streams} streams "
                "(MAX_STREAMS); delete one first",
            )
        self._opening.add(stream_id)
        try:
            return await self._open(stream_id, source, overrides, trusted)
        finally:
            self._opening.discard(stream_id)

    async def _open(
        self, stream_id: str, source: str, overrides: dict[str, Any] | None, trusted: bool
    ) -> StreamResult:
        try:
            settings: StreamSettings = self._defaults.with_overrides(overrides)
        except ValidationError as error:
            return StreamResult(
                False, status_code=422, error=describe_validation_error(error, "settings")
            )
        opened = await self._ingest.open_stream.remote(stream_id, source, settings, trusted)
        if not opened.ok:
            return StreamResult(False, status_code=422, error=opened.error)
        session = StreamSession(
            stream_id, settings, self._ports, self._voice_input, self._describer_speaks
        )
        await self._ingest.set_display_delay.remote(stream_id, session.delay.target_delay_s)
        session.start()
        self._sessions[stream_id] = session
        self._recorders[stream_id] = asyncio.create_task(
            record_transcript(stream_id, session.events, self._transcripts)
        )
        self._sources[stream_id] = source
        log.info("stream %s: started from %s", stream_id, source)
        return StreamResult(True, info=self._describe(stream_id), status_code=201)

    async def delete_stream(self, stream_id: str) -> bool:
        session = self._sessions.pop(stream_id, None)
        if session is None:
            return False
        self._sources.pop(stream_id, None)
        started = time.monotonic()
        await session.stop()  # releases what was held, then closes the event log
        recorder = self._recorders.pop(stream_id, None)
        if recorder is not None:
            await recorder  # ends once it has stored everything the log held
        stopped = time.monotonic()
        # The three stages forget the stream independently: no need to wait in turn.
        await asyncio.gather(
            self._ingest.close_stream.remote(stream_id),
            self._commentator.close_stream.remote(stream_id),
            self._vocoder.close_stream.remote(stream_id),
        )
        log.info(
            "stream %s: deleted in %.2f s (session %.2f s, stages %.2f s)",
            stream_id,
            time.monotonic() - started,
            stopped - started,
            time.monotonic() - stopped,
        )
        return True

    async def ask(self, stream_id: str, question: str) -> AsyncIterator[str]:
        """The answer to a question about the stream's current window, as it streams."""
        session = self._sessions.get(stream_id)
        if session is None:
            return
        async for piece in session.ask(question):
            yield piece

    async def transcript(self, stream_id: str) -> list[TranscriptLine] | None:
        lines = await asyncio.to_thread(self._transcripts.lines, stream_id)
        if not lines and stream_id not in self._sessions:
            return None
        return lines

    def _describe(self, stream_id: str) -> dict[str, Any]:
        session = self._sessions[stream_id]
        return {"id": stream_id, "source": self._sources[stream_id], **session.status()}

    async def get_stream(self, stream_id: str) -> dict[str, Any] | None:
        return self._describe(stream_id) if stream_id in self._sessions else None

    async def list_streams(self) -> list[dict[str, Any]]:
        return [self._describe(stream_id) for stream_id in self._sessions]

    async def follow(self, stream_id: str, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        """The stream's released events from after ``after_seq`` on, until it is deleted."""
        session = self._sessions.get(stream_id)
        if session is None:
            return
        async for event in session.events.follow(after_seq):
            yield event

    async def events_since(self, stream_id: str, after_seq: int) -> list[StreamEvent]:
        """The stream's logged events after ``after_seq`` (what a reconnecting client missed)."""
        session = self._sessions.get(stream_id)
        return session.events.since(after_seq) if session is not None else []

    async def status(self) -> dict[str, Any]:
        return {
            "backend": self._backend_info,
            "streams": await self.list_streams(),
            "live_settings": sorted(LIVE_STREAM_SETTINGS),
        }
