"""The application builder: what it reports about the backend and what it refuses to build."""

from pathlib import Path

import pytest

from deployments.app import backend_info
from deployments.backend_choice import BackendChoice
from models.messages import VoiceInput
from serve_app.settings import Backend, VoiceBackend, load_settings


def test_backend_info_shows_the_choice_under_the_keys_status_and_gateway_read() -> None:
    choice = BackendChoice(
        Backend.MINICPMO,
        VoiceBackend.TOKEN2WAV,
        "set",
        wants_gpu=True,
        describer_speaks=True,
        voice_input=VoiceInput.TOKENS,
        voice_wants_gpu=True,
    )
    assert backend_info(choice, gpu_available=True) == {
        "describer": "minicpmo",
        "voice": "token2wav",
        "reason": "set",
        "gpu": True,
        "voice_input": "tokens",
        "describer_speaks": True,
    }


def test_minicpmo_without_a_gpu_or_with_a_bad_model_dir_fails_at_build_time(tmp_path: Path) -> None:
    from deployments.app import build_graph
    from serve_app.settings import SettingsError

    explicit = load_settings({"backend": "minicpmo", "model_path": str(tmp_path)})
    with pytest.raises(SettingsError, match="needs an NVIDIA GPU"):
        build_graph(explicit, gpu_available=False)
    with pytest.raises(SettingsError, match=r"MODEL_PATH .* has no config\.json"):
        build_graph(explicit, gpu_available=True)
    (tmp_path / "config.json").write_text('{"architectures": ["MiniCPMO"]}')
    with pytest.raises(SettingsError, match='"version" is None'):
        build_graph(explicit, gpu_available=True)
