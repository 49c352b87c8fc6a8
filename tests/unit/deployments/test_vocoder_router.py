"""UtteranceAffinityRouter, the Ray shell, driven directly by Serve's own routing loop.

Replicas are stand-ins with the two attributes the router reads (``replica_id``,
``max_ongoing_requests``); requests are Serve's own PendingRequest and RequestMetadata.
"""

from __future__ import annotations

import itertools
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from ray.serve._private.common import DeploymentHandleSource, DeploymentID, RequestMetadata
from ray.serve.config import RequestRouterConfig
from ray.serve.request_router import PendingRequest

from deployments.vocoder_router import UtteranceAffinityRouter
from models.messages import SpeechRequest


@dataclass
class Replica:
    replica_id: str
    max_ongoing_requests: int = 5


_apps = itertools.count()


def make_router(
    *replica_ids: str, app: str = "", cls: type[UtteranceAffinityRouter] = UtteranceAffinityRouter
) -> UtteranceAffinityRouter:
    router = cls(
        deployment_id=DeploymentID(name="Vocoder", app_name=app or f"app-{next(_apps)}"),
        handle_source=DeploymentHandleSource.REPLICA,
    )
    replicas = [Replica(r) for r in replica_ids]
    router._replicas = {r.replica_id: r for r in replicas}  # what update_replicas fills in
    router._replicas_list = replicas
    return router


def call(method: str, arg: object, n: int) -> PendingRequest:
    metadata = RequestMetadata(request_id=str(n), internal_request_id=str(n), call_method=method)
    return PendingRequest(args=[arg], kwargs={}, metadata=metadata)


async def choose(router: UtteranceAffinityRouter, request: PendingRequest) -> list[str]:
    ranks = await router.choose_replicas(router._replicas_list, request)
    return [r.replica_id for r in ranks[0]]


async def test_an_utterance_stays_on_one_replica_and_waits_with_backoff() -> None:
    router = make_router("a", "b", "c")
    pieces = [SpeechRequest("s", "s:1", text="x", piece=i, final=i == 2) for i in range(3)]
    chosen = set()
    for n, piece in enumerate(pieces):
        request = call("synthesize", piece, n)
        for _ in range(3):  # Serve asks again while the replica is busy
            chosen.update(await choose(router, request))
        # A busy pinned replica must make Serve sleep between tries, not spin.
        assert request.routing_context.should_backoff
    assert len(chosen) == 1


async def test_streams_spread_and_clean_up_follows_each_stream() -> None:
    router = make_router("a", "b")
    first = await choose(router, call("synthesize", SpeechRequest("s1", "s1:1", text="x"), 1))
    second = await choose(router, call("synthesize", SpeechRequest("s2", "s2:1", text="x"), 2))
    assert first != second
    assert await choose(router, call("close_stream", "s2", 3)) == second


async def test_other_calls_get_two_choices() -> None:
    router = make_router("a", "b", "c")
    assert len(await choose(router, call("info", None, 1))) == 2


RELOAD_TWICE = """
import asyncio, sys
from ray import cloudpickle
from ray.serve._private.common import DeploymentHandleSource, DeploymentID, RequestMetadata
from ray.serve.request_router import PendingRequest
from models.messages import SpeechRequest

class Replica:
    def __init__(self, rid):
        self.replica_id, self.max_ongoing_requests = rid, 5

pickled = open(sys.argv[1], "rb").read()  # made in another process, as Serve's controller does

def request(stream, n):
    meta = RequestMetadata(request_id=str(n), internal_request_id=str(n), call_method="synthesize")
    piece = SpeechRequest(stream, stream + ":1", text="x", piece=n)
    return PendingRequest(args=[piece], kwargs={}, metadata=meta)

async def choose(router, pending):
    replicas = [Replica("a"), Replica("b")]
    router._replicas = {r.replica_id: r for r in replicas}
    return (await router.choose_replicas(replicas, pending))[0][0].replica_id

def load_router():  # each config update loads the pickle again
    return cloudpickle.loads(pickled)(
        deployment_id=DeploymentID(name="Vocoder", app_name="x"),
        handle_source=DeploymentHandleSource.REPLICA,
    )

async def main():
    router = load_router()
    await choose(router, request("t", 0))  # "a"
    placed = await choose(router, request("s", 0))  # "b", the less loaded
    print(placed, await choose(load_router(), request("s", 1)))
asyncio.run(main())
"""


def test_the_pins_survive_serve_reloading_the_router_class(tmp_path: Path) -> None:
    # Serve pickles the router's module by value (ray/serve/config.py, RequestRouterConfig)
    # and loads it again on each config update; loading restores the class's attributes as
    # they were when pickled. A fresh interpreter, as the gateway's process has.
    pickled = tmp_path / "router.pkl"
    pickled.write_bytes(
        RequestRouterConfig(
            request_router_class="deployments.vocoder_router:UtteranceAffinityRouter"
        ).get_serialized_request_router_cls()
    )
    done = subprocess.run(
        [sys.executable, "-c", RELOAD_TWICE, str(pickled)],
        cwd=Path(__file__).resolve().parents[3],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    placed, again = done.stdout.split()
    assert placed == again
