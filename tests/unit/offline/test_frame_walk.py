"""The walk: every frame by its presentation time, the capture grid's frames for the model."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from offline.frame_walk import FrameWalk
from serve_app.settings import StreamSettings
from serve_app.sources.source_spec import SourceKind, SourceSpec
from tests.support.fixture_video import read_index_jpeg


def walk(clip: Path, **settings: object) -> tuple[FrameWalk, list]:
    frames = FrameWalk(SourceSpec(SourceKind.FILE, str(clip)), StreamSettings(**settings))
    return frames, list(frames)


def test_every_frame_comes_in_presentation_order(short_clip: Path) -> None:
    frames, walked = walk(short_clip)
    assert frames.frames == 25
    assert [w.media_ts_s for w in walked] == pytest.approx([i / 25 for i in range(25)])
    assert frames.media_s == pytest.approx(1.0)


def test_the_model_gets_the_capture_grid_frames(short_clip: Path) -> None:
    _, walked = walk(short_clip, capture_fps=4.0)
    for_model = [w.for_model for w in walked if w.for_model is not None]
    # The first frame on or past each 0.25 s point of the grid, at its own time.
    assert [f.media_ts_s for f in for_model] == pytest.approx([0.0, 0.28, 0.52, 0.76])
    assert [read_index_jpeg(f.jpeg) for f in for_model] == [0, 7, 13, 19]
    assert all(f.capture_wall == f.media_ts_s for f in for_model)  # captured when shown


def test_model_frames_are_scaled_down(short_clip: Path) -> None:
    _, walked = walk(short_clip, inference_max_side_px=160)
    frame = next(w.for_model for w in walked if w.for_model is not None)
    assert frame.thumbnail.shape == (18, 32)
    assert frame.jpeg[:2] == b"\xff\xd8"
    image = cv2.imdecode(np.frombuffer(frame.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert max(image.shape[:2]) <= 160  # the clip is 640 x 360
    assert image.shape[:2] == (90, 160)  # the aspect ratio kept
