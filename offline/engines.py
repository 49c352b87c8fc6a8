"""The engines, in this process: chosen and built as the service does, called directly.

``InProcessPorts`` is the session's ``SessionPorts`` with the describer and the voice called
in place of the Commentator and Vocoder deployments. Nothing runs in another thread or
process: a file has no live edge to keep up with, so one cycle at a time is all it needs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import numpy as np

from deployments.backend_choice import BackendChoice, check_can_start, choose_backends, gpu_present
from deployments.engine_factory import build_describer, build_voice
from models.describers.base import AsyncDescriber, Describer
from models.messages import DescribeRequest, DescriberOutput, SpeechRequest, VoiceInput
from models.voices.base import Voice
from serve_app.messages import IngestSnapshot
from serve_app.settings import ServiceSettings, SettingsError

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Engines:
    """The built engines and what the choice says about them."""

    choice: BackendChoice
    describer: Describer | AsyncDescriber
    voice: Voice | None  # None when speech is off, or the describer makes its own audio

    @property
    def voice_input(self) -> VoiceInput | None:
        return self.choice.voice_input if self.voice is not None else None


def build_engines(settings: ServiceSettings, speech: bool) -> Engines:
    """Choose (``backend: auto`` resolves as in the service) and build; logs the choice.

    Raises SettingsError when the settings ask for what this machine cannot run; what
    building an engine raises (a corrupt model, say) passes as it is."""
    gpu = gpu_present()
    choice = choose_backends(settings, gpu)
    try:
        check_can_start(settings, choice, gpu)
    except ValueError as error:  # ModelDirError too: a backend this machine cannot run
        raise SettingsError(str(error)) from None
    log.info("describer: %s (%s); voice: %s", choice.describer, choice.reason, choice.voice)
    describer = build_describer(settings, choice.describer)
    # A describer with its own voice in process (tts_in_process) needs no separate one.
    separate_voice = speech and not (choice.describer_speaks and settings.tts_in_process)
    voice = build_voice(settings, choice.voice) if separate_voice else None
    return Engines(choice=choice, describer=describer, voice=voice)


class InProcessPorts:
    """SessionPorts over engines in this process. Frames come from the walk, not from here."""

    def __init__(self, engines: Engines) -> None:
        self._engines = engines

    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        raise NotImplementedError("offline cycles are given their frames by the pacer")

    async def describe(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]:
        describer = self._engines.describer
        if isinstance(describer, AsyncDescriber):
            async for output in describer.describe_async(request):
                yield output
            return
        for output in describer.describe(request):
            yield output

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        voice = self._engines.voice
        if voice is None:
            raise RuntimeError("speech was asked for but no voice was built")
        for chunk in voice.synthesize(request):
            yield chunk

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        return None  # offline there is no display to delay


def close_engines(engines: Engines, stream_id: str) -> None:
    engines.describer.close_stream(stream_id)
    if engines.voice is not None:
        engines.voice.close_stream(stream_id)
