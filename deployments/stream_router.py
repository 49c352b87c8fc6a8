"""The request router of FrameIngest and StreamGateway: a stream's requests reach its replica.

Ray Serve builds one router per deployment handle, in every process that calls the
deployment (RequestRouterConfig; an alpha API in 2.60, docs.ray.io
serve/advanced-guides/custom-request-router). The rule is serve_app.routing.stream_affinity;
the replicas' claims are in the PlacementTable, read afresh on every request (one indexed
row), so every process routes a stream alike the moment its holder changes.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

from ray.serve.request_router import PendingRequest, RequestRouter, RunningReplica

from serve_app.routing.placement_table import PlacementTable
from serve_app.routing.stream_affinity import choose_replica

log = logging.getLogger("ray.serve")


class StreamAffinityRouter(RequestRouter):
    def initialize_state(self, placements: str = "", stream_methods: tuple[str, ...] = ()) -> None:
        # request_router_kwargs: the table's path, and the methods whose first argument is a
        # stream id (the rest, such as status, may go anywhere).
        self._table = PlacementTable(Path(placements))
        self._stream_methods = frozenset(stream_methods)
        log.info(
            "%s: each stream's requests go to the replica holding it", self._deployment_id.name
        )

    async def choose_replicas(
        self,
        candidate_replicas: list[RunningReplica],
        pending_request: PendingRequest | None = None,
    ) -> list[list[RunningReplica]]:
        if not candidate_replicas:
            return []
        if pending_request is not None:
            # A request waiting for its stream's busy replica backs off rather than spins.
            pending_request.routing_context.should_backoff = True
            stream_id = _stream_of(pending_request, self._stream_methods)
            if stream_id is not None:
                return [[self._replica_for(stream_id, candidate_replicas)]]
        return [random.sample(candidate_replicas, min(2, len(candidate_replicas)))]

    def _replica_for(self, stream_id: str, candidates: list[RunningReplica]) -> RunningReplica:
        live = {replica.replica_id.unique_id: replica for replica in candidates}
        name = self._deployment_id.name
        placed = self._table.holder(name, stream_id)
        if placed is not None and placed.replica in live:
            return live[placed.replica]
        return live[choose_replica(stream_id, None, live, self._table.holders(name))]


def _stream_of(request: PendingRequest, stream_methods: frozenset[str]) -> str | None:
    args: tuple[Any, ...] = tuple(request.args)
    if request.metadata.call_method in stream_methods and args and isinstance(args[0], str):
        return args[0]
    return None
