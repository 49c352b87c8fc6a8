"""CaptureShare: one FrameIngest replica's share of the captures; what FrameIngest serves.

When FrameIngest runs several replicas, each stream is captured by one of them and the
request routers send the stream's calls there (the PlacementTable names it). The gateway
drives it: a stream whose replica died finds its capture lost, and opening it again lands on
a live replica, which then holds it. A replica that opens a stream always takes it, since
it is the newest capture; one that finds its stream taken (it was thought dead) stops its
capture, and its viewers follow the stream to its new replica.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from serve_app.clock import Clock, SystemClock
from serve_app.ingest.registry import IngestRegistry
from serve_app.messages import DisplayFrame, OpenResult
from serve_app.routing.placement_table import RENEW_S, PlacementTable
from serve_app.settings import StreamSettings

log = logging.getLogger(__name__)

DEPLOYMENT = "FrameIngest"  # the deployment whose placements these are


class CaptureShare:
    def __init__(
        self,
        registry: IngestRegistry,
        table: PlacementTable,
        replica: str,
        clock: Clock | None = None,
    ) -> None:
        self.registry = registry
        self._table = table
        self._replica = replica
        self._clock = clock or SystemClock()

    async def run(self) -> None:
        """For the replica's life: renew its placements and publish its captures' state."""
        while True:
            try:
                await self.keep()
            except Exception:  # a locked or unreachable file: the next round tries again
                log.exception("capture placements: renewal failed")
            await self._clock.sleep(RENEW_S)

    async def keep(self) -> None:
        status = self._own_status()
        held = self._table.renew(DEPLOYMENT, self._replica, self._clock.now(), status)
        for stream_id in self.registry.ids() - held:
            await self.registry.hand_over(stream_id)

    async def open_stream(
        self, stream_id: str, source: str, settings: StreamSettings, trusted: bool = False
    ) -> OpenResult:
        opened = await self.registry.open_stream(stream_id, source, settings, trusted)
        if opened.ok:
            self._table.claim(DEPLOYMENT, stream_id, self._replica, self._clock.now(), take=True)
        return opened

    async def close_stream(self, stream_id: str) -> None:
        await self.registry.close_stream(stream_id)
        self._table.release(DEPLOYMENT, stream_id, self._replica)

    def display_frames(self, stream_id: str) -> AsyncIterator[DisplayFrame]:
        return self.registry.display_frames(stream_id, lambda: self._elsewhere(stream_id))

    def _elsewhere(self, stream_id: str) -> bool:
        placed = self._table.holder(DEPLOYMENT, stream_id)
        return (
            placed is not None
            and placed.replica != self._replica
            and placed.live(self._clock.now())
        )

    def status(self) -> dict[str, dict[str, object]]:
        """Every capture of the service: this replica's as they are, the others' as their
        replicas last published them."""
        now = self._clock.now()
        others = {
            stream_id: placed.snapshot
            for stream_id, placed in self._table.placements(DEPLOYMENT).items()
            if placed.replica != self._replica and placed.live(now) and placed.snapshot
        }
        return {**others, **self._own_status()}

    def _own_status(self) -> dict[str, dict[str, object]]:
        return {
            i: {**state, "replica": self._replica} for i, state in self.registry.status().items()
        }

    async def close(self) -> None:
        """The replica is going away: its captures stop, and the gateways reopen them."""
        await asyncio.to_thread(self.registry.close_all)
        self._table.release_all(DEPLOYMENT, self._replica)
