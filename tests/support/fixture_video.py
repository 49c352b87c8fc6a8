"""A test clip with each frame's index burned into a machine-readable strip.

The top of every frame carries the index in binary as 16 black/white blocks, large enough
to survive JPEG and H.264 compression, so a client reading the MJPEG stream can tell
exactly which source frame it is shown.
"""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np

BITS = 16
BLOCK = 24  # pixels per bit block; wide enough for compression artefacts to average out


def draw_frame(index: int, width: int = 640, height: int = 360) -> np.ndarray:
    """A BGR frame: a moving bar for visible motion, the index as text and as bits."""
    image = np.full((height, width, 3), 60, np.uint8)
    x = (index * 8) % width
    cv2.rectangle(image, (x, height // 2), (x + 60, height // 2 + 60), (40, 160, 230), -1)
    cv2.putText(
        image, str(index), (20, height - 30), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (255, 255, 255), 3
    )
    for bit in range(BITS):
        on = (index >> (BITS - 1 - bit)) & 1
        x0 = bit * BLOCK
        image[0:BLOCK, x0 : x0 + BLOCK] = 255 if on else 0
    return image


def read_index(image: np.ndarray) -> int:
    """The index burned into a (decoded) frame."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    value = 0
    for bit in range(BITS):
        x0 = bit * BLOCK
        block = gray[4 : BLOCK - 4, x0 + 4 : x0 + BLOCK - 4]
        value = (value << 1) | int(block.mean() > 127)
    return value


def read_index_jpeg(jpeg: bytes) -> int:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_GRAYSCALE)
    return read_index(image)


def write_counter_clip(path: Path, seconds: float = 10.0, fps: int = 25) -> Path:
    """An H.264 (or MPEG-4) clip whose frame i shows index i; its media time is i / fps."""
    with av.open(str(path), "w") as container:
        try:
            stream = container.add_stream("libx264", rate=fps)
            stream.options = {"preset": "ultrafast", "tune": "zerolatency"}
        except (av.FFmpegError, ValueError):
            stream = container.add_stream("mpeg4", rate=fps)
        stream.width, stream.height, stream.pix_fmt = 640, 360, "yuv420p"
        for i in range(int(seconds * fps)):
            frame = av.VideoFrame.from_ndarray(draw_frame(i), format="bgr24")
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
