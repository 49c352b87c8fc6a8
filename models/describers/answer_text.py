"""AnswerText: a model's raw text pieces in, clean commentary deltas out.

MiniCPM-o decodes with special tokens kept (the remote code: ``skip_special_tokens=False``,
utils.py l.309; vLLM keeps added tokens that are not marked special), so ``<|tts_eos|>`` and
``<|im_end|>`` can reach the text, sometimes split across two pieces. Both engines feed their
pieces through this one class.
"""

from __future__ import annotations

# The first two end an answer (terminators, Demo l.2074 of OpenBMB/MiniCPM-o-Demo@28b60cf
# MiniCPMO45/modeling_minicpmo.py); the others never belong in commentary.
TERMINATORS = ("<|tts_eos|>", "<|im_end|>", "<|endoftext|>", "</s>")
SPECIAL_TOKENS = (*TERMINATORS, "<|tts_bos|>", "<|im_start|>")


class AnswerText:
    """Turns the model's text pieces into clean deltas.

    Drops special tokens (even when one arrives split across pieces), ignores anything after
    a terminator, and leading whitespace, so a TextDelta is never empty.
    """

    def __init__(self) -> None:
        self._raw = ""
        self._emitted = 0
        self._finished = False

    @property
    def text(self) -> str:
        return self._clean(self._raw).strip()

    def feed(self, piece: str) -> str:
        if self._finished:
            return ""
        self._raw += piece
        cut = min((i for i in (self._raw.find(t) for t in TERMINATORS) if i >= 0), default=-1)
        if cut >= 0:
            self._raw, self._finished = self._raw[:cut], True
        return self._release()

    def flush(self) -> str:
        """Generation ended without a terminator (max_new_tokens): release any held tail."""
        self._finished = True
        return self._release()

    def _release(self) -> str:
        clean = self._clean(self._raw).lstrip()
        if not self._finished:  # hold back what could be the start of a special token
            clean = clean[: len(clean) - self._partial_special_suffix(clean)]
        delta, self._emitted = clean[self._emitted :], max(self._emitted, len(clean))
        return delta

    @staticmethod
    def _clean(text: str) -> str:
        for token in SPECIAL_TOKENS:
            text = text.replace(token, "")
        return text

    @staticmethod
    def _partial_special_suffix(text: str) -> int:
        for size in range(min(len(text), max(map(len, SPECIAL_TOKENS)) - 1), 0, -1):
            if any(token.startswith(text[-size:]) for token in SPECIAL_TOKENS):
                return size
        return 0
