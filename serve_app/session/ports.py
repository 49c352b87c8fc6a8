"""SessionPorts: the stages a stream's session talks to, as one small protocol.

The gateway deployment implements it over Ray Serve handles; tests implement it with plain
in-process engines, so a session runs the same in both.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

import numpy as np

from models.messages import DescribeRequest, DescriberOutput, SpeechRequest
from serve_app.messages import IngestSnapshot


class SessionPorts(Protocol):
    async def take_batch(self, stream_id: str, repeat_ok: bool = False) -> IngestSnapshot:
        """The next cycle's frames; ``repeat_ok``: the last ones again if none is newer."""
        ...

    def describe(self, request: DescribeRequest) -> AsyncIterator[DescriberOutput]:
        """The describer's streamed answer (Commentator)."""
        ...

    def synthesize(self, request: SpeechRequest) -> AsyncIterator[np.ndarray]:
        """One speech piece's audio at the voice rate (Vocoder)."""
        ...

    async def set_display_delay(self, stream_id: str, delay_s: float) -> None:
        """Give FrameIngest the display delay the session owns."""
        ...
