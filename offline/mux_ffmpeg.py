"""The MP4 through the ``ffmpeg`` program, when PyAV could not write it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from offline.mux_plan import MuxInputs, MuxResult

FFMPEG_TIMEOUT_S = 600.0  # copying streams is fast; this only bounds a hung program


def mux_with_ffmpeg(inputs: MuxInputs, out: Path, pyav_reason: str) -> MuxResult:
    program = shutil.which("ffmpeg")
    if program is None:
        return MuxResult(False, note=f"{pyav_reason}, and no ffmpeg program is on PATH")
    command = [
        program,
        "-v", "error", "-y", "-nostdin",
        "-i", str(inputs.video),
        # The commentary starts with the original's first frame.
        "-itsoffset", f"{inputs.start_s:.6f}", "-i", str(inputs.commentary_wav),
        "-itsoffset", f"{inputs.start_s:.6f}", "-i", str(inputs.srt),
        "-map", "0:v:0", "-map", "0:a:0?", "-map", "1:a:0", "-map", "2:s:0",
        # The fallback favours working over fidelity: the original audio is re-encoded too,
        # whatever its codec, so that an MP4 can hold it.
        "-c:v", "copy", "-c:a", "aac", "-c:s", "mov_text",
        "-metadata:s:s:0", "title=commentary",
        str(out),
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=FFMPEG_TIMEOUT_S)
    except (OSError, subprocess.TimeoutExpired) as error:
        return MuxResult(False, note=f"{pyav_reason}; ffmpeg failed too ({error})")
    if done.returncode != 0:
        out.unlink(missing_ok=True)
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        return MuxResult(False, note=f"{pyav_reason}; ffmpeg failed too ({last})")
    return MuxResult(True, "ffmpeg", f"{pyav_reason}; the ffmpeg program wrote it instead")
