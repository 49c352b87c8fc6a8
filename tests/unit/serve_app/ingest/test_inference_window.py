import numpy as np
import pytest

from serve_app.ingest.inference_window import InferenceWindow
from serve_app.messages import WindowFrame


def wf(t: float, shade: int = 0) -> WindowFrame:
    return WindowFrame(b"j", t, 1000 + t, np.full((18, 32), shade, np.uint8))


def test_takes_every_stride_th_frame_newest_last() -> None:
    window = InferenceWindow(size=32, frames_per_inference=4, stride=2)
    for i in range(32):
        window.push(wf(i * 0.5))  # CAPTURE_FPS 2
    batch = window.take_batch()
    assert [f.media_ts_s for f in batch.frames] == [12.5, 13.5, 14.5, 15.5]
    assert batch.anchor.media_ts_s == 15.5


def test_window_slides() -> None:
    window = InferenceWindow(size=4, frames_per_inference=2, stride=1)
    for i in range(10):
        window.push(wf(i))
    assert len(window) == 4
    assert [f.media_ts_s for f in window.take_batch().frames] == [8, 9]


def test_first_cycle_need_not_wait_for_a_full_window() -> None:
    window = InferenceWindow(32, 4, 2)
    assert window.take_batch() is None
    window.push(wf(0.0))
    window.push(wf(0.5))
    window.push(wf(1.0))
    assert [f.media_ts_s for f in window.take_batch().frames] == [0.0, 1.0]


def test_scene_change_compares_with_the_previous_batch() -> None:
    window = InferenceWindow(8, 2, 1)
    window.push(wf(0, 0))
    window.push(wf(1, 0))
    assert window.take_batch().scene_change == 1.0  # nothing before: all new
    window.push(wf(2, 0))
    assert window.take_batch().scene_change == 0.0
    assert window.take_batch() is None, "no new frame: nothing new to comment on"
    assert window.take_batch(repeat_ok=True).anchor.media_ts_s == 2, "a question may repeat"
    window.push(wf(3, 255))
    window.push(wf(4, 255))
    assert window.take_batch().scene_change == 1.0


def test_frame_near() -> None:
    window = InferenceWindow(8, 2, 1)
    for i in range(5):
        window.push(wf(i))
    assert window.frame_near(2.4).media_ts_s == 2
    assert window.frame_near(99).media_ts_s == 4


def test_span_must_fit() -> None:
    with pytest.raises(ValueError):
        InferenceWindow(size=6, frames_per_inference=4, stride=2)
