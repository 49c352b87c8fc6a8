"""Resumption: the streams a restarted gateway brings back, and what is said meanwhile.

While a stored stream is being started again its clients are told it is reconnecting (not
that it does not exist), its event followers wait for it, and its id cannot be taken by
someone else.
Once it runs, the lines its previous run released last are replayed with their own
sequence numbers (:func:`replayed_lines`): a client that missed one as the old gateway died
gets it, one that had it drops it by seq.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from serve_app.messages import CycleEnded, StreamResult, StreamState
from serve_app.session.stream_specs import StreamSpec
from serve_app.transcripts.store import TranscriptLine, TranscriptStore

log = logging.getLogger(__name__)

# Longer than a gateway takes to come back, so every line a client can have missed is there.
REPLAY_S = 60.0


class Resumption:
    def __init__(self) -> None:
        self.specs: dict[str, StreamSpec] = {}
        self._back: dict[str, asyncio.Event] = {}

    def expect(self, specs: list[StreamSpec]) -> None:
        """These streams are coming back: their clients wait, their ids stay taken."""
        for spec in specs:
            self.specs[spec.stream_id] = spec
            self._back.setdefault(spec.stream_id, asyncio.Event())

    async def run(
        self,
        create: Callable[[StreamSpec], Awaitable[StreamResult]],
        specs: list[StreamSpec],
    ) -> None:
        """Create each stream again; each is done (waiters released) whatever happens."""
        self.expect(specs)
        if specs:
            ids = ", ".join(spec.stream_id for spec in specs)
            log.info("resuming %d stored stream(s): %s", len(specs), ids)
        for spec in specs:
            try:
                result = await create(spec)
                if not result.ok:
                    log.error("stream %s: could not resume: %s", spec.stream_id, result.error)
            except Exception:
                log.exception("stream %s: could not resume", spec.stream_id)
            finally:
                self.done(spec.stream_id)

    def waiting(self, stream_id: str) -> bool:
        """Stored, and not running again yet."""
        return stream_id in self._back

    def waiting_ids(self) -> list[str]:
        return list(self._back)

    async def wait(self, stream_id: str) -> None:
        """Until the stream runs again (or was given up on); at once if it is not waited for."""
        back = self._back.get(stream_id)
        if back is not None:
            await back.wait()

    def done(self, stream_id: str) -> None:
        self.specs.pop(stream_id, None)
        back = self._back.pop(stream_id, None)
        if back is not None:
            back.set()


def reconnecting(spec: StreamSpec, speech: bool) -> dict[str, Any]:
    """A stored stream not running yet, as the API lists it: known, reconnecting."""
    return {
        "id": spec.stream_id,
        "source": spec.source,
        "stream_id": spec.stream_id,
        "source_state": str(StreamState.RECONNECTING),
        # Audio clients of a stream coming back wait for it rather than hear "speech off".
        "speech": speech,
    }


def replayed_lines(stream_id: str, lines: list[TranscriptLine]) -> list[CycleEnded]:
    """Stored lines as the events that released them (timings unknown, ``replayed`` set)."""
    return [
        CycleEnded(
            stream_id=stream_id,
            seq=line.seq,
            wall_ts=line.wall_ts,
            cycle=line.cycle,
            text=line.text,
            skip=False,
            media_ts_s=line.media_ts,
            latency_s=0.0,
            inference_s=0.0,
            late=False,
            lateness_s=0.0,
            shown_at=line.wall_ts,
            kind="answer" if line.kind == "answer" else "commentary",
            replayed=True,
        )
        for line in lines
        if line.seq >= 0
    ]


async def last_said(store: TranscriptStore, stream_id: str, now: float) -> list[CycleEnded]:
    """What an earlier run released in its last REPLAY_S, as events to replay."""
    lines = await asyncio.to_thread(store.released_since, stream_id, now - REPLAY_S)
    return replayed_lines(stream_id, lines)
