"""Generated frames with known text and known motion, for the on-screen text tests."""

from __future__ import annotations

import cv2
import numpy as np

WIDTH, HEIGHT = 640, 360
FONT = cv2.FONT_HERSHEY_SIMPLEX
WHITE = (255, 255, 255)


def board(clock: str | None = None, score: str | None = None, caption: str | None = None,
          block_x: int | None = None) -> np.ndarray:  # fmt: skip
    """A green field with, where given, a clock top left, a score top right, a caption at
    the bottom and a textured block (for motion) in the middle."""
    image = np.full((HEIGHT, WIDTH, 3), (60, 120, 50), np.uint8)
    if clock:
        cv2.rectangle(image, (20, 20), (200, 80), (20, 20, 20), -1)
        cv2.putText(image, clock, (40, 68), FONT, 1.4, WHITE, 3)
    if score:
        cv2.putText(image, score, (360, 60), FONT, 0.9, WHITE, 2)
    if caption:
        cv2.putText(image, caption, (40, 330), FONT, 0.8, WHITE, 2)
    if block_x is not None:
        cv2.rectangle(image, (block_x, 150), (block_x + 80, 230), (30, 200, 240), -1)
        cv2.circle(image, (block_x + 40, 190), 15, (200, 40, 40), -1)
    return image


def jpeg_roundtrip(image: np.ndarray) -> np.ndarray:
    """What the describer decodes: the frame after JPEG at the service's model quality."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
    assert ok
    return cv2.imdecode(encoded, cv2.IMREAD_COLOR)
