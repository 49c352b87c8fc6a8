"""The input check: what is not a usable video says so, in one line, before any work."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from offline.probe import InputError, probe_video

# A YUV4MPEG2 header and not one frame: a video stream that has no frames.
EMPTY_Y4M = b"YUV4MPEG2 W64 H64 F25:1 Ip A1:1 C420jpeg\n"


def test_a_video_is_probed(short_clip: Path) -> None:
    info = probe_video(short_clip)
    assert info.fps == 25.0
    assert info.duration_s == pytest.approx(1.0, abs=0.05)
    assert not info.has_audio


def test_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="does not exist"):
        probe_video(tmp_path / "nothing.mp4")


def test_a_folder(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a regular file"):
        probe_video(tmp_path)


def test_a_file_that_is_not_a_video(tmp_path: Path) -> None:
    path = tmp_path / "notes.mp4"
    path.write_text("just some text\n")
    with pytest.raises(InputError, match="not a video file"):
        probe_video(path)


def test_a_video_stream_with_no_frames(tmp_path: Path) -> None:
    path = tmp_path / "empty.y4m"
    path.write_bytes(EMPTY_Y4M)
    with pytest.raises(InputError, match="no frames"):
        probe_video(path)


def test_sound_without_a_picture(tmp_path: Path) -> None:
    path = tmp_path / "sound.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=48_000, layout="mono")
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 4800), np.int16), "s16", "mono")
        frame.sample_rate, frame.pts, frame.time_base = 48_000, 0, Fraction(1, 48_000)
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    with pytest.raises(InputError, match="no video stream"):
        probe_video(path)
