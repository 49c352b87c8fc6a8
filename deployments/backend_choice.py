"""Which engines to run and what each can do: the backend choice, made once at build time.

The two tables below are the only statement of what each engine can do; the builder reads
them through :class:`BackendChoice` and passes the choice on to the deployments.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from models.messages import VoiceInput
from serve_app.settings import Backend, MiniCPMOEngine, ServiceSettings, VoiceBackend


@dataclass(frozen=True, slots=True)
class DescriberTraits:
    wants_gpu: bool  # runs on a GPU when there is one
    speaks: bool  # makes its own speech tokens or audio (MiniCPM-o's TTS head)


# MiniCPM-o is listed per engine: vLLM returns text only, its own voice needs the remote code.
DESCRIBER_TRAITS: dict[Backend | MiniCPMOEngine, DescriberTraits] = {
    Backend.EMBEDDED: DescriberTraits(wants_gpu=False, speaks=False),
    Backend.SYNTHETIC: DescriberTraits(wants_gpu=False, speaks=False),
    Backend.HF: DescriberTraits(wants_gpu=True, speaks=False),
    MiniCPMOEngine.VLLM: DescriberTraits(wants_gpu=True, speaks=False),
    MiniCPMOEngine.REMOTE_CODE: DescriberTraits(wants_gpu=True, speaks=True),
}


@dataclass(frozen=True, slots=True)
class VoiceTraits:
    takes: VoiceInput
    wants_gpu: bool


VOICE_TRAITS: dict[VoiceBackend, VoiceTraits] = {
    VoiceBackend.ESPEAK: VoiceTraits(VoiceInput.TEXT, wants_gpu=False),
    VoiceBackend.TOKEN2WAV: VoiceTraits(VoiceInput.TOKENS, wants_gpu=True),
    VoiceBackend.SYNTHETIC: VoiceTraits(VoiceInput.TEXT, wants_gpu=False),
}


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """The engines this service runs and what they can do, decided once by the builder."""

    describer: Backend
    voice: VoiceBackend
    reason: str
    wants_gpu: bool  # the describer runs on a GPU when there is one
    describer_speaks: bool  # the describer makes its own speech (MiniCPM-o's TTS head)
    voice_input: VoiceInput  # what the voice takes: answer text, or the describer's tokens
    voice_wants_gpu: bool


def gpu_present() -> bool:
    """True when this machine has an NVIDIA GPU (checked without importing torch)."""
    return shutil.which("nvidia-smi") is not None and Path("/dev/nvidiactl").exists()


def choose_backends(settings: ServiceSettings, gpu_available: bool) -> BackendChoice:
    """Resolve ``auto``: MiniCPM-o when a GPU and a model directory are present."""
    describer, reason = settings.backend, f"backend set to {settings.backend}"
    if describer is Backend.AUTO:
        if gpu_available and (Path(settings.model_path) / "config.json").is_file():
            describer, reason = Backend.MINICPMO, f"GPU found and model at {settings.model_path}"
        else:
            missing = "no GPU" if not gpu_available else f"no model at {settings.model_path}"
            describer, reason = Backend.EMBEDDED, f"auto: {missing}, using the embedded describer"
    key = settings.minicpmo_engine if describer is Backend.MINICPMO else describer
    traits = DESCRIBER_TRAITS[key]
    voice = settings.voice
    if voice is VoiceBackend.AUTO:
        uses_tokens = traits.speaks and not settings.tts_in_process
        voice = VoiceBackend.TOKEN2WAV if uses_tokens else VoiceBackend.ESPEAK
    heard = VOICE_TRAITS[voice]
    return BackendChoice(
        describer, voice, reason, traits.wants_gpu, traits.speaks, heard.takes, heard.wants_gpu
    )


def check_can_start(settings: ServiceSettings, choice: BackendChoice, gpu_available: bool) -> None:
    """Refuse at build time what a replica could only fail at, after minutes or never.

    A stand-in engine (``minicpmo_engine_factory``) skips the checks: it brings its own.
    """
    if choice.describer is not Backend.MINICPMO or settings.minicpmo_engine_factory:
        return
    if settings.minicpmo_engine is MiniCPMOEngine.REMOTE_CODE and settings.minicpmo_loader:
        return
    if not gpu_available:
        raise ValueError(
            "backend: 'minicpmo' needs an NVIDIA GPU and this machine has none "
            "(use backend: auto or embedded)"
        )
    if settings.minicpmo_engine is MiniCPMOEngine.VLLM:
        from models.loading.vllm_engine import check_model_dir

        check_model_dir(settings.model_path)  # ModelDirError names MODEL_PATH and the file
