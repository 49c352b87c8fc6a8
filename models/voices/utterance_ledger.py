"""UtteranceLedger: spots a piece of an utterance whose start this replica never saw.

A streaming voice keeps an utterance's state between its pieces, so every piece must reach
the replica that took piece 0 (deployments/vocoder_router.py sees to it). The ledger is the
receiving side's check: for a voice that keeps state between pieces (Token2wav), a stray
piece means audio restarted from silence mid-utterance, which the Vocoder reports instead of
letting it pass unnoticed.
"""

from __future__ import annotations

from collections import OrderedDict

from models.messages import SpeechRequest

DEFAULT_CAPACITY = 4096  # open utterances remembered; far above streams x replicas


class UtteranceLedger:
    def __init__(self, capacity: int = DEFAULT_CAPACITY) -> None:
        self._open: OrderedDict[str, str] = OrderedDict()  # utterance id -> its stream
        self._capacity = capacity
        self.strays = 0

    def admit(self, request: SpeechRequest) -> bool:
        """Note the piece; False when it continues an utterance started elsewhere."""
        key = request.utterance_id
        known = request.piece == 0 or key in self._open
        if not known:
            self.strays += 1
        if request.final:
            self._open.pop(key, None)
        else:
            self._open[key] = request.stream_id
            self._open.move_to_end(key)
            while len(self._open) > self._capacity:
                self._open.popitem(last=False)
        return known

    def close_stream(self, stream_id: str) -> None:
        """Forget the stream's open utterances."""
        for key in [k for k, stream in self._open.items() if stream == stream_id]:
            del self._open[key]
