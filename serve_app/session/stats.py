"""CycleStats: the counters and recent latencies a stream reports in its status."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

# Enough cycles for a stable p95 in the status, few enough to stay small (a few minutes).
LATENCY_HISTORY = 200


@dataclass
class CycleStats:
    cycles: int = 0
    skips: int = 0
    late: int = 0
    errors: int = 0
    last_latency_s: float | None = None
    last_inference_s: float | None = None
    latencies_s: list[float] = field(default_factory=list)

    def record(self, latency_s: float | None, inference_s: float, skip: bool, late: bool) -> None:
        self.cycles += 1
        self.skips += skip
        self.late += late
        self.last_inference_s = inference_s
        if latency_s is not None:
            self.last_latency_s = latency_s
            self.latencies_s = [*self.latencies_s[-(LATENCY_HISTORY - 1) :], latency_s]

    def summary(self) -> dict[str, object]:
        return {
            "cycles": self.cycles,
            "skips": self.skips,
            "late_cycles": self.late,
            "errors": self.errors,
            "last_latency_s": self.last_latency_s,
            "last_inference_s": self.last_inference_s,
            "latency_p50_s": _quantile(self.latencies_s, 0.5),
            "latency_p95_s": _quantile(self.latencies_s, 0.95),
        }


def _quantile(values: list[float], q: float) -> float | None:
    return round(float(np.quantile(values, q)), 3) if values else None
