"""The muxed video: the original streams copied, plus the commentary as audio and subtitles.

PyAV first (it is a dependency, mux_pyav.py). When PyAV cannot write the file (a codec MP4
will not hold, an FFmpeg build without an encoder), the ``ffmpeg`` program does the same if it
is on PATH (mux_ffmpeg.py); when neither can, the MP4 is skipped and the reason reported: the
other files stand.
"""

from __future__ import annotations

import logging
from pathlib import Path

import av

from offline.mux_ffmpeg import mux_with_ffmpeg
from offline.mux_plan import MuxInputs, MuxResult
from offline.mux_pyav import mux_with_pyav

log = logging.getLogger(__name__)


def mux_commentary(inputs: MuxInputs, out: Path) -> MuxResult:
    """Write ``out``; never raises for a file that cannot be made, says why instead."""
    try:
        return MuxResult(True, "PyAV", mux_with_pyav(inputs, out))
    except (av.FFmpegError, ValueError, OSError, TypeError) as error:
        reason = f"PyAV could not write it ({type(error).__name__}: {error})"
        log.info("MP4: %s; trying the ffmpeg program", reason)
    out.unlink(missing_ok=True)
    return mux_with_ffmpeg(inputs, out, reason)
