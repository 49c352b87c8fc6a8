"""SkipGate: a describer's own speech is held until its text rules out the skip answer.

A skip must never make a sound; in MiniCPM-o's speech loop text arrives with (after) the audio
it belongs to, so speech is parked while the text so far could still be ``...``.
"""

from __future__ import annotations

from models.messages import SKIP_ANSWER, DescriberOutput


class SkipGate:
    """Holds speech outputs until the answer so far cannot be the skip answer any more."""

    def __init__(self) -> None:
        self._held: list[DescriberOutput] = []
        self._open = False
        self.released_any = False

    def update(self, answer_so_far: str) -> list[DescriberOutput]:
        """What may be released now that the answer reads ``answer_so_far``."""
        if not self._open and not SKIP_ANSWER.startswith(answer_so_far):
            self._open = True
        return self._drain() if self._open else []

    def push(self, item: DescriberOutput) -> list[DescriberOutput]:
        """Hold ``item``, or pass it (and anything held) on once the gate is open."""
        self._held.append(item)
        return self._drain() if self._open else []

    def finish(self, answer: str) -> list[DescriberOutput]:
        """The whole answer is known: release what is held, or drop it for a skip."""
        if answer == SKIP_ANSWER or not answer:
            self._held.clear()
            return []
        self._open = True
        return self._drain()

    def _drain(self) -> list[DescriberOutput]:
        out, self._held = self._held, []
        self.released_any = self.released_any or bool(out)
        return out
