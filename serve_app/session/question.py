"""Question: a user's question about the current scene, and the queue its answer streams in."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field

from serve_app.clock import Clock


@dataclass
class Question:
    """Answer pieces arrive as str; an exception ends it with an error, None ends it well."""

    text: str
    answer: asyncio.Queue[str | BaseException | None] = field(default_factory=asyncio.Queue)

    def say(self, piece: str) -> None:
        self.answer.put_nowait(piece)

    def fail(self, error: BaseException) -> None:
        self.answer.put_nowait(error)

    def end(self) -> None:
        self.answer.put_nowait(None)


async def next_question(
    questions: asyncio.Queue[Question], clock: Clock, wait_s: float
) -> Question | None:
    """Wait ``wait_s`` for the gate to open; a question cuts the wait short (and is answered
    next, so the commentary's pacing holds around it)."""
    if not questions.empty():
        return questions.get_nowait()
    if wait_s <= 0:
        return None
    asked = asyncio.ensure_future(questions.get())
    timer = asyncio.ensure_future(clock.sleep(wait_s))
    try:
        await asyncio.wait({asked, timer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        timer.cancel()
        if not asked.done():
            asked.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asked
    return None if asked.cancelled() else asked.result()
