"""AvReader: every frame with its media time, decoded only or converted to BGR."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from serve_app.sources.video_reader import AvReader
from tests.support.fixture_video import write_counter_clip


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_counter_clip(tmp_path_factory.mktemp("media") / "counter.mp4", seconds=1.0)


def test_decoded_gives_each_frame_unconverted_at_its_time(clip: Path) -> None:
    reader = AvReader(str(clip), 10.0, live=False)
    try:
        decoded = list(reader.decoded())
    finally:
        reader.close()
    assert [t for t, _ in decoded] == pytest.approx([i / 25 for i in range(25)])
    assert all(isinstance(frame, av.VideoFrame) for _, frame in decoded)


def test_frames_are_the_decoded_frames_in_bgr(clip: Path) -> None:
    reader = AvReader(str(clip), 10.0, live=False)
    try:
        frames = list(reader.frames())
    finally:
        reader.close()
    assert [t for t, _ in frames] == pytest.approx([i / 25 for i in range(25)])
    _, image = frames[0]
    assert isinstance(image, np.ndarray) and image.dtype == np.uint8
    assert image.ndim == 3 and image.shape[2] == 3
