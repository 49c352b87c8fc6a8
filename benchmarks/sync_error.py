"""How well does commentary land on the picture it speaks of? Original EMA policy vs ours.

Runs the real Serve graph (serve_config.yaml) with the measurement stand-in describer, whose
latency is log-normal, on a generated clip whose frames carry their index. Two streams of
the same clip run side by side in one service, one per sync policy, so both see the same
machine load. A client reads each stream's MJPEG (which frame is on screen when) and SSE
(when each commentary line arrives), like a viewer would.

Sync error of a cycle = media time of the frame on screen when its first text reaches the
client − media time of the newest frame the cycle was about. Negative: the line came early.

    python -m benchmarks.sync_error [--seconds 120] [--latency-mean 1.5] [--latency-sigma 0.35]

Writes benchmarks/results/sync_error.json and prints a Markdown table.
"""

from __future__ import annotations

import argparse
import bisect
import json
import platform
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

from tests.support.fixture_video import read_index_jpeg, write_counter_clip
from tests.support.serve_process import ServeProcess, free_port
from tests.support.streams import read_mjpeg, read_sse

RESULTS = Path(__file__).resolve().parent / "results"
FPS = 25
CLIP_S = 60.0
POLICIES = ("ema", "presentation")


class Viewer:
    """One client of one stream: records shown frames and commentary arrivals."""

    def __init__(self, base_url: str, stream_id: str, seconds: float) -> None:
        self.url = f"{base_url}/api/streams/{stream_id}"
        self.seconds = seconds
        self.shown: list[tuple[float, float]] = []  # (arrival wall time, media time shown)
        self.events: list[Any] = []
        self.audio_bursts: list[float] = []  # wall times where speech resumed after silence
        self.threads = [
            threading.Thread(target=self._video, daemon=True),
            threading.Thread(target=self._commentary, daemon=True),
            threading.Thread(target=self._audio, daemon=True),
        ]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()

    def join(self) -> None:
        for thread in self.threads:
            thread.join(self.seconds + 30)

    def _video(self) -> None:
        with httpx.Client() as client:
            for part in read_mjpeg(client, f"{self.url}/mjpeg", self.seconds):
                # The burned-in index says which source frame is on screen; the clip loops,
                # so the header's media time picks the loop.
                in_clip = read_index_jpeg(part.jpeg) / FPS
                loop = round((float(part.headers["x-media-ts"]) - in_clip) / CLIP_S)
                self.shown.append((part.received_at, loop * CLIP_S + in_clip))

    def _commentary(self) -> None:
        with httpx.Client() as client:
            self.events = read_sse(client, f"{self.url}/events", self.seconds)

    def _audio(self) -> None:
        last = 0.0
        deadline = time.monotonic() + self.seconds
        with (
            httpx.Client() as client,
            client.stream(
                "GET", f"{self.url}/audio-stream", timeout=httpx.Timeout(10, read=30)
            ) as response,
        ):
            try:
                for _ in response.iter_bytes():
                    now = time.time()
                    if now - last > 0.5:
                        self.audio_bursts.append(now)
                    last = now
                    if time.monotonic() > deadline:
                        return
            except httpx.ReadTimeout:
                return  # no speech for 30 s: nothing more to measure

    def media_shown_at(self, wall: float) -> float | None:
        i = bisect.bisect_right([t for t, _ in self.shown], wall)
        return self.shown[i - 1][1] if i else None

    def cycles(self) -> list[dict[str, Any]]:
        first_text: dict[int, float] = {}
        ends: dict[int, dict[str, Any]] = {}
        for event in self.events:
            if event.event == "text":
                first_text.setdefault(event.data["cycle"], event.received_at)
            elif event.event == "cycle_end":
                ends[event.data["cycle"]] = event.data
        rows = []
        for cycle, end in sorted(ends.items()):
            if end["skip"] or cycle not in first_text:
                continue
            shown = self.media_shown_at(first_text[cycle])
            if shown is None:
                continue
            burst = next((b for b in self.audio_bursts if b >= first_text[cycle] - 0.05), None)
            audio_shown = self.media_shown_at(burst) if burst is not None else None
            rows.append(
                {
                    "cycle": cycle,
                    "latency_s": end["latency_s"],
                    "late": end["late"],
                    "text_sync_error_s": shown - end["media_ts_s"],
                    "audio_sync_error_s": None
                    if audio_shown is None or burst - first_text[cycle] > 5
                    else audio_shown - end["media_ts_s"],
                }
            )
        return rows

    def delays(self) -> list[float]:
        return [e.data["target_delay_s"] for e in self.events if e.event == "delay"]


def summarise(rows: list[dict[str, Any]], delays: list[float], warmup: int) -> dict[str, Any]:
    rows = rows[warmup:]
    errors = np.array([r["text_sync_error_s"] for r in rows])
    audio = np.array([r["audio_sync_error_s"] for r in rows if r["audio_sync_error_s"] is not None])
    late = [r for r in rows if r["text_sync_error_s"] < -0.05 or r["late"]]

    def stats(x: np.ndarray) -> dict[str, float | None]:
        if x.size == 0:
            return {"p50": None, "p95": None, "max": None}
        a = np.abs(x)
        return {
            "p50": round(float(np.quantile(a, 0.5)), 3),
            "p95": round(float(np.quantile(a, 0.95)), 3),
            "max": round(float(a.max()), 3),
        }

    return {
        "cycles": len(rows),
        "text_abs_sync_error_s": stats(errors),
        "text_signed_mean_s": round(float(errors.mean()), 3) if errors.size else None,
        "audio_abs_sync_error_s": stats(audio),
        "late_fraction": round(sum(r["late"] for r in rows) / max(1, len(rows)), 3),
        "off_by_more_than_50ms": len(late),
        "display_delay_final_s": delays[-1] if delays else None,
        "display_delay_mean_s": round(float(np.mean(delays[warmup:] or delays)), 3)
        if delays
        else None,
        "latency_p50_s": round(float(np.quantile([r["latency_s"] for r in rows], 0.5)), 3)
        if rows
        else None,
        "latency_p95_s": round(float(np.quantile([r["latency_s"] for r in rows], 0.95)), 3)
        if rows
        else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300.0)
    parser.add_argument("--latency-mean", type=float, default=1.5)
    parser.add_argument("--latency-sigma", type=float, default=0.35)
    # The EMA starts at 5 s and needs ~10 cycles to come near the latency: both policies
    # are judged on their steady state.
    parser.add_argument("--warmup-cycles", type=int, default=10)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        clip = write_counter_clip(workdir / "counter.mp4", seconds=CLIP_S, fps=FPS)
        service = ServeProcess(
            workdir,
            free_port(),
            args={
                "backend": "synthetic",
                "default_source": "",
                "allowed_file_roots": [str(workdir)],
                "synthetic_latency_mean_s": options.latency_mean,
                "synthetic_latency_sigma": options.latency_sigma,
            },
        )
        started = service.start(wait_for_stream=None)
        print(f"service up in {started:.1f} s")
        try:
            with httpx.Client(base_url=service.base_url, timeout=30) as client:
                for policy in POLICIES:
                    r = client.post(
                        "/api/streams",
                        json={
                            "source": str(clip),
                            "id": policy,
                            "settings": {"sync_policy": policy},
                        },
                    )
                    r.raise_for_status()
            viewers = {p: Viewer(service.base_url, p, options.seconds) for p in POLICIES}
            for viewer in viewers.values():
                viewer.start()
            for viewer in viewers.values():
                viewer.join()
        finally:
            service.stop()

    results = {
        "benchmark": "sync_error",
        "machine": f"{platform.machine()}, {platform.node()}",
        "seconds": options.seconds,
        "latency_model": {
            "distribution": "lognormal",
            "mean_s": options.latency_mean,
            "sigma": options.latency_sigma,
        },
        "warmup_cycles_dropped": options.warmup_cycles,
        "policies": {
            p: summarise(v.cycles(), v.delays(), options.warmup_cycles) for p, v in viewers.items()
        },
        "raw": {p: v.cycles() for p, v in viewers.items()},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sync_error.json").write_text(json.dumps(results, indent=2))
    print(table(results))


def table(results: dict[str, Any]) -> str:
    lines = [
        "| policy | cycles | text sync error p50 / p95 / max (s) | audio p50 / p95 (s) "
        "| late cycles | display delay mean (s) | latency p50 / p95 (s) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for policy, s in results["policies"].items():
        t, a = s["text_abs_sync_error_s"], s["audio_abs_sync_error_s"]
        lines.append(
            f"| {policy} | {s['cycles']} | {t['p50']} / {t['p95']} / {t['max']} | "
            f"{a['p50']} / {a['p95']} | {s['late_fraction']:.0%} | {s['display_delay_mean_s']} | "
            f"{s['latency_p50_s']} / {s['latency_p95_s']} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
