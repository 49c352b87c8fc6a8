"""Opt-in: the real MiniCPM-o 4.5 on a real GPU. Skipped unless both are present.

MODEL_PATH=weights/MiniCPM-o-4_5-awq .venv/bin/python -m pytest tests/gpu -m gpu
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import pytest

from models.messages import SKIP_ANSWER, DescribeRequest, Intensity, TextDelta, TimedFrame
from serve_app.settings import load_settings
from serve_app.sources.source_spec import demo_clip_path

pytestmark = pytest.mark.gpu

MODEL_PATH = os.environ.get("MODEL_PATH", "")


def gpu_and_weights() -> bool:
    if not MODEL_PATH or not (Path(MODEL_PATH) / "config.json").is_file():
        return False
    torch = pytest.importorskip("torch")
    return bool(torch.cuda.is_available())


@pytest.mark.skipif(not gpu_and_weights(), reason="needs MODEL_PATH with real weights and a GPU")
def test_real_model_comments_on_real_frames() -> None:
    from deployments.engine_factory import minicpmo_load_options
    from models.describers.minicpmo import MiniCPMODescriber
    from models.loading.minicpmo_loader import load_minicpmo

    settings = load_settings({"model_path": MODEL_PATH, "enable_tts": False})
    describer = MiniCPMODescriber(load_minicpmo(minicpmo_load_options(settings)))
    capture = cv2.VideoCapture(str(demo_clip_path()))
    frames = []
    for i in range(100):
        ok, image = capture.read()
        if ok and i % 25 == 0:
            frames.append(TimedFrame(cv2.imencode(".jpg", image)[1].tobytes(), i / 25))
    request = DescribeRequest(
        stream_id="smoke",
        frames=tuple(frames),
        hint=Intensity.NORMAL,
        instruction=settings.instruction,
        max_new_tokens=48,
    )
    text = "".join(o.text for o in describer.describe(request) if isinstance(o, TextDelta))
    assert text.strip() and "<|" not in text
    assert text == SKIP_ANSWER or len(text.split()) >= 2
