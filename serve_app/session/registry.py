"""StreamRegistry: the service's streams by id, each a StreamSession; what StreamGateway serves.

Creating a stream validates its settings, has FrameIngest open the source, then starts the
session and a transcript recorder that follows its events. Deleting one stops the session
first and lets the recorder store everything the session said, and only then do the stages
forget the stream. Nothing here knows Ray: the gateway hands in the stages and the session
ports over its handles, tests hand in fakes.

Streams are durable: each one's spec is stored (:class:`StreamSpecStore`) and a replica
that takes a stored stream over resumes it (resumption.py; which replica runs which stream
is stream_share.py's business); a session whose capture FrameIngest lost has it reopened.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from pydantic import ValidationError

from models.messages import VoiceInput
from serve_app.clock import Clock, SystemClock
from serve_app.detached import detached
from serve_app.messages import StreamEvent, StreamMoving, StreamResult
from serve_app.session.ports import SessionPorts
from serve_app.session.resumption import Resumption, last_said, reconnecting
from serve_app.session.stages import Stages
from serve_app.session.stream_session import StreamSession
from serve_app.session.stream_specs import StreamSpec, StreamSpecStore
from serve_app.settings import ServiceSettings, StreamSettings, describe_validation_error
from serve_app.telemetry.sink import MetricsSink
from serve_app.transcripts.recorder import record_transcript
from serve_app.transcripts.store import TranscriptStore

log = logging.getLogger(__name__)


class StreamRegistry:
    """Creates, serves and deletes streams.

    ``voice_input`` and ``describer_speaks`` say how the chosen backends speak, for every
    session.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        stages: Stages,
        ports: SessionPorts,
        transcripts: TranscriptStore,
        *,
        voice_input: VoiceInput | None,
        describer_speaks: bool,
        clock: Clock | None = None,
        specs: StreamSpecStore | None = None,
        metrics: MetricsSink | None = None,
    ) -> None:
        self._settings = settings
        self._defaults = settings.stream_defaults()
        self._stages = stages
        self._ports = ports
        self._transcripts = transcripts
        log.info("transcripts in %s", transcripts.path)
        self._voice_input = voice_input
        self._describer_speaks = describer_speaks
        self._clock = clock or SystemClock()
        self._sessions: dict[str, StreamSession] = {}
        self._sources: dict[str, str] = {}
        self._recorders: dict[str, asyncio.Task[None]] = {}
        # Ids whose source is still being probed: no duplicate of one, and counted in the limit.
        self._opening: set[str] = set()
        self._specs = specs
        self._metrics = metrics
        self._resumption = Resumption()
        self._handed_over: set[str] = set()  # let go to another replica: followers reconnect

    def expect(self, specs: list[StreamSpec]) -> None:
        """These stored streams are about to be resumed: meanwhile their clients wait."""
        self._resumption.expect(specs)

    async def resume(self, specs: list[StreamSpec]) -> None:
        """Start these stored streams again, as they were (their replica went away)."""

        async def create(spec: StreamSpec) -> StreamResult:
            return await self._create(spec.stream_id, spec.source, spec.overrides, spec.trusted)

        await self._resumption.run(create, specs)

    def reconfigure(self, config: dict[str, Any]) -> None:
        """Live settings for every stream and every stream to come (Serve's user_config).

        Raises ValueError naming the offending field. Every copy is validated before any is
        applied, so a change one stream's overrides refuse changes no stream.
        """
        defaults = self._settings.stream_defaults().with_live_changes(config)
        changed = {
            stream_id: session.settings.with_live_changes(config)
            for stream_id, session in self._sessions.items()
        }
        self._defaults = defaults
        for stream_id, settings in changed.items():
            self._sessions[stream_id].apply_settings(settings)
        log.info("live settings applied: %s", config)

    async def create_stream(
        self,
        stream_id: str,
        source: str,
        overrides: dict[str, Any] | None,
        trusted: bool = False,
    ) -> StreamResult:
        if self._resumption.waiting(stream_id):
            return StreamResult(
                False, status_code=409, error=f"stream {stream_id!r} exists (it is reconnecting)"
            )
        return await self._create(stream_id, source, overrides, trusted)

    async def _create(
        self, stream_id: str, source: str, overrides: dict[str, Any] | None, trusted: bool
    ) -> StreamResult:
        if stream_id in self._sessions or stream_id in self._opening:
            return StreamResult(False, status_code=409, error=f"stream {stream_id!r} exists")
        waiting = sum(
            1 for i in self._resumption.waiting_ids() if i != stream_id and i not in self._opening
        )
        if len(self._sessions) + len(self._opening) + waiting >= self._settings.max_streams:
            return StreamResult.at_limit(self._settings.max_streams)
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
        opened = await self._stages.ingest.open_stream(stream_id, source, settings, trusted)
        if not opened.ok:
            return StreamResult(False, status_code=422, error=opened.error)
        spec = StreamSpec(stream_id, source, overrides, trusted)
        run = 1
        if self._specs is not None:
            run = await asyncio.to_thread(self._specs.start, spec)  # SQLite off the event loop

        async def reopen() -> bool:
            # FrameIngest lost the capture (its replica restarted): open it again, as it was.
            result = await self._stages.ingest.open_stream(stream_id, source, settings, trusted)
            return result.ok

        replay = await last_said(self._transcripts, stream_id, self._clock.now()) if run > 1 else []
        # The session gives FrameIngest its display delay itself as it starts.
        session = StreamSession(
            stream_id,
            settings,
            self._ports,
            self._voice_input,
            self._describer_speaks,
            clock=self._clock,
            reopen=reopen,
            run=run,
            replay=replay,
            metrics=self._metrics,
        )
        session.start()
        self._sessions[stream_id] = session
        self._handed_over.discard(stream_id)
        self._recorders[stream_id] = detached(
            record_transcript(
                stream_id,
                run,
                session.events,
                self._transcripts,
                after_seq=max((event.seq for event in replay), default=-1),
            ),
            name=f"transcript-{stream_id}",
        )
        self._sources[stream_id] = source
        log.info("stream %s: started from %s (run %d)", stream_id, source, run)
        return StreamResult(True, info=self._describe(stream_id), status_code=201)

    async def delete_stream(self, stream_id: str) -> bool:
        """Stop the stream and have every stage forget it; False when there is no such stream."""
        session = self._sessions.pop(stream_id, None)
        if session is None:
            return False
        started = self._clock.now()
        await self._unstore(stream_id)  # first: a replica dying now must not resume it
        await self._stop(stream_id, session)
        await self._close_stages(stream_id)
        log.info("stream %s: deleted in %.2f s", stream_id, self._clock.now() - started)
        return True

    async def delete_stored(self, stream_id: str) -> None:
        """Delete a stored stream no replica runs (its own went away)."""
        await self._unstore(stream_id)
        await self._close_stages(stream_id)

    async def let_go(self, stream_id: str) -> None:
        """Stop running the stream here but keep it: another replica runs it from now on."""
        session = self._sessions.pop(stream_id, None)
        if session is not None:
            self._handed_over.add(stream_id)
            await self._stop(stream_id, session)
            log.info("stream %s: now run by another replica", stream_id)

    async def _stop(self, stream_id: str, session: StreamSession) -> None:
        self._sources.pop(stream_id, None)
        await session.stop()  # releases what was held, then closes the event log
        recorder = self._recorders.pop(stream_id, None)
        if recorder is not None:
            await recorder  # ends once it has stored everything the log held

    async def _unstore(self, stream_id: str) -> None:
        if self._specs is not None:
            await asyncio.to_thread(self._specs.remove, stream_id)

    async def _close_stages(self, stream_id: str) -> None:
        # The three stages forget the stream independently: no need to wait in turn.
        await asyncio.gather(
            self._stages.ingest.close_stream(stream_id),
            self._stages.commentator.close_stream(stream_id),
            self._stages.vocoder.close_stream(stream_id),
        )

    async def ask(self, stream_id: str, question: str) -> AsyncIterator[str]:
        """The answer to a question about the stream's current window, as it streams."""
        session = self._sessions.get(stream_id)
        if session is None:
            if self._resumption.waiting(stream_id):
                raise StreamMoving(f"stream {stream_id!r} is reconnecting; ask again shortly")
            return
        async for piece in session.ask(question):
            yield piece

    def held_ids(self) -> set[str]:
        """Streams this registry runs, opens or is resuming."""
        return {*self._sessions, *self._opening, *self._resumption.waiting_ids()}

    async def settled(self, stream_id: str) -> None:
        """Until the stream, if it is being resumed, runs again (or was given up on)."""
        await self._resumption.wait(stream_id)

    def session(self, stream_id: str) -> StreamSession | None:
        """The stream's running session; None once it is deleted or if it never was."""
        return self._sessions.get(stream_id)

    def _describe(self, stream_id: str) -> dict[str, Any]:
        session = self._sessions[stream_id]
        return {"id": stream_id, "source": self._sources[stream_id], **session.status()}

    def describe_stored(self, spec: StreamSpec) -> dict[str, Any]:
        """A stored stream that does not run here (yet), as the API lists it."""
        try:
            tts = self._defaults.with_overrides(spec.overrides).enable_tts
        except ValidationError:
            tts = False
        return reconnecting(
            spec, speech=tts and (self._voice_input is not None or self._describer_speaks)
        )

    def get_stream(self, stream_id: str) -> dict[str, Any] | None:
        if stream_id in self._sessions:
            return self._describe(stream_id)
        spec = self._resumption.specs.get(stream_id)
        return self.describe_stored(spec) if spec is not None else None

    def list_streams(self) -> list[dict[str, Any]]:
        waiting = [s for i, s in self._resumption.specs.items() if i not in self._sessions]
        return [*map(self._describe, self._sessions), *map(self.describe_stored, waiting)]

    async def follow(self, stream_id: str, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        """The stream's released events from after ``after_seq`` on, until it is deleted.

        A stream still being resumed is waited for: its clients stay connected.
        """
        await self.settled(stream_id)
        session = self._sessions.get(stream_id)
        if session is None:
            return
        async for event in session.events.follow(after_seq):
            yield event
        if stream_id in self._handed_over:
            raise StreamMoving(f"stream {stream_id!r} moved to another replica; follow it again")

    def events_since(self, stream_id: str, after_seq: int) -> list[StreamEvent]:
        """The stream's logged events after ``after_seq`` (what a reconnecting client missed)."""
        session = self._sessions.get(stream_id)
        return session.events.since(after_seq) if session is not None else []
