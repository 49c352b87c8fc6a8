"""MetricsSink: where the service's figures go, named by their catalog entry.

The pure code records through this protocol; the Ray deployments pass one backed by
``ray.serve.metrics`` (deployments/metrics.py), tests pass one that remembers.
"""

from __future__ import annotations

from typing import Protocol

from serve_app.telemetry.catalog import MetricSpec


class MetricsSink(Protocol):
    def add(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        """Count up a counter."""
        ...

    def set(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        """Set a gauge."""
        ...

    def observe(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        """Put one value in a histogram."""
        ...

    def forget(self, stream_id: str) -> None:
        """The stream is gone here: stop reporting its gauges (their series age out)."""
        ...


class NoMetrics:
    """Records nothing: for code run outside the service (tests, the offline tool)."""

    def add(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        pass

    def set(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        pass

    def observe(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        pass

    def forget(self, stream_id: str) -> None:
        pass
