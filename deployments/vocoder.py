"""Vocoder deployment: speech synthesis, autoscaled apart from the model."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import numpy as np
from ray import serve

from deployments.backend_choice import BackendChoice
from deployments.engine_factory import build_voice
from deployments.logs import send_to_serve_logs
from deployments.metrics import ServeMetrics
from deployments.threaded_iter import iterate_in_thread
from models.messages import VOICE_SAMPLE_RATE_HZ, SpeechRequest
from models.voices.utterance_ledger import UtteranceLedger
from serve_app.settings import ServiceSettings
from serve_app.telemetry.catalog import VOCODER_RTF
from serve_app.telemetry.synthesis_timer import SynthesisTimer

log = logging.getLogger("ray.serve")


@serve.deployment
class Vocoder:
    def __init__(self, settings: ServiceSettings, choice: BackendChoice) -> None:
        send_to_serve_logs(settings.log_level)
        self._voice = build_voice(settings, choice.voice)
        self._choice = choice
        self._ledger = UtteranceLedger()
        self._metrics = ServeMetrics()
        log.info("Vocoder: %s voice ready", choice.voice)

    async def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        if not self._ledger.admit(request):
            log.warning(
                "utterance %s: piece %d arrived without its start (%d so far)",
                request.utterance_id,
                request.piece,
                self._ledger.strays,
            )
        timer = SynthesisTimer(VOICE_SAMPLE_RATE_HZ)
        async for chunk in iterate_in_thread(lambda: self._voice.synthesize(request)):
            timer.count(chunk.size)
            yield chunk
        if (rtf := timer.real_time_factor()) is not None:
            self._metrics.observe(VOCODER_RTF, rtf, {"stream": request.stream_id})

    async def close_stream(self, stream_id: str) -> None:
        self._ledger.close_stream(stream_id)
        self._voice.close_stream(stream_id)

    async def info(self) -> dict[str, object]:
        return {"voice": str(self._choice.voice), "accepts": str(self._choice.voice_input)}
