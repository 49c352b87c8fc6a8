"""Vocoder deployment: speech synthesis, autoscaled apart from the model."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import numpy as np
from ray import serve

from models.factory import build_voice
from models.voices.base import SpeechRequest
from serve_app.settings import ServiceSettings, VoiceBackend
from serve_app.threaded_iter import iterate_in_thread

log = logging.getLogger("ray.serve")


@serve.deployment
class Vocoder:
    def __init__(self, settings: ServiceSettings, voice: VoiceBackend) -> None:
        self._voice = build_voice(settings, voice)
        self._name = voice
        log.info("Vocoder: %s voice ready", voice)

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        async for chunk in iterate_in_thread(lambda: self._voice.synthesize(request)):
            yield chunk

    async def close_stream(self, stream_id: str) -> None:
        self._voice.close_stream(stream_id)

    async def info(self) -> dict[str, object]:
        return {"voice": str(self._name), "accepts": str(self._voice.accepts)}
