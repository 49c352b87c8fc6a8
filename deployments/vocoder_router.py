"""The Vocoder's request router: the pieces of an utterance stay on one replica.

Ray Serve builds one router per deployment handle (RequestRouterConfig; an alpha API in
2.60, docs.ray.io serve/advanced-guides/custom-request-router). The rule and its table are
serve_app.routing.utterance_affinity. This builds on the plain RequestRouter, not on Serve's
FIFO power-of-two router: that one may hand a chosen replica to an older queued request.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from ray.serve.request_router import PendingRequest, RequestRouter, RunningReplica

from models.messages import SpeechRequest
from serve_app.routing.utterance_affinity import UtteranceAffinity, affinity_table

log = logging.getLogger("ray.serve")


class UtteranceAffinityRouter(RequestRouter):
    def initialize_state(self, **kwargs: Any) -> None:
        log.info("%s: each utterance stays on one replica", self._deployment_id.name)

    @property
    def affinity(self) -> UtteranceAffinity:
        return affinity_table(self._deployment_id)

    async def choose_replicas(
        self,
        candidate_replicas: list[RunningReplica],
        pending_request: PendingRequest | None = None,
    ) -> list[list[RunningReplica]]:
        live = {replica.replica_id: replica for replica in candidate_replicas}
        if not live:
            return []
        if pending_request is None:
            return [random.sample(candidate_replicas, min(2, len(candidate_replicas)))]
        # Serve sleeps between attempts only when asked to: a piece waiting for its busy
        # replica must back off, not spin on queue-length probes.
        pending_request.routing_context.should_backoff = True
        method, args = pending_request.metadata.call_method, pending_request.args
        if method == "synthesize" and args and isinstance(args[0], SpeechRequest):
            request = args[0]
            lost = self.affinity.lost_replica(request.stream_id, request.utterance_id, live)
            if lost is not None:
                log.warning(
                    "utterance %s: its replica %s left mid-utterance; piece %d starts anew",
                    request.utterance_id,
                    getattr(lost, "unique_id", lost),
                    request.piece,
                )
            chosen = self.affinity.place(
                request.stream_id, request.utterance_id, live, final=request.final
            )
            return [[live[chosen]]]  # type: ignore[index]
        if method == "close_stream" and args:
            pinned = self.affinity.replica_for_stream(str(args[0]), live)
            self.affinity.stream_closed(str(args[0]))
            if pinned is not None:
                return [[live[pinned]]]  # type: ignore[index]
        # Anything else: two at random, the less loaded one wins (Serve's own default rule).
        return [random.sample(candidate_replicas, min(2, len(candidate_replicas)))]
