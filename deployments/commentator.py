"""Commentator deployment: the vision-language engine, GPU-reserved when it needs one."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from ray import serve

from deployments.backend_choice import BackendChoice
from deployments.engine_factory import build_describer
from deployments.logs import send_to_serve_logs
from deployments.threaded_iter import iterate_in_thread
from models.describers.base import AsyncDescriber
from models.messages import DescribeRequest, DescriberOutput
from serve_app.settings import ServiceSettings

log = logging.getLogger("ray.serve")


@serve.deployment
class Commentator:
    def __init__(self, settings: ServiceSettings, choice: BackendChoice) -> None:
        send_to_serve_logs(settings.log_level)
        log.info("Commentator: loading the %s describer", choice.describer)
        self._describer = build_describer(settings, choice.describer)
        self._choice = choice
        log.info("Commentator: %s describer ready", choice.describer)

    async def describe(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]:
        describer = self._describer
        if isinstance(describer, AsyncDescriber):  # batches all streams on this event loop
            async for output in describer.describe_async(request):
                yield output
            return
        async for output in iterate_in_thread(lambda: describer.describe(request)):
            yield output

    async def close_stream(self, stream_id: str) -> None:
        self._describer.close_stream(stream_id)

    async def check_health(self) -> None:
        # Serve restarts the replica when this raises: an engine whose core process died.
        if isinstance(self._describer, AsyncDescriber):
            await self._describer.check_health()

    async def info(self) -> dict[str, object]:
        choice = self._choice
        return {"backend": str(choice.describer), "emits_speech": choice.describer_speaks}
