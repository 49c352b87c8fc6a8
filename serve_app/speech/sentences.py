"""SentenceSplitter: cut streamed text into sentences a text voice can start speaking."""

from __future__ import annotations

import re

# A sentence ends at . ! ? or … followed by whitespace; "e.g. " style abbreviations are rare
# in commentary and only cost a slightly early cut.
_END = re.compile(r"(?<=[.!?…])\s+")


class SentenceSplitter:
    def __init__(self) -> None:
        self._pending = ""

    def feed(self, delta: str) -> list[str]:
        """Add streamed text; returns the sentences it completed."""
        self._pending += delta
        parts = _END.split(self._pending)
        self._pending = parts.pop()
        return [p.strip() for p in parts if p.strip()]

    def rest(self) -> str:
        """Whatever text is left once the answer is complete."""
        rest, self._pending = self._pending.strip(), ""
        return rest
