"""Frames are shrunk to one model slice before the engine sees them."""

import cv2
import numpy as np
import pytest

from models.describers.frame_prep import SLICE_SIDE_PX, decode_for_model, fit_within_area
from tests.support.fixture_video import draw_frame


def jpeg(width: int, height: int) -> bytes:
    ok, data = cv2.imencode(".jpg", cv2.resize(draw_frame(3), (width, height)))
    assert ok
    return data.tobytes()


def test_a_720p_frame_becomes_one_slice_of_the_same_shape() -> None:
    image = decode_for_model(jpeg(1280, 720))
    assert image.mode == "RGB"
    assert image.width * image.height <= SLICE_SIDE_PX**2
    assert image.width * image.height > 0.95 * SLICE_SIDE_PX**2  # not shrunk further than needed
    assert image.width / image.height == pytest.approx(1280 / 720, rel=0.01)


def test_the_picture_survives_the_shrink() -> None:
    # 400×300 is already under one slice: decoded as is.
    source = cv2.cvtColor(cv2.resize(draw_frame(3), (400, 300)), cv2.COLOR_BGR2RGB)
    image = decode_for_model(jpeg(400, 300))
    assert image.size == (400, 300)
    assert np.abs(np.asarray(image, np.int16) - source).mean() < 6  # JPEG noise only


def test_fit_within_area_keeps_small_sizes_and_rejects_empty_ones() -> None:
    assert fit_within_area(320, 240, 448 * 448) == (320, 240)
    assert fit_within_area(4000, 1000, 1000) == (63, 15)
    with pytest.raises(ValueError, match="positive"):
        fit_within_area(0, 10, 100)
