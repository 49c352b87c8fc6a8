"""ServeMetrics: the MetricsSink of the deployments, over ``ray.serve.metrics``.

Each catalog entry (serve_app/telemetry/catalog.py) becomes one Serve metric the first time
a replica records it; Serve tags it with the deployment, replica and application, and Ray
exports it on the node's metrics port (METRICS_PORT) beside Serve's own.

Ray drops a gauge series that has not been recorded for two export intervals (it takes it
for a finished task's), while ours change only on events (a delay that holds for minutes, a
viewer count between joins): every gauge's last value is recorded again within each export
interval, until its stream is forgotten (deleted, or moved to another replica).
"""

from __future__ import annotations

import os
import threading

from ray.serve.metrics import Counter, Gauge, Histogram

from serve_app.telemetry.catalog import MetricKind, MetricSpec

# Ray exports every RAY_metrics_report_interval_ms (10 s by default, floored at 1 s): record
# again twice an interval, so a gauge is never older than one export.
REPORT_INTERVAL_MS = int(os.environ.get("RAY_metrics_report_interval_ms", 10_000))  # noqa: SIM112 (Ray's own spelling)
GAUGE_REFRESH_S = max(1000, REPORT_INTERVAL_MS) / 2000


class ServeMetrics:
    def __init__(self) -> None:
        self._made: dict[str, Counter | Gauge | Histogram] = {}
        self._gauges: dict[tuple[str, tuple[tuple[str, str], ...]], tuple[float, dict[str, str]]]
        self._gauges = {}
        self._lock = threading.Lock()
        threading.Thread(target=self._refresh_gauges, name="gauge-refresh", daemon=True).start()

    def _metric(self, spec: MetricSpec) -> Counter | Gauge | Histogram:
        metric = self._made.get(spec.name)
        if metric is None:
            if spec.kind is MetricKind.COUNTER:
                metric = Counter(spec.name, spec.description, spec.tags)
            elif spec.kind is MetricKind.GAUGE:
                metric = Gauge(spec.name, spec.description, spec.tags)
            else:
                metric = Histogram(spec.name, spec.description, list(spec.buckets), spec.tags)
            self._made[spec.name] = metric
        return metric

    def add(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        self._metric(metric).inc(value, tags)  # type: ignore[union-attr]

    def set(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        gauge = self._metric(metric)
        with self._lock:
            self._gauges[metric.name, tuple(sorted(tags.items()))] = (value, tags)
            gauge.set(value, tags)  # type: ignore[union-attr]

    def observe(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        self._metric(metric).observe(value, tags)  # type: ignore[union-attr]

    def forget(self, stream_id: str) -> None:
        with self._lock:
            for key in [
                key for key, (_, tags) in self._gauges.items() if tags.get("stream") == stream_id
            ]:
                del self._gauges[key]

    def _refresh_gauges(self) -> None:
        stop = threading.Event()  # never set: the thread lives as long as the replica
        while not stop.wait(GAUGE_REFRESH_S):
            with self._lock:
                for (name, _), (value, tags) in self._gauges.items():
                    self._made[name].set(value, tags)  # type: ignore[union-attr]
