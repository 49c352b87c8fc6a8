"""ModelSessions: which of MiniCPM-o's sessions each stream's next turn runs in.

The remote code keeps one KV cache on the model object, one session at a time
(``reset_session``, Demo l.174; a new ``session_id`` resets it, Demo l.1849 and l.1884).
Each stream gets its own session id, renewed every ``max_cycles`` turns or before the cache
would pass ``max_tokens``, so a stream can run for hours with a bounded context. Several
streams on one model take turns, and each switch starts the model on a fresh context anyway.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

log = logging.getLogger(__name__)


@dataclass(slots=True)
class ModelSession:
    """One stream's place in the model: its current session id and how full that context is."""

    stream_id: str
    generation: int = 0
    cycles: int = 0
    last_context_tokens: int = 0

    @property
    def session_id(self) -> str:
        return f"{self.stream_id}#{self.generation}"

    def start_afresh(self) -> None:
        """Next turn opens a new session id: the model drops the old context."""
        self.generation += 1
        self.forget_context()

    def forget_context(self) -> None:
        self.cycles = 0
        self.last_context_tokens = 0


class ModelSessions:
    """Per-stream sessions and the rule for when a stream's context starts afresh."""

    def __init__(self, max_cycles: int, max_tokens: int) -> None:
        self._max_cycles = max_cycles
        self._max_tokens = max_tokens
        self._sessions: dict[str, ModelSession] = {}

    def for_turn(
        self, stream_id: str, model_session_id: object, upcoming_tokens: int
    ) -> ModelSession:
        """The session the stream's next turn runs in, given what the model holds now."""
        session = self._sessions.setdefault(stream_id, ModelSession(stream_id))
        if model_session_id != session.session_id:
            session.forget_context()  # another stream ran in between: the model starts afresh
        full = session.last_context_tokens + upcoming_tokens > self._max_tokens
        if session.cycles >= self._max_cycles or (session.cycles and full):
            session.start_afresh()
            log.debug("stream %s: fresh context %s", stream_id, session.session_id)
        return session

    def pop(self, stream_id: str) -> ModelSession | None:
        return self._sessions.pop(stream_id, None)
