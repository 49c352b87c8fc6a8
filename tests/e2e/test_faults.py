"""Faults are input too: replicas killed mid-stream with clients connected, a whole restart.

The real Serve graph on 127.0.0.1. Each deployment's replica process is killed with SIGKILL
by its own pid (benchmarks/faults.py, which also writes the measured figures); the stream
must be live again within RECOVERY_BOUND_S, with no line lost or duplicated and no 5xx seen
by a client.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from benchmarks.faults import ORDER, drill, wait_for
from benchmarks.scale_out_faults import EXTRA_STREAMS, scale_out_drill
from tests.support.serve_process import ServeProcess, free_port

pytestmark = [pytest.mark.e2e, pytest.mark.own_service]

# Measured on a 2-core host: 1–13 s (benchmarks/results/faults.json); a new replica's
# start-up is most of it. The bound leaves room for a loaded CI machine.
RECOVERY_BOUND_S = 90.0


def test_every_replica_can_die_mid_stream_and_the_stream_comes_back(tmp_path: Path) -> None:
    result = drill(ORDER, RECOVERY_BOUND_S, settle_s=5.0, workdir=tmp_path)
    for deployment, entry in result["deployments"].items():
        assert entry["recovered"], f"{deployment}: {entry}"
    assert result["lines_seen"] >= len(ORDER), "commentary went on between the faults"
    checked = next(iter(result["deployments"].values()))
    assert checked["lost_lines"] == 0 and checked["duplicated_lines"] == 0, result
    assert result["client_5xx"] == 0, result["client_statuses"]


def test_a_restarted_service_resumes_the_streams_it_had(tmp_path: Path) -> None:
    args = {"data_dir": str(tmp_path / "data")}
    first = ServeProcess(tmp_path, free_port(), args=args)
    with first.running():
        created = httpx.post(
            f"{first.base_url}/api/streams",
            json={"source": "demo:bikes.mp4", "id": "bikes", "settings": {"enable_tts": False}},
            timeout=60,
        )
        assert created.status_code == 201, created.text
    again = ServeProcess(tmp_path, free_port(), args=args)
    with again.running():

        def streams() -> dict[str, dict]:
            listed = httpx.get(f"{again.base_url}/api/streams", timeout=30).json()
            return {stream["id"]: stream for stream in listed}

        assert wait_for(lambda: streams().get("bikes", {}).get("source_state") == "live", 60)
        resumed = streams()
        assert set(resumed) == {"demo", "bikes"}
        assert resumed["bikes"]["source"] == "demo:bikes.mp4"
        assert resumed["bikes"]["run"] == 2 and resumed["bikes"]["speech"] is False


def test_two_replicas_share_four_streams_and_one_of_each_can_die(tmp_path: Path) -> None:
    """FrameIngest and StreamGateway at two replicas each: four streams spread over them; one
    replica of each killed in turn; every stream's commentary comes back, nothing lost."""
    result = scale_out_drill(RECOVERY_BOUND_S, settle_s=5.0, workdir=tmp_path)
    before, after = result["holders_before"], result["holders_after"]
    assert set(before) == set(after) == {"demo", *EXTRA_STREAMS}, result
    assert len({h["gateway"] for h in before.values()}) == 2, f"spread: {before}"
    assert len({h["ingest"] for h in before.values()}) == 2, f"spread: {before}"
    for deployment, entry in result["deployments"].items():
        assert entry["recovered"], f"{deployment}: {entry}"
    killed = next(iter(result["deployments"].values()))
    assert killed["lost_lines"] == 0 and killed["duplicated_lines"] == 0, result["problems"]
    assert result["client_5xx"] == 0, result["client_statuses"]
