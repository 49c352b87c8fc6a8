"""missed_events: what a resuming SSE client missed, asked for again while the gateway restarts.

An EventSource that gets an error status gives up for good, so a client resuming while the
gateway restarts is kept waiting (RESUME_TRIES × RESUME_RETRY_S) rather than answered 503.
"""

from __future__ import annotations

import asyncio
import logging

from serve_app.http.backend import ServiceBackend
from serve_app.messages import StreamEvent

RESUME_TRIES = 40
RESUME_RETRY_S = 0.5

log = logging.getLogger(__name__)


async def missed_events(
    backend: ServiceBackend, stream_id: str, after_seq: int
) -> list[StreamEvent] | None:
    """The logged events after ``after_seq``; None when the gateway did not answer in time."""
    for attempt in range(RESUME_TRIES):
        try:
            return await backend.events_since(stream_id, after_seq)
        except Exception as error:
            log.info("resume of %s after %d: %s; asking again", stream_id, after_seq, error)
            if attempt < RESUME_TRIES - 1:
                await asyncio.sleep(RESUME_RETRY_S)
    return None
