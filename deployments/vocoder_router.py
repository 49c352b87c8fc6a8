"""The Vocoder's request router: the pieces of an utterance stay on one replica.

Ray Serve builds one router per deployment handle (RequestRouterConfig; an alpha API in
2.60, docs.ray.io serve/advanced-guides/custom-request-router). The StreamGateway holds two
handles to the Vocoder (streamed synthesis, plain clean-up), so the pins are one table per
process and deployment, shared by its routers. The rule is
serve_app.routing.utterance_affinity. It builds on the plain RequestRouter, not on Serve's
FIFO power-of-two router: that one may hand a chosen replica to an older queued request.
"""

from __future__ import annotations

import logging
import random
from typing import Any, ClassVar

from ray.serve.request_router import PendingRequest, RequestRouter, RunningReplica

from models.voices.base import SpeechRequest
from serve_app.routing.utterance_affinity import UtteranceAffinity

log = logging.getLogger("ray.serve")


class UtteranceAffinityRouter(RequestRouter):
    _tables: ClassVar[dict[Any, UtteranceAffinity]] = {}

    def initialize_state(self, **kwargs: Any) -> None:
        log.info("%s: each utterance stays on one replica", self._deployment_id.name)

    @property
    def affinity(self) -> UtteranceAffinity:
        return self._tables.setdefault(self._deployment_id, UtteranceAffinity())

    async def choose_replicas(
        self,
        candidate_replicas: list[RunningReplica],
        pending_request: PendingRequest | None = None,
    ) -> list[list[RunningReplica]]:
        live = {replica.replica_id: replica for replica in candidate_replicas}
        if not live:
            return []
        method = pending_request.metadata.call_method if pending_request else ""
        args = pending_request.args if pending_request else []
        if method == "synthesize" and args and isinstance(args[0], SpeechRequest):
            # The only choice: a busy replica makes the piece wait, it never moves it.
            chosen = self.affinity.place(args[0].stream_id, args[0].utterance_id, live)
            return [[live[chosen]]]  # type: ignore[index]
        if method == "close_stream" and args:
            pinned = self.affinity.replica_for_stream(str(args[0]), live)
            self.affinity.stream_closed(str(args[0]))
            if pinned is not None:
                return [[live[pinned]]]  # type: ignore[index]
        # Anything else: two at random, the less loaded one wins (Serve's own default rule).
        return [random.sample(candidate_replicas, min(2, len(candidate_replicas)))]
