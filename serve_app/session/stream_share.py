"""StreamShare: one gateway replica's share of the service's streams; what StreamGateway serves.

When StreamGateway runs several replicas, each stream is run by the one holding its lease
in the PlacementTable, and the request routers send the stream's requests there. A replica
renews its leases every RENEW_S; when one stops renewing (it died, or is scaled down and
released them) the others take its streams over, each up to a fair share, and resume them
from their stored specs. A request that reaches a replica for a stream with no live holder
takes it over at once, so a watched stream comes back as soon as its clients ask.
A stream another replica holds is answered with StreamMoving (ask again shortly), never
as missing.

Any replica lists every stream: its own as they are, the others' from the snapshots their
holders store with each renewal, and stored streams nobody runs yet as reconnecting.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncIterator, Mapping
from typing import Any

from serve_app.clock import Clock, SystemClock
from serve_app.detached import detached
from serve_app.messages import StreamEvent, StreamMoving, StreamResult
from serve_app.routing.placement_table import RENEW_S, Placement, PlacementTable
from serve_app.session.registry import StreamRegistry
from serve_app.session.stream_specs import StreamSpec, StreamSpecStore
from serve_app.settings import LIVE_STREAM_SETTINGS, ServiceSettings
from serve_app.transcripts.store import TranscriptLine, TranscriptStore

log = logging.getLogger(__name__)

DEPLOYMENT = "StreamGateway"  # the deployment whose placements these are


class StreamShare:
    """The streams one replica runs, among every stream of the service.

    Table calls are synchronous on purpose: each is one small local SQLite statement, and
    a claim and the resume it starts must not be interleaved with another request's.
    """

    def __init__(
        self,
        registry: StreamRegistry,
        specs: StreamSpecStore,
        table: PlacementTable,
        replica: str,
        settings: ServiceSettings,
        transcripts: TranscriptStore,
        backend_info: Mapping[str, Any] | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.registry = registry
        self._specs = specs
        self._table = table
        self._replica = replica
        self._settings = settings
        self._transcripts = transcripts
        self._backend_info = dict(backend_info or {})
        self._clock = clock or SystemClock()
        self._tasks: set[asyncio.Task[None]] = set()  # take-overs under way

    # --- leases -------------------------------------------------------------------------------
    async def run(self) -> None:
        """For the replica's life: take over what needs a replica, start the default stream,
        then keep the leases renewed."""
        await self.keep()
        await self.start_default_stream()
        while True:
            await self._clock.sleep(RENEW_S)
            try:
                await self.keep()
            except Exception:  # a locked or unreachable file: the next round tries again
                log.exception("stream leases: renewal failed")

    async def keep(self) -> None:
        """Renew this replica's leases, let go of streams another replica took over, and take
        over streams whose replica went away, up to this replica's fair share."""
        now = self._clock.now()
        running = self.registry.held_ids()
        snapshots = {
            i: {**info, "replica": self._replica}
            for i in running
            if (info := self.registry.get_stream(i))  # not get_stream: no table read per stream
        }
        held = self._table.renew(DEPLOYMENT, self._replica, now, snapshots)
        for stream_id in running - held:
            log.warning("stream %s: another replica took it over (this one was late)", stream_id)
            await self.registry.let_go(stream_id)
        await self._take_over(self._orphans(now, held))

    def _orphans(self, now: float, held: set[str]) -> list[StreamSpec]:
        placements = self._table.placements(DEPLOYMENT)
        stored = [spec for spec in self._specs.all() if not self._superseded(spec)]
        orphans = [
            spec
            for spec in stored
            if spec.stream_id not in held
            and ((p := placements.get(spec.stream_id)) is None or not p.live(now))
        ]
        replicas = {p.replica for p in placements.values() if p.live(now)} | {self._replica}
        room = math.ceil(len(stored) / len(replicas)) - len(held)
        return orphans[: max(0, room)]

    async def _take_over(self, specs: list[StreamSpec]) -> None:
        now = self._clock.now()
        claimed = [
            spec
            for spec in specs
            if spec.stream_id not in self.registry.held_ids()
            and self._table.claim(DEPLOYMENT, spec.stream_id, self._replica, now)
        ]
        if claimed:
            # In the background, so renewals go on while sources open; marked as coming back
            # now, so a request for one meanwhile waits for it instead of resuming it again.
            self.registry.expect(claimed)
            task = detached(self.registry.resume(claimed), name="take-over")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _reach(self, stream_id: str) -> bool:
        """True when the stream runs here (taken over now if its replica went away); False
        when there is no such stream. StreamMoving when another replica holds it."""
        if stream_id in self.registry.held_ids():
            await self.registry.settled(stream_id)
            return True
        spec = self._specs.get(stream_id)
        if spec is None:
            return False
        if not self._table.claim(DEPLOYMENT, stream_id, self._replica, self._clock.now()):
            raise StreamMoving(f"stream {stream_id!r} is run by another replica; ask again")
        await self.registry.resume([spec])
        return True

    def _superseded(self, spec: StreamSpec) -> bool:
        """The stored default stream, when the operator has since changed its source."""
        return (
            spec.trusted
            and spec.stream_id == self._settings.default_stream_id
            and spec.source != self._settings.default_source
        )

    async def close(self) -> None:
        """The replica is going away: stop its streams (all they said is stored), then let
        the others take them over at once."""
        await asyncio.gather(*self._tasks, return_exceptions=True)  # take-overs under way
        for stream_id in self.registry.held_ids():
            await self.registry.let_go(stream_id)
        self._table.release_all(DEPLOYMENT, self._replica)

    # --- the API ------------------------------------------------------------------------------
    async def start_default_stream(self) -> StreamResult | None:
        """The operator's ``default_source`` as ``default_stream_id``, unless already stored."""
        stream_id, source = self._settings.default_stream_id, self._settings.default_source
        stored = self._specs.get(stream_id)
        if not source or (stored is not None and not self._superseded(stored)):
            return None
        result = await self._create(stream_id, source, None, trusted=True)
        if result.status_code == 409:
            log.info("default stream: %s", result.error)  # another replica started it
        elif not result.ok:
            log.error("default stream did not start: %s", result.error)
        return result

    async def create_stream(
        self, stream_id: str, source: str, overrides: dict[str, Any] | None, trusted: bool = False
    ) -> StreamResult:
        existing = self.get_stream(stream_id)
        if existing is not None:
            state = existing.get("source_state")
            coming = " (it is reconnecting)" if state == "reconnecting" else ""
            return StreamResult(
                False, status_code=409, error=f"stream {stream_id!r} exists{coming}"
            )
        return await self._create(stream_id, source, overrides, trusted)

    async def _create(
        self, stream_id: str, source: str, overrides: dict[str, Any] | None, trusted: bool
    ) -> StreamResult:
        if len(self._specs.all()) >= self._settings.max_streams:
            return StreamResult.at_limit(self._settings.max_streams)
        if not self._table.claim(DEPLOYMENT, stream_id, self._replica, self._clock.now()):
            return StreamResult(False, status_code=409, error=f"stream {stream_id!r} exists")
        result = await self.registry.create_stream(stream_id, source, overrides, trusted)
        if not result.ok and stream_id not in self.registry.held_ids():
            self._table.release(DEPLOYMENT, stream_id, self._replica)
        return result

    async def delete_stream(self, stream_id: str) -> bool:
        if not await self._reach(stream_id):
            return False
        if not await self.registry.delete_stream(stream_id):
            await self.registry.delete_stored(stream_id)  # stored, but it could not resume
        self._table.release(DEPLOYMENT, stream_id, self._replica)
        return True

    async def ask(self, stream_id: str, question: str) -> AsyncIterator[str]:
        if await self._reach(stream_id):
            async for piece in self.registry.ask(stream_id, question):
                yield piece

    async def follow(self, stream_id: str, after_seq: int | None) -> AsyncIterator[StreamEvent]:
        if await self._reach(stream_id):
            async for event in self.registry.follow(stream_id, after_seq):
                yield event

    async def events_since(self, stream_id: str, after_seq: int) -> list[StreamEvent]:
        if not await self._reach(stream_id):
            return []
        return self.registry.events_since(stream_id, after_seq)

    def reconfigure(self, config: dict[str, Any]) -> None:
        self.registry.reconfigure(config)

    async def transcript(self, stream_id: str) -> list[TranscriptLine] | None:
        """Every line said on the stream, also once it is deleted; None: no such stream."""
        lines = await asyncio.to_thread(self._transcripts.lines, stream_id)  # SQLite off-loop
        if lines or stream_id in self.registry.held_ids() or self._specs.get(stream_id):
            return lines
        return None

    def get_stream(self, stream_id: str) -> dict[str, Any] | None:
        info = self.registry.get_stream(stream_id)
        if info is not None:
            return {**info, "replica": self._replica}
        spec = self._specs.get(stream_id)
        return None if spec is None else self._elsewhere(spec, self._table.placements(DEPLOYMENT))

    def list_streams(self) -> list[dict[str, Any]]:
        """Every stream of the service, whichever replica runs it."""
        here = {s["id"]: {**s, "replica": self._replica} for s in self.registry.list_streams()}
        placements = self._table.placements(DEPLOYMENT)
        stored = [spec for spec in self._specs.all() if spec.stream_id not in here]
        return [*here.values(), *(self._elsewhere(spec, placements) for spec in stored)]

    def _elsewhere(self, spec: StreamSpec, placements: Mapping[str, Placement]) -> dict[str, Any]:
        """A stream this replica does not run: as its holder last described it, or
        reconnecting while nobody runs it."""
        placed = placements.get(spec.stream_id)
        if placed is not None and placed.live(self._clock.now()) and placed.snapshot:
            return placed.snapshot
        return self.registry.describe_stored(spec)

    def status(self) -> dict[str, Any]:
        return {
            "backend": self._backend_info,
            "streams": self.list_streams(),
            "live_settings": sorted(LIVE_STREAM_SETTINGS),
        }
