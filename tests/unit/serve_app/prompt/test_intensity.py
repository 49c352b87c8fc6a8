import numpy as np

from models.messages import Intensity
from serve_app.prompt.intensity import CommentaryIntensity, scene_difference

rule = CommentaryIntensity(low_change=0.04, high_change=0.15, long_answer_chars=160)


def test_little_change_is_minimal() -> None:
    assert rule.choose(scene_change=0.01, last_answer_chars=0) is Intensity.MINIMAL


def test_some_change_is_brief() -> None:
    assert rule.choose(0.08, 0) is Intensity.BRIEF


def test_much_change_is_normal_unless_the_last_answer_was_long() -> None:
    assert rule.choose(0.5, 20) is Intensity.NORMAL
    assert rule.choose(0.5, 200) is Intensity.BRIEF


def test_scene_difference_is_a_pixel_difference_in_0_1() -> None:
    black = np.zeros((18, 32), np.uint8)
    white = np.full((18, 32), 255, np.uint8)
    assert scene_difference(black, black) == 0.0
    assert scene_difference(black, white) == 1.0
    assert scene_difference(None, black) == 1.0
    grey = np.full((18, 32), 51, np.uint8)
    assert abs(scene_difference(black, grey) - 0.2) < 1e-9
