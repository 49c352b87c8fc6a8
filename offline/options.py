"""The CLI's flags as settings: the service's settings model, with a few flags on top.

Settings come from the environment exactly as in the service (``ServiceSettings``); the few
flags the CLI offers name stream settings and beat the environment. They are validated by
the same ``StreamSettings`` rules, so a bad value is reported the same way, naming the field.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from serve_app.settings import (
    ServiceSettings,
    SettingsError,
    StreamSettings,
    describe_validation_error,
    load_settings,
)

FLAG_FIELDS: dict[str, str] = {
    "language": "language",
    "interval": "inference_interval_s",
    "frames": "frames_per_inference",
    "instruction": "instruction",
}
"""argparse destination → the StreamSettings field it sets."""


@dataclass(frozen=True, slots=True)
class OfflineSettings:
    """What the run uses: the service's settings (engines) and one stream's settings."""

    service: ServiceSettings
    stream: StreamSettings


def flag_overrides(flags: dict[str, Any]) -> dict[str, Any]:
    """The stream settings the given flags set (flags left out set nothing)."""
    overrides = {
        field: flags[dest] for dest, field in FLAG_FIELDS.items() if flags.get(dest) is not None
    }
    if flags.get("no_speech"):
        overrides["enable_tts"] = False
    return overrides


def one_line(message: str) -> str:
    """Several ``settings: field: why`` lines as one, so an error fits one stderr line."""
    return "; ".join(part.strip() for part in message.splitlines() if part.strip())


def load_offline_settings(flags: dict[str, Any]) -> OfflineSettings:
    """Environment + flags → validated settings, or SettingsError (one line, names the field)."""
    try:
        service = load_settings()
    except SettingsError as error:
        raise SettingsError(one_line(str(error))) from None
    overrides = flag_overrides(flags)
    try:
        stream = service.stream_defaults().with_overrides(overrides)
    except ValidationError as error:
        raise SettingsError(one_line(describe_validation_error(error))) from None
    # The engines read a few stream fields from the service settings too (the eSpeak voice
    # speaks ``language``): give them the validated values.
    service = service.model_copy(update={name: getattr(stream, name) for name in overrides})
    return OfflineSettings(service=service, stream=stream)
