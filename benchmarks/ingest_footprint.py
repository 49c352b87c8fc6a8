"""What does ingest cost? Display-buffer memory for 15 s of 720p, and decode+encode CPU.

Runs StreamCapture (the engine FrameIngest wraps) on the demo clip (bigbuckbunny, 1280×720,
25 fps) for longer than the buffer's span, then reports the buffer's JPEG bytes and the
capture thread's CPU time per second of video. The original system kept 15 s of 720p in
about 30–45 MB.

    python -m benchmarks.ingest_footprint [--seconds 18]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from serve_app.ingest.capture_loop import StreamCapture
from serve_app.settings import StreamSettings
from serve_app.sources.source_spec import parse_source

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=18.0)
    parser.add_argument("--source", default="demo")
    options = parser.parse_args()
    settings = StreamSettings(display_buffer_s=15.0, stream_delay_init_s=5.0)
    capture = StreamCapture("bench", parse_source(options.source), settings, open_timeout_s=10)
    capture.start()
    start = time.monotonic()
    samples = []
    while time.monotonic() - start < options.seconds:
        time.sleep(1.0)
        samples.append(capture.buffer_bytes())
        print(f"{time.monotonic() - start:5.1f} s  buffer {samples[-1] / 1e6:6.1f} MB", flush=True)
    wall = time.monotonic() - start
    capture.stop()
    frames = capture.frames_decoded
    oldest, newest = capture.display.first_after(-1), capture.display.latest()
    result = {
        "benchmark": "ingest_footprint",
        "source": str(capture.spec),
        "fps": capture.fps,
        "jpeg_quality": settings.jpeg_quality,
        "wall_s": round(wall, 2),
        "frames": frames,
        "buffer_span_s": round(newest.capture_wall - oldest.capture_wall, 2),
        "buffer_frames": len(capture.display),
        "buffer_mb": round(capture.buffer_bytes() / 1e6, 2),
        "mean_jpeg_kb": round(capture.buffer_bytes() / len(capture.display) / 1e3, 1),
        "capture_cpu_s": round(capture.cpu_seconds, 2),
        "capture_cpu_fraction_of_one_core": round(capture.cpu_seconds / wall, 3),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ingest_footprint.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
