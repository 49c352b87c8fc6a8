"""Frames for a vision-language model: JPEG bytes in, one small RGB image each out.

MiniCPM-o's image processor turns any frame of at most 448² pixels into one 64-token slice
(``max_slice_nums=1``), and it upscales smaller frames to that area itself. So a 720p frame
gains nothing from arriving at full size: shrinking it first costs less than the processor's own
resize, and libjpeg's draft mode decodes it at 1/2, 1/4 or 1/8 scale for a fraction of a full
decode. This runs off the event loop (callers use a thread), so many streams' frames are
prepared in parallel while the engine serves others.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable

from PIL import Image

SLICE_SIDE_PX = 448
"""MiniCPM-o's ``scale_resolution`` (preprocessor_config.json): one slice covers 448² pixels."""

TOKENS_PER_FRAME = 64
"""Image tokens one frame costs: the resampler's query_num, one slice at ``max_slice_nums=1``."""


def fit_within_area(width: int, height: int, max_area: int) -> tuple[int, int]:
    """The largest size of the same aspect ratio whose area is at most ``max_area``."""
    if width <= 0 or height <= 0:
        raise ValueError(f"frame size must be positive, got {width}×{height}")
    if width * height <= max_area:
        return width, height
    scale = math.sqrt(max_area / (width * height))
    return max(1, int(width * scale)), max(1, int(height * scale))


def decode_for_model(jpeg: bytes, slice_side_px: int = SLICE_SIDE_PX) -> Image.Image:
    """One JPEG frame → an RGB image of at most ``slice_side_px``² pixels."""
    image = Image.open(io.BytesIO(jpeg))
    target = fit_within_area(*image.size, slice_side_px * slice_side_px)
    # draft() picks the smallest DCT scale still at least as large as the target: the decode
    # itself does most of the shrinking.
    image.draft("RGB", target)
    image = image.convert("RGB")
    if image.size != target:
        image = image.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image


def decode_frames(jpegs: Iterable[bytes], slice_side_px: int = SLICE_SIDE_PX) -> list[Image.Image]:
    return [decode_for_model(jpeg, slice_side_px) for jpeg in jpegs]
