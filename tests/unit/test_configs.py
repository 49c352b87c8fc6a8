"""serve_config.yaml and every preset hold valid settings and the five deployments."""

from pathlib import Path

import pytest
import yaml

from serve_app.settings import LIVE_STREAM_SETTINGS, load_settings

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = [ROOT / "serve_config.yaml", *sorted((ROOT / "configs").glob("*.yaml"))]
DEPLOYMENTS = {"Ingress", "StreamGateway", "FrameIngest", "Commentator", "Vocoder"}
WEIGHT_PATHS = ("model_path", "hf_model_path", "tts_model_dir", "ref_audio_path")


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_is_valid(path: Path) -> None:
    config = yaml.safe_load(path.read_text())
    (application,) = config["applications"]
    assert application["import_path"] == "deployments.app:build_app"
    load_settings(application["args"])
    names = {d["name"] for d in application["deployments"]}
    assert names == DEPLOYMENTS
    for deployment in application["deployments"]:
        # GPUs are the builder's choice (only when one exists), never the YAML's.
        assert "num_gpus" not in deployment.get("ray_actor_options", {})
        if "user_config" in deployment:
            assert set(deployment["user_config"]) <= LIVE_STREAM_SETTINGS
    vocoder = next(d for d in application["deployments"] if d["name"] == "Vocoder")
    assert (
        vocoder["autoscaling_config"]["max_replicas"]
        > vocoder["autoscaling_config"]["min_replicas"]
    )


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_config_points_at_weights_in_the_ignored_weights_folder(path: Path) -> None:
    (application,) = yaml.safe_load(path.read_text())["applications"]
    for name in WEIGHT_PATHS:
        if name in application["args"]:
            assert Path(application["args"][name]).parts[0] == "weights", (name, path.name)
