"""Fault drill: kill each deployment's replica process mid-stream, with clients connected.

Starts the real application (embedded default), connects an SSE client (resuming with
Last-Event-ID whenever its connection drops, as a browser's EventSource does), an MJPEG viewer
and an audio listener to the default stream, then kills one replica at a time with SIGKILL
(found by its process title, ``ray::ServeReplica:<app>:<Deployment>``) and measures how long
until commentary reaches the SSE client again and video frames flow again. At the end every
line the SSE client saw is compared with the stored transcript.

    python -m benchmarks.faults [--deployments Commentator Vocoder ...] [--bound 90]

Writes benchmarks/results/faults.json: per deployment ``recovered``, ``recovery_s``,
``lost_lines``, ``duplicated_lines``, plus the clients' HTTP statuses.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.support.serve_process import ServeProcess, free_port
from tests.support.streams import read_mjpeg

RESULTS = Path(__file__).resolve().parent / "results"
ORDER = ["Commentator", "Vocoder", "FrameIngest", "StreamGateway", "Ingress"]


def replica_pids(deployment: str) -> list[int]:
    """The pids of a deployment's replica processes on this machine."""
    found = subprocess.run(
        ["pgrep", "-f", f"ray::ServeReplica:[^ ]*:{deployment}( |\\.|$)"],
        capture_output=True,
        text=True,
    )
    return [int(pid) for pid in found.stdout.split()]


@dataclass
class Clients:
    """An SSE client, an MJPEG viewer and an audio listener, each reconnecting on its own."""

    base_url: str
    stream: str = "demo"
    audio: bool = True  # the stream speaks: listen to it too
    headers: dict[str, str] = field(default_factory=dict)
    statuses: Counter[int] = field(default_factory=Counter)
    lines: list[dict[str, Any]] = field(default_factory=list)  # cycle_end events seen
    seqs: list[int] = field(default_factory=list)
    line_times: list[float] = field(default_factory=list)
    frame_times: list[float] = field(default_factory=list)
    audio_bytes: int = 0
    reconnects: Counter[str] = field(default_factory=Counter)
    stopped_at: float = float("inf")
    _stop: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        for target in (self._events, self._video, self._audio)[: 3 if self.audio else 2]:
            threading.Thread(target=self._forever, args=(target,), daemon=True).start()

    def stop(self) -> None:
        self.stopped_at = time.time()
        self._stop.set()

    def _forever(self, read: Any) -> None:
        with httpx.Client(base_url=self.base_url, headers=self.headers, timeout=30) as client:
            while not self._stop.is_set():
                try:
                    read(client)
                except httpx.HTTPStatusError as error:
                    self.statuses[error.response.status_code] += 1
                except (httpx.HTTPError, ValueError, KeyError):
                    pass  # a dropped connection: reconnect, as a player would
                self.reconnects[read.__name__] += 1
                time.sleep(0.5)

    def _events(self, client: httpx.Client) -> None:
        headers = {"Last-Event-ID": str(self.seqs[-1])} if self.seqs else {}
        path = f"/api/streams/{self.stream}/events"
        with client.stream("GET", path, headers=headers, timeout=None) as response:
            self.statuses[response.status_code] += 1
            response.raise_for_status()
            kind = ""
            for raw in response.iter_lines():
                if self._stop.is_set():
                    return
                if raw.startswith("event:"):
                    kind = raw[6:].strip()
                elif raw.startswith("data:") and kind:
                    data = json.loads(raw[5:])
                    self.seqs.append(int(data["seq"]))
                    if kind == "cycle_end":
                        self.lines.append(data)
                        self.line_times.append(time.time())

    def _video(self, client: httpx.Client) -> None:
        for part in read_mjpeg(client, f"/api/streams/{self.stream}/mjpeg", seconds=3600):
            self.frame_times.append(part.received_at)
            if self._stop.is_set():
                return

    def _audio(self, client: httpx.Client) -> None:
        path = f"/api/streams/{self.stream}/audio-stream"
        with client.stream("GET", path, timeout=httpx.Timeout(10, read=30)) as r:
            self.statuses[r.status_code] += 1
            r.raise_for_status()
            for chunk in r.iter_bytes():
                self.audio_bytes += len(chunk)
                if self._stop.is_set():
                    return


def wait_for(predicate: Any, bound_s: float) -> float | None:
    started = time.time()
    while time.time() - started < bound_s:
        if predicate():
            return time.time() - started
        time.sleep(0.2)
    return None


def kill_and_watch(clients: Clients, deployment: str, bound_s: float) -> dict[str, Any]:
    """SIGKILL the deployment's replicas; seconds until commentary and video are back."""
    pids = replica_pids(deployment)
    if not pids:
        return {"recovered": False, "recovery_s": None, "error": "no replica process found"}
    killed_at = time.time()
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    text_s = wait_for(lambda: any(t > killed_at for t in clients.line_times), bound_s)
    video_s = wait_for(lambda: any(t > killed_at + 1 for t in clients.frame_times), bound_s)
    recovered = text_s is not None and video_s is not None
    # The video may not have stopped at all: measure its outage from the frames' arrivals.
    video_s = back_after(clients.frame_times, killed_at, bound_s) if recovered else None
    return {
        "pids": pids,
        "recovered": recovered,
        "recovery_s": round(max(text_s or 0.0, video_s or 0.0), 2) if recovered else None,
        "text_back_s": None if text_s is None else round(text_s, 2),
        "video_back_s": None if video_s is None else round(video_s, 2),
    }


def compare_with_transcript(clients: Clients, transcript: list[dict[str, Any]]) -> dict[str, Any]:
    """Lines the client saw but the store lacks (or the reverse), and lines seen or stored twice."""
    # A line is its text and the instant it was released (the event's wall_ts, which the store
    # keeps): media time alone repeats when a restarted capture plays a file from its start.
    seen = [
        (line["text"].strip(), round(line["wall_ts"], 3))
        for line in clients.lines
        if not line["skip"] and line["text"].strip() and line["kind"] == "commentary"
    ]
    # Compare over the time the client was reading: from its first line to when it stopped
    # (less a moment for a line on its way), not what the stream said before or after.
    first_seen = min((line["wall_ts"] for line in clients.lines), default=0.0)
    stored = [
        (line["text"], round(line["wall_ts"], 3))
        for line in transcript
        if line["kind"] == "commentary"
        and first_seen - 0.001 <= line["wall_ts"] < clients.stopped_at - 0.5
    ]
    seen = [line for line in seen if line[1] < clients.stopped_at - 0.5]
    runs_cycles = Counter((line["run"], line["cycle"], line["kind"]) for line in transcript)
    duplicated = (
        [f"seen twice: {text!r}" for (text, _), n in Counter(seen).items() if n > 1]
        + [f"stored twice: run {r} cycle {c}" for (r, c, _), n in runs_cycles.items() if n > 1]
        + [f"event seq {seq} twice" for seq, n in Counter(clients.seqs).items() if n > 1]
    )
    lost = [f"seen, not stored: {line!r}" for line in sorted(set(seen) - set(stored))] + [
        f"stored, not seen: {line!r}" for line in sorted(set(stored) - set(seen))
    ]
    return {
        "lost_lines": len(lost),
        "duplicated_lines": len(duplicated),
        "lines_seen": len(seen),
        "problems": lost + duplicated,
    }


def back_after(times: list[float], killed_at: float, bound_s: float) -> float:
    """Seconds from the kill to the end of the longest gap in ``times`` after it (0: none)."""
    after = [killed_at, *(t for t in times if killed_at < t <= killed_at + bound_s)]
    gaps = [(b - a, b) for a, b in itertools.pairwise(after)]
    longest, ended_at = max(gaps, default=(0.0, killed_at))
    return 0.0 if longest < 1.0 else ended_at - killed_at


def drill(deployments: list[str], bound_s: float, settle_s: float, workdir: Path) -> dict:
    service = ServeProcess(workdir, free_port(), args={"data_dir": str(workdir / "data")})
    results: dict[str, Any] = {}
    with service.running():
        clients = Clients(service.base_url)
        clients.start()
        wait_for(lambda: len(clients.lines) >= 2 and clients.frame_times, 120)
        for deployment in deployments:
            print(f"killing {deployment} ...", flush=True)
            results[deployment] = kill_and_watch(clients, deployment, bound_s)
            print(f"  {results[deployment]}", flush=True)
            time.sleep(settle_s)  # let the stream run a few cycles before the next fault
        clients.stop()
        time.sleep(2)  # the recorder stores the last released line
        transcript = httpx.get(f"{service.base_url}/api/streams/demo/transcript", timeout=30)
        checked = compare_with_transcript(clients, transcript.json())
    for entry in results.values():
        entry.update(lost_lines=checked["lost_lines"], duplicated_lines=checked["duplicated_lines"])
    return {
        "deployments": results,
        "lines_seen": checked["lines_seen"],
        "problems": checked["problems"],
        "client_statuses": {str(k): v for k, v in sorted(clients.statuses.items())},
        "client_5xx": sum(v for k, v in clients.statuses.items() if k >= 500),
        "client_reconnects": dict(clients.reconnects),
        "audio_bytes": clients.audio_bytes,
        "bound_s": bound_s,
        "note": "lost_lines and duplicated_lines are counted over the whole drill",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--deployments", nargs="+", default=ORDER, choices=ORDER)
    parser.add_argument("--bound", type=float, default=90.0, help="seconds to wait for recovery")
    parser.add_argument("--settle", type=float, default=8.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        result = drill(args.deployments, args.bound, args.settle, Path(tmp))
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / "faults.json"
    kept = json.loads(path.read_text()).get("scale_out") if path.exists() else None
    scale_out = {"scale_out": kept} if kept else {}  # benchmarks/scale_out_faults.py's part
    path.write_text(json.dumps({**result, **scale_out}, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
