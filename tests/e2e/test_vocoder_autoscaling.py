"""The Vocoder scales apart from the model: up while several streams speak, down when idle.

Runs on the CPU: the 'synthetic' voice takes real time to speak, as a streaming GPU vocoder
would, so several speaking streams keep several speech requests in flight. The replica
count is Serve's own (serve.status(), reported by /api/status). While several replicas run,
every piece of an utterance must reach the replica that took its first piece (each answer
is two sentences, so two pieces); a replica logs any piece that did not, and only a replica
drained by a downscale may explain one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support.serve_process import ServeProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.own_service]

AUTOSCALING = {
    "min_replicas": 1,
    "max_replicas": 3,
    "target_ongoing_requests": 1,
    "upscale_delay_s": 2,
    "downscale_delay_s": 6,
    "look_back_period_s": 4,
}
SPEAK_ON_SCALED_S = 12.0


@pytest.fixture(scope="module")
def speaking_service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    workdir = tmp_path_factory.mktemp("autoscale")
    process = ServeProcess(
        workdir,
        free_port(),
        args={
            "backend": "synthetic",
            "voice": "synthetic",
            "synthetic_latency_mean_s": 0.3,
            "stream_delay_init_s": 0.5,
            "data_dir": str(workdir / "data"),
        },
        user_config={"inference_interval_s": 0.2, "tts_pause_after_s": 0.0},
        deployments={"Vocoder": {"autoscaling_config": AUTOSCALING}},
    )
    with process.running():
        yield process


def vocoder_replicas(client: httpx.Client) -> int:
    return client.get("/api/status").json()["replicas"].get("Vocoder", 0)


def wait_for(client: httpx.Client, predicate, seconds: float) -> list[int]:  # type: ignore[no-untyped-def]
    seen = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.append(vocoder_replicas(client))
        if predicate(seen[-1]):
            return seen
        time.sleep(1.0)
    pytest.fail(f"replica counts seen: {seen}")


def test_vocoder_scales_up_under_speech_and_down_when_idle(speaking_service: ServeProcess) -> None:
    with httpx.Client(base_url=speaking_service.base_url, timeout=30) as client:
        assert vocoder_replicas(client) == 1
        for i in range(3):
            created = client.post(
                "/api/streams", json={"source": "demo:bikes.mp4", "id": f"talk-{i}"}
            )
            assert created.status_code == 201, created.text
        up = wait_for(client, lambda n: n >= 2, 120)
        time.sleep(SPEAK_ON_SCALED_S)  # utterances now spread over the replicas
        for i in range(3):
            client.delete(f"/api/streams/talk-{i}")
        client.delete("/api/streams/demo")
        down = wait_for(client, lambda n: n == 1, 120)
        print(f"vocoder replicas while speaking: {up}; after: {down}")
    log = speaking_service.log_path.read_text(errors="replace")
    speakers = set(re.findall(r"ServeReplica:commentary:Vocoder pid=(\d+).*synthesize", log))
    assert len(speakers) >= 2, "speech ran on several replicas"
    # A downscale while streams speak drains a replica mid-utterance: its next piece can only
    # start anew elsewhere, and the router says so. Any other stray is a routing fault.
    stray_ids = re.findall(r"utterance (\S+): piece \d+ arrived without its start", log)
    drained_ids = set(re.findall(r"utterance (\S+): its replica \S+ left mid-utterance", log))
    unexplained = [u for u in stray_ids if u not in drained_ids]
    assert unexplained == [], f"pieces that left their utterance's live replica: {unexplained}"
