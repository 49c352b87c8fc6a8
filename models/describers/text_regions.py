"""Cheap on-screen text candidates, so the OCR engine runs only when text may have changed.

OCR costs 0.1-0.3 s a frame on one core; this costs about a millisecond. It finds blobs of
dense, high-contrast strokes laid out in rows (how scores, clocks, captions and signs look)
with a morphological gradient, Otsu's threshold and a horizontal close. Foliage and fur also
pass now and then: the gate only has to be cheap and never miss a change to real text, the
OCR engine's own scores decide what is text (text_watch.py decides when to ask it).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from models.describers.scene_cues import resize_to_width

Box = tuple[int, int, int, int]  # x, y, width, height in the frame's own pixels
GATE_WIDTH_PX = 320  # the analysis width: 4 px high here is 8 px at 640, the OCR's limit
# Mean absolute grey difference (0-255) in a cell of a candidate (half its height square)
# that counts as new content: JPEG noise and slight gain drift stay under 6; one digit
# changing in a score line moves its cell past 20 (the whole line's mean barely moves).
CONTENT_CHANGE = 12.0
STILL_LEVEL = 12  # grey levels a still pixel may drift by between frames (JPEG, gain)


@dataclass(frozen=True, slots=True)
class TextRegions:
    """The candidates of one frame, at the gate's scale, with that frame's grey picture."""

    boxes: tuple[Box, ...]
    gray: np.ndarray
    scale: float  # gate pixels per frame pixel
    steady: bool = False  # only strokes that held still since ``before`` were kept


def find_text_regions(frame: np.ndarray, before: np.ndarray | None = None) -> TextRegions:
    """Text-like blobs of a BGR frame, at most 64 (a frame with more is texture, not text).

    With ``before`` (the gate's grey picture of an earlier frame of the same shot, the
    shape of this frame's: ``resize_to_width(earlier, GATE_WIDTH_PX, like=frame)`` in grey)
    only strokes whose pixels held still count: an overlay or a sign in a steady shot keeps
    its strokes while the scene behind moves, grass and fur in motion lose theirs. ``steady``
    says whether that mask was applied.
    """
    gray = cv2.cvtColor(resize_to_width(frame, GATE_WIDTH_PX), cv2.COLOR_BGR2GRAY)
    scale = GATE_WIDTH_PX / frame.shape[1]
    gradient = cv2.morphologyEx(gray, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8))
    if float(gradient.max()) < 40:  # a flat frame: Otsu would split noise
        return TextRegions((), gray, scale)
    _, strokes = cv2.threshold(gradient, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    steady = before is not None and before.shape == gray.shape
    if steady:
        still = (cv2.absdiff(gray, before) <= STILL_LEVEL).astype(np.uint8) * 255
        strokes = cv2.bitwise_and(strokes, still)
    # Letters of a word sit a stroke or two apart: closing 9x1 joins them into one line.
    joined = cv2.morphologyEx(strokes, cv2.MORPH_CLOSE, np.ones((1, 9), np.uint8))
    contours, _ = cv2.findContours(joined, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes: list[Box] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not (4 <= h <= gray.shape[0] // 3 and w >= 1.2 * h and w >= 8):
            continue
        fill = float(np.count_nonzero(strokes[y : y + h, x : x + w])) / (w * h)
        if 0.15 <= fill <= 0.85:  # text strokes fill part of their box; solid shapes fill all
            boxes.append((x, y, w, h))
    if len(boxes) > 64:
        boxes = []
    return TextRegions(tuple(sorted(boxes, key=lambda b: (b[1], b[0]))), gray, scale, steady)


def overlaps(a: Box, b: Box, min_iou: float = 0.5) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    inter_w = min(ax + aw, bx + bw) - max(ax, bx)
    inter_h = min(ay + ah, by + bh) - max(ay, by)
    if inter_w <= 0 or inter_h <= 0:
        return False
    inter = inter_w * inter_h
    return inter / (aw * ah + bw * bh - inter) >= min_iou


def content_changed(before: np.ndarray, now: np.ndarray, box: Box) -> bool:
    x, y, w, h = box
    diff = cv2.absdiff(before[y : y + h, x : x + w], now[y : y + h, x : x + w])
    if diff.size == 0:
        return False
    # Cells half the box high: a glyph fills most of one, however loose the box is.
    size = (max(1, round(2 * w / max(h, 1))), 2 if h >= 4 else 1)
    cells = cv2.resize(diff, size, interpolation=cv2.INTER_AREA)
    return float(cells.max()) > CONTENT_CHANGE
