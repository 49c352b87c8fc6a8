"""Summarise the vLLM MiniCPM-o runs into benchmarks/results/vllm_minicpmo.json.

Reads the raw files ``benchmarks/vllm_minicpmo.py`` wrote (one per run) and derives the keys
the docs quote: ``batch1_cycle_s`` (the default AWQ engine, median of 5 back-to-back cycles),
``max_streams_12_per_min`` (the most streams at which every stream got 12 cycles a minute with
p95 cycle latency within the goal, in the run that rates worst, so noise cannot flatter it),
and ``p95_cycle_s_at_max``.

    python3 benchmarks/vllm_minicpmo_summary.py
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = {
    "bf16": "vllm_minicpmo_bf16.json",
    "awq_run1": "vllm_minicpmo_awq_run1.json",
    "awq_run2": "vllm_minicpmo_awq_run2.json",
}
P95_GOAL_S = 1.5
CYCLES_PER_MIN = 12.0


def load(name: str) -> dict[str, Any]:
    return json.loads((RESULTS / name).read_text())


def measured_rows(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Stream phases in order; a first phase repeated later was a warm-up (compiles, graphs)."""
    rows = run.get("streams", [])
    if len(rows) > 1 and any(r["streams"] == rows[0]["streams"] for r in rows[1:]):
        rows = rows[1:]
    return rows


def max_streams(rows: list[dict[str, Any]]) -> tuple[int, float | None]:
    best, p95 = 0, None
    for row in sorted(rows, key=lambda r: r["streams"]):
        ok = row["cycles_per_min_per_stream"] >= CYCLES_PER_MIN and row["p95_cycle_s"] <= P95_GOAL_S
        if ok:  # a smaller N can fail alone on a one-off stall (run 1's first 32-stream minute)
            best, p95 = row["streams"], row["p95_cycle_s"]
    return best, p95


def main() -> None:
    runs = {key: load(name) for key, name in RUNS.items()}
    per_run = {key: max_streams(measured_rows(run)) for key, run in runs.items()}
    awq = {k: v for k, v in per_run.items() if k.startswith("awq")}
    worst = min(awq, key=lambda k: awq[k][0])
    summary = {
        "engine": "MiniCPMOVllmDescriber on vLLM 0.26.0 AsyncLLM, dummy weights",
        "cycle": {"frames": 4, "frame_size": runs["awq_run1"]["frame_size"], "new_tokens": 40},
        "batch1_cycle_s": runs["awq_run1"]["batch1"]["cycle_s_median"],
        "batch1_ttft_s": runs["awq_run1"]["batch1"]["ttft_s_median"],
        "batch1_cycle_s_bf16": runs["bf16"]["batch1"]["cycle_s_median"],
        "batch1_ttft_s_bf16": runs["bf16"]["batch1"]["ttft_s_median"],
        "max_streams_12_per_min": awq[worst][0],
        "p95_cycle_s_at_max": awq[worst][1],
        "max_streams_12_per_min_by_run": {k: v[0] for k, v in per_run.items()},
        "engine_start_s": {k: run["engine_start_s"] for k, run in runs.items()},
        "speech_tokens_per_s_per_stream": None,  # the vLLM engine makes no speech (docs/gpu.md)
        "goals": {"batch1_cycle_s": 0.35, "streams_at_12_per_min": 64, "p95_cycle_s": P95_GOAL_S},
        "streams": {key: measured_rows(run) for key, run in runs.items()},
        "sources": RUNS,
    }
    (RESULTS / "vllm_minicpmo.json").write_text(json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: v for k, v in summary.items() if k != "streams"}, indent=1))


if __name__ == "__main__":
    main()
