"""record_transcript: follow a stream's released events and store every line said."""

from __future__ import annotations

import asyncio

from serve_app.messages import CycleEnded, CycleStarted
from serve_app.session.event_log import EventLog
from serve_app.transcripts.store import TranscriptLine, TranscriptStore


async def record_transcript(
    stream_id: str, run: int, events: EventLog, store: TranscriptStore, after_seq: int = -1
) -> None:
    """Runs until the log closes, having stored everything it held (skips are not lines).

    ``after_seq``: what the log was seeded with from the store is not stored again.
    """
    first_frame: dict[int, float] = {}
    async for event in events.follow(after_seq):
        if isinstance(event, CycleStarted):
            first_frame[event.cycle] = event.frames_media_ts_s[0]
        elif (
            isinstance(event, CycleEnded)
            and not event.skip
            and not event.replayed
            and event.text.strip()
        ):
            line = TranscriptLine(
                stream_id=stream_id,
                cycle=event.cycle,
                media_start=first_frame.pop(event.cycle, event.media_ts_s),
                media_ts=event.media_ts_s,
                wall_ts=event.wall_ts,
                text=event.text.strip(),
                kind=event.kind,
                run=run,
                seq=event.seq,
            )
            await asyncio.to_thread(store.add, line)  # SQLite off the event loop
