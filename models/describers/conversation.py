"""ConversationHistory: one stream's recent turns, sent again each cycle as chat history.

vLLM keeps no session: each cycle is a new request. Sending the stream's earlier turns as
conversation history gives the model its own recent commentary (fewer repeats), and vLLM's
prefix cache finds those tokens already computed, so only the new frames and words are
prefilled. Earlier turns keep their text, not their frames: a cycle's prompt then holds one
cycle's images (``limit_mm_per_prompt`` stays at the frame count) and the history costs a few
dozen tokens a turn.

The history is bounded as before, by turns and by tokens, and when full it starts again from
empty rather than sliding: dropping the oldest turn would change the prompt's first tokens
and throw the whole cached prefix away every cycle.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Turn:
    """One finished exchange: what the user message said (without its frames) and the answer."""

    user_text: str
    answer: str


class ConversationHistory:
    def __init__(self, max_turns: int, max_tokens: int) -> None:
        if max_turns < 1 or max_tokens < 256:
            raise ValueError("max_turns must be >= 1 and max_tokens >= 256")
        self._max_turns = max_turns
        self._max_tokens = max_tokens
        self._turns: list[Turn] = []
        self._context_tokens = 0  # prompt + answer tokens of the last finished turn
        self.generation = 0  # how many times the history started afresh

    @property
    def turns(self) -> tuple[Turn, ...]:
        return tuple(self._turns)

    @property
    def context_tokens(self) -> int:
        return self._context_tokens

    def make_room(self, upcoming_tokens: int) -> bool:
        """Start afresh if the next turn would pass either bound; True when it did."""
        full = self._context_tokens + upcoming_tokens > self._max_tokens
        if self._turns and (len(self._turns) >= self._max_turns or full):
            self.clear()
            return True
        return False

    def record(self, turn: Turn, context_tokens: int) -> None:
        """Keep a finished turn; ``context_tokens`` is its prompt plus its answer, as counted."""
        self._turns.append(turn)
        self._context_tokens = context_tokens

    def clear(self) -> None:
        self._turns.clear()
        self._context_tokens = 0
        self.generation += 1
