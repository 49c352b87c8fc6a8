"""Which display delay? The trade-off between late lines and a long delay, by simulation.

Feeds the real delay-policy classes (serve_app/sync/delay_policy.py) a long series of
log-normal cycle latencies (the shape real model latencies have) and counts, for each
policy, how often a cycle's result was not ready when its frames came on screen, and how
long the picture was held back. No service, no clock: the numbers are the policies' own.

    python -m benchmarks.delay_policy_sim [--cycles 20000]
"""

from __future__ import annotations

import argparse
import json
import math
import random
from pathlib import Path

import numpy as np

from serve_app.sync.delay_policy import DelayPolicy, EmaDelay, QuantileDelay

RESULTS = Path(__file__).resolve().parent / "results"


def simulate(policy: DelayPolicy, latencies: list[float], warmup: int) -> dict[str, float]:
    late = 0
    lateness: list[float] = []
    delays: list[float] = []
    errors: list[float] = []
    for i, latency in enumerate(latencies):
        delay = policy.target_delay_s
        if i >= warmup:
            delays.append(delay)
            is_late = latency > delay
            late += is_late
            if is_late:
                lateness.append(latency - delay)
            # Shown frame minus commented frame when the line appears: held results land
            # exactly (0) unless late; unheld ones are off by latency − delay either way.
            errors.append(
                max(0.0, latency - delay) if policy.holds_results else abs(latency - delay)
            )
        policy.observe(latency)
    n = len(latencies) - warmup
    return {
        "late_fraction": round(late / n, 4),
        "mean_delay_s": round(float(np.mean(delays)), 3),
        "sync_error_p50_s": round(float(np.quantile(errors, 0.5)), 3),
        "sync_error_p95_s": round(float(np.quantile(errors, 0.95)), 3),
        "mean_lateness_when_late_s": round(float(np.mean(lateness)), 3) if lateness else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycles", type=int, default=20_000)
    parser.add_argument("--mean", type=float, default=1.5)
    parser.add_argument("--sigma", type=float, default=0.35)
    options = parser.parse_args()
    rng = random.Random(11)
    mu = math.log(options.mean) - options.sigma**2 / 2
    latencies = [rng.lognormvariate(mu, options.sigma) for _ in range(options.cycles)]
    policies: dict[str, DelayPolicy] = {
        "ema α=0.2 (original, not held)": EmaDelay(5.0, 0.2, 12.0),
        "ema α=0.2, held": _held(EmaDelay(5.0, 0.2, 12.0)),
    }
    for history in (20, 30):
        for q in (0.5, 0.8, 0.9, 0.95):
            policies[f"quantile {q} of {history} + 0.15 s, held"] = QuantileDelay(
                5.0, q, history, 0.15, 12.0
            )
    rows = {name: simulate(p, latencies, warmup=50) for name, p in policies.items()}
    result = {
        "benchmark": "delay_policy_sim",
        "latency": {"distribution": "lognormal", "mean_s": options.mean, "sigma": options.sigma},
        "cycles": options.cycles,
        "policies": rows,
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "delay_policy_sim.json").write_text(json.dumps(result, indent=2))
    print("| policy | late cycles | mean delay (s) | sync error p50 / p95 (s) |")
    print("| --- | --- | --- | --- |")
    for name, r in rows.items():
        print(
            f"| {name} | {r['late_fraction']:.1%} | {r['mean_delay_s']} | "
            f"{r['sync_error_p50_s']} / {r['sync_error_p95_s']} |"
        )


class _held:
    """An EMA delay whose results are held like the presentation policy's."""

    holds_results = True

    def __init__(self, inner: EmaDelay) -> None:
        self._inner = inner

    @property
    def target_delay_s(self) -> float:
        return self._inner.target_delay_s

    def observe(self, latency_s: float) -> float:
        return self._inner.observe(latency_s)


if __name__ == "__main__":
    main()
