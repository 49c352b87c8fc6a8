"""Every knob of the service, its default, its bounds and why: the one place settings live.

Precedence, lowest first: the defaults in these modules < ``args:`` in serve_config.yaml <
environment variables (named as the field, upper case: ``CAPTURE_FPS=1``) < per-stream
overrides given when a stream is created. :class:`StreamSettings` (stream.py) holds what can
differ per stream; :class:`ServiceSettings` (service.py) adds what is fixed for the whole
service; choices.py holds the enums, errors.py the wording of what a user got wrong, doc.py
renders docs/settings.md. Settings are read once by the builder and passed down; nothing else
reads the environment.
"""

from serve_app.settings.choices import Backend, MiniCPMOEngine, SyncPolicy, VoiceBackend
from serve_app.settings.errors import SettingsError, describe_validation_error
from serve_app.settings.service import ServiceSettings, load_settings
from serve_app.settings.stream import (
    LIVE_STREAM_SETTINGS,
    MAX_FRAMES_PER_INFERENCE,
    StreamSettings,
)

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
    "describe_validation_error",
    "load_settings",
]
