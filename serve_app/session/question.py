"""Question: a user's question about the current scene, and the queue its answer streams in."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


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
