"""Metrics: the service's own figures and Serve's, on the fixed Prometheus port, as a
Prometheus server would scrape them (parsed with prometheus_client)."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from serve_app.telemetry import catalog
from tests.support.serve_process import ServeProcess

pytestmark = pytest.mark.e2e

DASHBOARD = Path(__file__).resolve().parents[2] / "containers/grafana/dashboards/commentary.json"


def scrape(url: str) -> list[Sample]:
    text = httpx.get(url, timeout=10).text
    return [sample for family in text_string_to_metric_families(text) for sample in family.samples]


def total(samples: list[Sample], name: str, **labels: str) -> float | None:
    """The sum of a series' samples matching ``labels`` (summed over replicas), or None."""
    values = [
        s.value
        for s in samples
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    return sum(values) if values else None


@pytest.fixture()
def one_viewer(service: ServeProcess) -> Iterator[None]:
    """One MJPEG viewer of the demo stream, reading until the test ends."""
    stop = threading.Event()

    def watch() -> None:
        with httpx.stream("GET", f"{service.base_url}/api/mjpeg", timeout=30) as response:
            for _ in response.iter_bytes():
                if stop.is_set():
                    return

    viewer = threading.Thread(target=watch, daemon=True)
    viewer.start()
    yield
    stop.set()
    viewer.join(timeout=10)


def test_commentary_and_serve_metrics_are_scraped_from_the_fixed_port(
    service: ServeProcess, one_viewer: None
) -> None:
    demo = {"stream": "demo"}
    wanted = {
        "cycles": ("ray_commentary_cycles_total", demo),
        "latency": ("ray_commentary_cycle_latency_seconds_count", demo),
        "inference": ("ray_commentary_inference_seconds_count", demo),
        "first text": ("ray_commentary_first_text_seconds_count", demo),
        "sync error": ("ray_commentary_sync_error_seconds_count", demo),
        "delay": ("ray_commentary_display_delay_seconds", demo),
        "live": ("ray_commentary_stream_state", {**demo, "state": "live"}),
        "speech": ("ray_commentary_speech_seconds_total", demo),
        "vocoder rtf": ("ray_commentary_vocoder_rtf_count", demo),
        "viewers": ("ray_commentary_viewers", {**demo, "kind": "video"}),
        "serve requests": ("ray_serve_deployment_request_counter_total", {}),
    }
    found: dict[str, float | None] = {}
    deadline = time.monotonic() + 90  # Ray exports every 2 s here; the first cycles take a few
    while time.monotonic() < deadline:
        samples = scrape(service.metrics_url)
        found = {key: total(samples, name, **labels) for key, (name, labels) in wanted.items()}
        if all(value for value in found.values()):
            break
        time.sleep(2)
    assert all(found.values()), f"missing or zero: {found}"
    assert found["live"] == 1.0
    assert 0 < found["delay"] < 30  # type: ignore[operator]
    assert found["viewers"] >= 1  # type: ignore[operator]
    # Serve tags ours with the deployment that recorded them.
    deployments = {
        s.labels.get("deployment")
        for s in samples
        if s.name.startswith("ray_commentary_") and s.labels.get("stream") == "demo"
    }
    assert {"StreamGateway", "Ingress", "Vocoder"} <= deployments
    # Every series of ours is one the catalog declares (a dashboard can rely on the names).
    declared = {name for spec in catalog.METRICS for name in catalog.exported_names(spec)}
    ours = {s.name for s in samples if s.name.startswith("ray_commentary_")}
    assert ours <= declared, ours - declared
    # Every Serve series the Grafana dashboard plots is exported, with the labels it filters on.
    for name, labels in dashboard_serve_series():
        assert total(samples, name, **dict(labels)) is not None, f"the dashboard's {name}{labels}"


def dashboard_serve_series() -> set[tuple[str, tuple[tuple[str, str], ...]]]:
    """(series, fixed label matchers) of every ray_serve_* selector in the dashboard."""
    text = DASHBOARD.read_text().replace('\\"', '"')
    found = set()
    for name, matchers in re.findall(r"(ray_serve_\w+)(?:\{([^}]*)\})?", text):
        fixed = tuple(sorted(re.findall(r'(\w+)="([^"$]*)"', matchers)))
        found.add((name, fixed))
    assert found, "the dashboard plots no Serve series"
    return found
