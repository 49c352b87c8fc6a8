"""Building the chosen engines from the settings (the choice itself: backend_choice.py).

Engines never see the settings: each gets plain options mapped here.
"""

from __future__ import annotations

import importlib
from typing import Any

from models.describers.base import AsyncDescriber, Describer
from models.loading.minicpmo_loader import MiniCPMOLoadOptions
from models.loading.token2wav_assets import Token2wavOptions
from models.loading.vllm_engine import VllmEngineOptions
from models.voices.base import Voice
from serve_app.settings import (
    MAX_FRAMES_PER_INFERENCE,
    Backend,
    MiniCPMOEngine,
    ServiceSettings,
    VoiceBackend,
)


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

        return EmbeddedDescriber(warm_up=True)
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
