"""SkipAudioFilter: a skip answer never makes a sound.

Speech work (sentences for a text voice, token chunks, waveforms) is held until the answer's
text is longer than ``hold_chars``: by then it cannot be the skip answer "...". If the
answer ends as a skip, everything held is dropped; a real answer flushes and then streams.
"""

from __future__ import annotations

from typing import Generic, TypeVar

from models.messages import is_skip_answer

T = TypeVar("T")


class SkipAudioFilter(Generic[T]):
    def __init__(self, hold_chars: int = 5) -> None:
        self.hold_chars = hold_chars
        self._text = ""
        self._held: list[T] = []
        self._speaking = False
        self._finished = False

    @property
    def speaking(self) -> bool:
        return self._speaking

    def add_text(self, delta: str) -> list[T]:
        """Append answer text; returns held speech released by it (possibly none)."""
        self._text += delta
        if (
            not self._speaking
            and len(self._text.strip()) > self.hold_chars
            and not is_skip_answer(self._text)
        ):
            self._speaking = True
            released, self._held = self._held, []
            return released
        return []

    def add_speech(self, item: T) -> list[T]:
        """Offer speech work; returns what may go out now."""
        if self._finished:
            raise RuntimeError("the answer is already finished")
        if self._speaking:
            return [item]
        self._held.append(item)
        return []

    def finish(self) -> list[T]:
        """The answer is complete: flush held speech unless the answer was a skip."""
        self._finished = True
        released, self._held = self._held, []
        if self._speaking:
            return released
        if is_skip_answer(self._text):
            return []
        # A short real answer ("Dark.") never crossed hold_chars but is still spoken.
        self._speaking = True
        return released
