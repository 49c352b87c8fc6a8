"""Backend choice, what each engine can do, and engines built from plain options."""

from pathlib import Path

import numpy as np
import pytest

from deployments.app import backend_info
from deployments.backend_choice import BackendChoice, choose_backends
from deployments.engine_factory import (
    build_describer,
    build_voice,
    import_object,
    minicpmo_load_options,
    token2wav_options,
)
from models.loading.token2wav_assets import TOKEN2WAV_FILES
from models.messages import VoiceInput
from serve_app.settings import Backend, VoiceBackend, load_settings


def model_dir(tmp_path: Path) -> str:
    (tmp_path / "config.json").write_text("{}")
    return str(tmp_path)


def write_assets(model: Path) -> None:
    from scipy.io import wavfile

    tts_dir = model / "assets" / "token2wav"
    tts_dir.mkdir(parents=True)
    for name in TOKEN2WAV_FILES:
        (tts_dir / name).write_bytes(b"x")
    wavfile.write(model / "assets" / "ref_audio.wav", 16_000, np.zeros(1600, dtype=np.int16))


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


def test_settings_reach_the_minicpmo_engine() -> None:
    settings = load_settings(
        {
            "backend": "minicpmo",
            "minicpmo_engine": "remote_code",
            "enable_tts": False,
            "minicpmo_loader": "tests.fixtures.fake_minicpmo:load_fake_minicpmo",
            "minicpmo_repetition_penalty": 1.0,
            "minicpmo_context_max_cycles": 3,
        }
    )
    describer = build_describer(settings, Backend.MINICPMO)
    assert describer.name == "minicpmo"
    assert describer._options.repetition_penalty == 1.0
    assert describer._options.context_max_cycles == 3


def test_the_loader_gets_plain_options_mapped_from_the_settings(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "model_path": str(tmp_path / "model"),
            "attn_implementation": "eager",
            "enable_tts": True,
            "tts_in_process": True,
            "tts_float16": True,
            "ref_audio_path": str(tmp_path / "voice.wav"),
        }
    )
    options = minicpmo_load_options(settings)
    assert (options.model_path, options.attn_implementation) == (str(tmp_path / "model"), "eager")
    assert options.speech and options.vocoder_in_process
    assert options.token2wav == token2wav_options(settings)
    assert options.token2wav.tts_model_dir == tmp_path / "model" / "assets" / "token2wav"
    assert options.token2wav.ref_audio_path == tmp_path / "voice.wav"
    assert options.token2wav.float16 is True


def test_in_process_speech_is_attached_with_the_settings_assets(tmp_path: Path) -> None:
    write_assets(tmp_path / "model")
    settings = load_settings(
        {
            "backend": "minicpmo",
            "minicpmo_engine": "remote_code",
            "model_path": str(tmp_path / "model"),
            "enable_tts": True,
            "tts_in_process": True,
            "minicpmo_loader": "tests.fixtures.fake_minicpmo:load_fake_minicpmo",
        }
    )
    model = build_describer(settings, Backend.MINICPMO)._model
    (call,) = model.init_tts_calls
    assert call["model_dir"] == str(tmp_path / "model" / "assets" / "token2wav")
    assert model.prompt_speech_16k is not None


def test_the_token2wav_voice_is_built_from_the_settings_assets(tmp_path: Path) -> None:
    write_assets(tmp_path / "model")
    settings = load_settings(
        {
            "model_path": str(tmp_path / "model"),
            "tts_float16": True,
            "token2wav_factory": "tests.fixtures.fake_minicpmo:FakeToken2wav",
        }
    )
    voice = build_voice(settings, VoiceBackend.TOKEN2WAV)
    assert voice.name == "token2wav"
    assert voice._t2w.model_path == tmp_path / "model" / "assets" / "token2wav"
    assert voice._t2w.float16 is True


def test_embedded_engines_build() -> None:
    settings = load_settings({})
    assert build_describer(settings, Backend.EMBEDDED).name == "embedded"
    assert build_voice(settings, VoiceBackend.ESPEAK).name == "espeak"
    assert build_voice(settings, VoiceBackend.SYNTHETIC).name == "synthetic"


def test_unresolved_or_unimportable_names_are_errors() -> None:
    with pytest.raises(ValueError, match="resolved"):
        build_describer(load_settings({}), Backend.AUTO)
    with pytest.raises(ValueError, match="cannot import"):
        import_object("tests.fixtures.fake_minicpmo:nothing_here")
    with pytest.raises(ValueError, match="hf_model_path"):
        build_describer(load_settings({}), Backend.HF)


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
