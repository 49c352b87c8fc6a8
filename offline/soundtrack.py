"""The commentary's soundtrack: every line's speech at its place, silence between, as WAV."""

from __future__ import annotations

import wave
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from offline.commentator import SpokenLine
from serve_app.speech.audio_format import OUTPUT_AUDIO, PcmFormat


def place_speech(
    lines: Sequence[SpokenLine], duration_s: float, rate_hz: int = OUTPUT_AUDIO.rate_hz
) -> np.ndarray:
    """int16 samples, ``duration_s`` long, each line's speech from its start.

    Speech that runs past the end of the video is cut there: the track is exactly as long as
    the picture it goes with.
    """
    track = np.zeros(round(duration_s * rate_hz), dtype=np.int16)
    for line in lines:
        if line.speech_start_s is None or line.speech.size == 0:
            continue
        start = round(line.speech_start_s * rate_hz)
        room = max(0, track.size - start)
        piece = line.speech[:room]
        track[start : start + piece.size] = piece  # the audio clock never lets lines overlap
    return track


def write_wav(path: Path, samples: np.ndarray, fmt: PcmFormat = OUTPUT_AUDIO) -> None:
    """Mono int16 little-endian PCM as a plain WAV file."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(fmt.channels)
        out.setsampwidth(fmt.sample_bytes)
        out.setframerate(fmt.rate_hz)
        out.writeframes(samples.astype("<i2").tobytes())
