"""From `serve run` to the first commentary, and what the whole service costs in memory.

Starts the real application (serve_config.yaml, embedded default) exactly as `make run`
does (the venv already set up), and reports: seconds until all five deployments are
healthy, until the first commentary text reaches an SSE client, and until the first
audio bytes reach an audio client; then the RSS and PSS of every process of the service
(Ray's own included) after a minute of running.

    python -m benchmarks.startup_footprint [--settle 60]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

import httpx

from tests.support.serve_process import ServeProcess, free_port

RESULTS = Path(__file__).resolve().parent / "results"


def session_pids(session_id: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getsid(int(entry.name)) == session_id:
                    pids.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return pids


def memory_kb(pid: int) -> tuple[int, int, str]:
    rollup = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    values = {line.split(":")[0]: int(line.split()[1]) for line in rollup[1:] if "kB" in line}
    name = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()[:80]
    return values.get("Rss", 0), values.get("Pss", 0), name


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--settle", type=float, default=60.0)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        service = ServeProcess(Path(tmp), free_port())
        t0 = time.monotonic()
        first: dict[str, float] = {}

        def watch_text() -> None:
            while "text" not in first:
                try:
                    with httpx.stream("GET", f"{service.base_url}/api/events", timeout=60) as r:
                        for line in r.iter_lines():
                            if line.startswith("event: text"):
                                first["text"] = time.monotonic() - t0
                                return
                except httpx.HTTPError:
                    time.sleep(0.3)

        def watch_audio() -> None:
            while "audio" not in first:
                try:
                    with httpx.stream(
                        "GET", f"{service.base_url}/api/audio-stream", timeout=60
                    ) as r:
                        if r.status_code != 200:
                            raise httpx.HTTPError("not yet")
                        for _ in r.iter_bytes():
                            first["audio"] = time.monotonic() - t0
                            return
                except httpx.HTTPError:
                    time.sleep(0.3)

        healthy = service.start()
        watchers = [threading.Thread(target=f, daemon=True) for f in (watch_text, watch_audio)]
        for w in watchers:
            w.start()
        for w in watchers:
            w.join(120)
        time.sleep(max(0.0, options.settle - (time.monotonic() - t0)))
        assert service.process is not None
        rows = [memory_kb(pid) for pid in session_pids(service.process.pid)]
        status = httpx.get(f"{service.base_url}/api/status", timeout=10).json()
        service.stop()
    rows.sort(reverse=True)
    result = {
        "benchmark": "startup_footprint",
        "seconds_to_healthy": round(healthy, 1),
        "seconds_to_first_text": round(first.get("text", float("nan")), 1),
        "seconds_to_first_audio": round(first.get("audio", float("nan")), 1),
        "note": "first commentary is held until its frames are on screen (5 s initial delay)",
        "processes": len(rows),
        "rss_mb_total": round(sum(r[0] for r in rows) / 1024, 1),
        "pss_mb_total": round(sum(r[1] for r in rows) / 1024, 1),
        "largest": [
            {"rss_mb": round(r[0] / 1024, 1), "pss_mb": round(r[1] / 1024, 1), "cmd": r[2]}
            for r in rows[:10]
        ],
        "ingest_cpu_s": {s["id"]: s["ingest"].get("capture_cpu_s") for s in status["streams"]},
        "uptime_s": round(options.settle, 1),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "startup_footprint.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
