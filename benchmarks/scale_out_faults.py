"""Scale-out fault drill: two FrameIngest and two StreamGateway replicas, four streams, one
replica of each killed in turn (SIGKILL) while every stream has its clients connected.

Measures, per killed deployment, how long until every stream's SSE client gets commentary
again (``recovery_s``: the slowest stream) and compares every line each client saw with the
stream's stored transcript. Also records which replica held each stream before the faults.

    python -m benchmarks.scale_out_faults [--bound 90]

Writes ``scale_out`` into benchmarks/results/faults.json (the rest of the file is
benchmarks/faults.py's).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from benchmarks.faults import RESULTS, Clients, compare_with_transcript, replica_pids, wait_for
from tests.support.serve_process import ServeProcess, free_port

SCALED = {"FrameIngest": {"num_replicas": 2}, "StreamGateway": {"num_replicas": 2}}
EXTRA_STREAMS = ["yard", "road", "park"]  # besides the default stream, "demo"
KILLED = ["StreamGateway", "FrameIngest"]


def holders(base_url: str) -> dict[str, dict[str, str]]:
    """Each stream's gateway and ingest replica, as /api/status reports them."""
    streams = httpx.get(f"{base_url}/api/status", timeout=30).json()["streams"]
    return {
        s["id"]: {"gateway": s.get("replica", ""), "ingest": s.get("ingest", {}).get("replica", "")}
        for s in streams
    }


def kill_one(clients: dict[str, Clients], deployment: str, bound_s: float) -> dict[str, Any]:
    pids = replica_pids(deployment)
    if len(pids) < 2:
        return {"recovered": False, "recovery_s": None, "error": f"replica pids: {pids}"}
    killed_at = time.time()
    os.kill(pids[0], signal.SIGKILL)
    back: dict[str, float | None] = {}
    for stream_id, client in clients.items():
        waited = time.time() - killed_at
        seconds = wait_for(
            lambda c=client: any(t > killed_at for t in c.line_times), max(1.0, bound_s - waited)
        )
        back[stream_id] = None if seconds is None else round(seconds + waited, 2)
    recovered = all(v is not None for v in back.values())
    return {
        "pid": pids[0],
        "recovered": recovered,
        "recovery_s": max(v for v in back.values() if v is not None) if recovered else None,
        "text_back_s": back,
    }


def scale_out_drill(bound_s: float, settle_s: float, workdir: Path) -> dict[str, Any]:
    args = {"data_dir": str(workdir / "data")}
    service = ServeProcess(workdir, free_port(), args=args, deployments=SCALED)
    results: dict[str, Any] = {}
    with service.running():
        for stream_id in EXTRA_STREAMS:
            created = httpx.post(
                f"{service.base_url}/api/streams",
                json={"source": "demo", "id": stream_id, "settings": {"enable_tts": False}},
                timeout=60,
            )
            created.raise_for_status()
        clients = {
            stream_id: Clients(service.base_url, stream=stream_id, audio=stream_id == "demo")
            for stream_id in ["demo", *EXTRA_STREAMS]
        }
        for client in clients.values():
            client.start()
        wait_for(lambda: all(len(c.lines) >= 2 for c in clients.values()), 180)
        spread = holders(service.base_url)
        for deployment in KILLED:
            print(f"killing one {deployment} replica ...", flush=True)
            results[deployment] = kill_one(clients, deployment, bound_s)
            print(f"  {results[deployment]}", flush=True)
            time.sleep(settle_s)
        after = holders(service.base_url)
        for client in clients.values():
            client.stop()
        time.sleep(2)  # the recorders store the last released lines
        checked = {}
        for stream_id, client in clients.items():
            url = f"{service.base_url}/api/streams/{stream_id}/transcript"
            checked[stream_id] = compare_with_transcript(client, httpx.get(url, timeout=30).json())
    lost = sum(c["lost_lines"] for c in checked.values())
    duplicated = sum(c["duplicated_lines"] for c in checked.values())
    for entry in results.values():
        entry.update(lost_lines=lost, duplicated_lines=duplicated)
    statuses: dict[str, int] = {}
    for client in clients.values():
        for code, n in client.statuses.items():
            statuses[str(code)] = statuses.get(str(code), 0) + n
    return {
        "deployments": results,
        "replicas": {name: config["num_replicas"] for name, config in SCALED.items()},
        "holders_before": spread,
        "holders_after": after,
        "lines_seen": {s: c["lines_seen"] for s, c in checked.items()},
        "problems": [p for c in checked.values() for p in c["problems"]],
        "client_statuses": statuses,
        "client_5xx": sum(n for code, n in statuses.items() if int(code) >= 500),
        "bound_s": bound_s,
        "note": "lost_lines and duplicated_lines are counted over every stream and the whole drill",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bound", type=float, default=90.0, help="seconds to wait for recovery")
    parser.add_argument("--settle", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = scale_out_drill(args.bound, args.settle, Path(tmp))
    path = RESULTS / "faults.json"
    recorded = json.loads(path.read_text()) if path.exists() else {}
    path.write_text(json.dumps({**recorded, "scale_out": result}, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
