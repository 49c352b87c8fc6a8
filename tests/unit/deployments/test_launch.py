"""launch: `serve run` gets Serve's direct ingress when an HAProxy binary is at hand, and
Ray's metrics on the METRICS_PORT setting when it starts a cluster of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from deployments.launch import (
    DIRECT_INGRESS,
    config_settings,
    main,
    serve_env,
    starts_local_cluster,
)

ROOT = Path(__file__).resolve().parents[3]


def test_direct_ingress_is_on_when_haproxy_is_at_hand() -> None:
    env = serve_env({"PATH": "/usr/bin"}, haproxy=True)
    assert env == {"PATH": "/usr/bin", **DIRECT_INGRESS}


def test_without_haproxy_the_default_proxy_stays() -> None:
    assert serve_env({"PATH": "/usr/bin"}, haproxy=False) == {"PATH": "/usr/bin"}


def test_an_operators_own_choice_wins() -> None:
    chosen = {"RAY_SERVE_ENABLE_DIRECT_INGRESS": "0"}
    assert serve_env(chosen, haproxy=True) == chosen


def test_serve_run_starts_its_own_cluster_unless_told_to_join_one() -> None:
    assert starts_local_cluster(["serve_config.yaml"], {})
    assert not starts_local_cluster(["serve_config.yaml"], {"RAY_ADDRESS": "ray://head:10001"})
    assert not starts_local_cluster(["serve_config.yaml", "--address=auto"], {})
    assert not starts_local_cluster(["serve_config.yaml", "-a", "auto"], {})
    assert not starts_local_cluster(["serve_config.yaml", "--working-dir", "."], {})


def test_the_metrics_port_comes_from_the_config_then_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("METRICS_PORT", raising=False)
    config = tmp_path / "serve.yaml"
    config.write_text(yaml.safe_dump({"applications": [{"args": {"metrics_port": 9100}}]}))
    assert config_settings(str(config)).metrics_port == 9100
    monkeypatch.setenv("METRICS_PORT", "9200")
    assert config_settings(str(config)).metrics_port == 9200
    assert config_settings(str(ROOT / "serve_config.yaml")).metrics_port == 9200


def test_a_bad_metrics_port_stops_the_launch_with_the_field_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("METRICS_PORT", "80")
    for flag, value in DIRECT_INGRESS.items():
        monkeypatch.setenv(flag, value)  # main() sets them for Ray: undone after the test
    with pytest.raises(SystemExit) as stopped:
        main([str(ROOT / "serve_config.yaml")])
    assert "metrics_port" in str(stopped.value.code)
