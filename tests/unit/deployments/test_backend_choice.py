"""The backend choice: what ``auto`` resolves to and what each engine can do."""

from pathlib import Path

import pytest

from deployments.backend_choice import choose_backends
from models.messages import VoiceInput
from serve_app.settings import Backend, VoiceBackend, load_settings


def model_dir(tmp_path: Path) -> str:
    (tmp_path / "config.json").write_text("{}")
    return str(tmp_path)


def test_auto_is_embedded_without_a_gpu(tmp_path: Path) -> None:
    choice = choose_backends(load_settings({"model_path": model_dir(tmp_path)}), False)
    assert (choice.describer, choice.voice) == (Backend.EMBEDDED, VoiceBackend.ESPEAK)
    assert "no GPU" in choice.reason


def test_auto_is_embedded_without_weights(tmp_path: Path) -> None:
    choice = choose_backends(load_settings({"model_path": str(tmp_path / "none")}), True)
    assert choice.describer is Backend.EMBEDDED and "no model" in choice.reason


def test_auto_is_minicpmo_with_a_gpu_and_weights_and_its_voice_follows(tmp_path: Path) -> None:
    # vLLM (the default engine) gives text only: the text voice speaks it.
    settings = load_settings({"model_path": model_dir(tmp_path)})
    choice = choose_backends(settings, True)
    assert (choice.describer, choice.voice) == (Backend.MINICPMO, VoiceBackend.ESPEAK)
    assert choice.wants_gpu and not choice.describer_speaks
    # The remote-code engine has MiniCPM-o's own TTS head: its tokens go to Token2wav.
    remote = {"model_path": model_dir(tmp_path), "minicpmo_engine": "remote_code"}
    choice = choose_backends(load_settings(remote), True)
    assert (choice.voice, choice.describer_speaks) == (VoiceBackend.TOKEN2WAV, True)
    in_process = load_settings({**remote, "tts_in_process": True})
    assert choose_backends(in_process, True).voice is VoiceBackend.ESPEAK


@pytest.mark.parametrize(
    ("args", "wants_gpu", "speaks"),
    [
        ({"backend": "embedded"}, False, False),
        ({"backend": "synthetic"}, False, False),
        ({"backend": "hf"}, True, False),
        ({"backend": "minicpmo"}, True, False),  # vLLM: text only
        ({"backend": "minicpmo", "minicpmo_engine": "remote_code"}, True, True),
    ],
)
def test_the_choice_says_whether_the_describer_wants_a_gpu_and_speaks(
    args: dict[str, str], wants_gpu: bool, speaks: bool
) -> None:
    choice = choose_backends(load_settings({**args, "voice": "espeak"}), True)
    assert (choice.wants_gpu, choice.describer_speaks) == (wants_gpu, speaks)


@pytest.mark.parametrize(
    ("voice", "takes", "wants_gpu"),
    [
        ("espeak", VoiceInput.TEXT, False),
        ("synthetic", VoiceInput.TEXT, False),
        ("token2wav", VoiceInput.TOKENS, True),
    ],
)
def test_the_choice_says_what_the_voice_takes_and_whether_it_wants_a_gpu(
    voice: str, takes: VoiceInput, wants_gpu: bool
) -> None:
    choice = choose_backends(load_settings({"backend": "embedded", "voice": voice}), False)
    assert (choice.voice_input, choice.voice_wants_gpu) == (takes, wants_gpu)
