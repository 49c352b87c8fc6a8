"""What the muxed video is made of, and how making it went (shared by both muxers)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

Cue = tuple[float, float, str]
"""(start, end, text) in commentary media time."""


@dataclass(frozen=True, slots=True)
class MuxInputs:
    """What goes into the MP4 besides the original file (times in commentary media time)."""

    video: Path
    start_s: float  # the original's first frame time: media time 0 of the commentary
    commentary: np.ndarray  # int16 mono at OUTPUT_AUDIO's rate
    commentary_wav: Path  # the same, as written (for the ffmpeg fallback)
    cues: Sequence[Cue]
    srt: Path  # the same cues, as written (for the ffmpeg fallback)


@dataclass(frozen=True, slots=True)
class MuxResult:
    written: bool
    muxer: str = ""  # what wrote it: "PyAV" or "ffmpeg"
    note: str = ""  # what was left out of it, or why it was not written
