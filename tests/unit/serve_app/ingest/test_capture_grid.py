"""CaptureGrid (serve_app/ingest/capture_grid.py), the rule the offline walk shares with the
live capture loop: one frame per 1/CAPTURE_FPS of media time, on a fixed grid."""

from __future__ import annotations

import pytest

from serve_app.ingest.capture_grid import CaptureGrid


def taken(grid: CaptureGrid, times: list[float]) -> list[float]:
    return [t for t in times if grid.takes(t)]


def test_the_first_frame_on_or_past_each_grid_point_is_taken() -> None:
    frames = [round(i / 25, 6) for i in range(50)]  # 25 fps for 2 s
    assert taken(CaptureGrid(0.5), frames) == [0.0, 0.52, 1.0, 1.52]


def test_the_grid_does_not_drift_with_the_frames_it_takes() -> None:
    frames = [round(i / 30, 6) for i in range(300)]  # 30 fps for 10 s
    picked = taken(CaptureGrid(0.5), frames)
    assert len(picked) == 20
    assert all(abs(t - 0.5 * k) < 1 / 30 for k, t in enumerate(picked))


def test_after_a_gap_the_grid_restarts_from_the_next_frame() -> None:
    assert taken(CaptureGrid(0.5), [0.0, 0.5, 3.2, 3.5, 3.7]) == [0.0, 0.5, 3.2, 3.7]


def test_a_frame_a_microsecond_early_is_on_its_point() -> None:
    assert taken(CaptureGrid(0.5), [0.0, 0.4999995]) == [0.0, 0.4999995]


def test_the_interval_must_be_positive() -> None:
    with pytest.raises(ValueError):
        CaptureGrid(0.0)
