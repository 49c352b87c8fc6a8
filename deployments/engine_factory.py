"""Which engines to run, what they can do, and building them from the settings.

The one place that knows every backend. The two tables below are the only statement of what
each engine can do; the builder reads them through :class:`BackendChoice` and passes the
choice on. Engines never see the settings: each gets plain options mapped here.
"""

from __future__ import annotations

import importlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.describers.base import AsyncDescriber, Describer
from models.loading.minicpmo_loader import MiniCPMOLoadOptions
from models.loading.token2wav_assets import Token2wavOptions
from models.loading.vllm_engine import VllmEngineOptions
from models.messages import VoiceInput
from models.voices.base import Voice
from serve_app.settings import (
    MAX_FRAMES_PER_INFERENCE,
    Backend,
    MiniCPMOEngine,
    ServiceSettings,
    VoiceBackend,
)


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


def import_object(path: str) -> Any:
    """'package.module:name' → the object (loaders and factories named in settings)."""
    module_name, _, name = path.partition(":")
    try:
        return getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot import {path!r}: {error}") from None


def vllm_engine_options(settings: ServiceSettings) -> VllmEngineOptions:
    return VllmEngineOptions(
        model_path=settings.model_path,
        max_model_len=settings.vllm_max_model_len,
        gpu_memory_utilization=settings.vllm_gpu_memory_utilization,
        max_num_seqs=settings.vllm_max_num_seqs,
        # Per-stream settings may raise frames_per_inference up to its bound.
        images_per_prompt=MAX_FRAMES_PER_INFERENCE,
        renderer_threads=settings.vllm_renderer_threads,
    )


def token2wav_options(settings: ServiceSettings) -> Token2wavOptions:
    return Token2wavOptions(
        tts_model_dir=settings.resolved_tts_model_dir(),
        ref_audio_path=settings.resolved_ref_audio_path(),
        float16=settings.tts_float16,
        model_path=settings.model_path,
    )


def minicpmo_load_options(settings: ServiceSettings) -> MiniCPMOLoadOptions:
    return MiniCPMOLoadOptions(
        model_path=settings.model_path,
        token2wav=token2wav_options(settings),
        attn_implementation=settings.attn_implementation,
        speech=settings.enable_tts,
        vocoder_in_process=settings.tts_in_process,
    )


def build_vllm_describer(settings: ServiceSettings) -> AsyncDescriber:
    from models.describers.minicpmo_vllm import MiniCPMOSampling, MiniCPMOVllmDescriber, VllmApi
    from models.loading.vllm_engine import start_engine

    options = vllm_engine_options(settings)
    if settings.minicpmo_engine_factory:
        engine, tokenizer, api = import_object(settings.minicpmo_engine_factory)(options)
    else:
        engine, tokenizer = start_engine(options)
        api = VllmApi.load()
    return MiniCPMOVllmDescriber(
        engine,
        tokenizer,
        api,
        sampling=MiniCPMOSampling(repetition_penalty=settings.minicpmo_repetition_penalty),
        context_max_cycles=settings.minicpmo_context_max_cycles,
        context_max_tokens=settings.minicpmo_context_max_tokens,
    )


def build_remote_code_describer(settings: ServiceSettings) -> Describer:
    from models.describers.minicpmo import MiniCPMODescriber, MiniCPMOOptions
    from models.loading.minicpmo_loader import load_minicpmo

    loader = import_object(settings.minicpmo_loader) if settings.minicpmo_loader else load_minicpmo
    return MiniCPMODescriber(
        loader(minicpmo_load_options(settings)),
        in_process_audio=settings.tts_in_process,
        options=MiniCPMOOptions(
            repetition_penalty=settings.minicpmo_repetition_penalty,
            context_max_cycles=settings.minicpmo_context_max_cycles,
            context_max_tokens=settings.minicpmo_context_max_tokens,
        ),
    )


def build_describer(settings: ServiceSettings, backend: Backend) -> Describer | AsyncDescriber:
    if backend is Backend.EMBEDDED:
        from models.describers.embedded import EmbeddedDescriber

        return EmbeddedDescriber()
    if backend is Backend.SYNTHETIC:
        from models.describers.synthetic import SyntheticDescriber

        return SyntheticDescriber(
            latency_mean_s=settings.synthetic_latency_mean_s,
            latency_sigma=settings.synthetic_latency_sigma,
        )
    if backend is Backend.HF:
        from models.describers.hf_vlm import HfVlmDescriber

        if not settings.hf_model_path:
            raise ValueError("backend 'hf' needs hf_model_path (HF_MODEL_PATH)")
        return HfVlmDescriber.from_pretrained(settings.hf_model_path)
    if backend is Backend.MINICPMO and settings.minicpmo_engine is MiniCPMOEngine.VLLM:
        return build_vllm_describer(settings)
    if backend is Backend.MINICPMO:
        return build_remote_code_describer(settings)
    raise ValueError(f"backend {backend} must be resolved before building")


def build_voice(settings: ServiceSettings, voice: VoiceBackend) -> Voice:
    if voice is VoiceBackend.ESPEAK:
        from models.voices.espeak import EspeakVoice

        return EspeakVoice(voice=settings.language)
    if voice is VoiceBackend.TOKEN2WAV:
        from models.voices.token2wav import Token2wavVoice, build_token2wav

        factory = build_token2wav
        if settings.token2wav_factory:
            factory = import_object(settings.token2wav_factory)
        return Token2wavVoice.from_options(token2wav_options(settings), factory=factory)
    if voice is VoiceBackend.SYNTHETIC:
        from models.voices.synthetic import SyntheticVoice

        return SyntheticVoice(realtime_factor=settings.synthetic_voice_realtime_factor)
    raise ValueError(f"voice {voice} must be resolved before building")
