"""The knobs that can differ per stream, their bounds and the rules that relate them."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from serve_app.settings.choices import SyncPolicy
from serve_app.settings.errors import describe_validation_error

MAX_FRAMES_PER_INFERENCE = 32
"""Most frames a stream may send per cycle; engines with a per-prompt image limit use it."""


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
    speech_timeout_s: float = Field(
        5.0,
        gt=0,
        le=120,
        description="Longest wait for the Vocoder's next audio before the cycle's speech is "
        "skipped (the text still goes out; the next cycle tries speech again). Above eSpeak's "
        "and Token2wav's time to first audio, below what a listener would sit through.",
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
