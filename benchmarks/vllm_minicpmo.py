"""GPU benchmark: the project's vLLM MiniCPM-o engine, many streams on one GPU, random weights.

Builds a MiniCPM-o 4.5 model directory from the public configuration/processing/tokenizer files
(``--code``, an ignored folder, never committed) and a config.json from the published sizes
(``benchmarks.gpu_minicpmo.model_config``, plus ``"version": "4.5"``), then starts the project's
own engine (``models.loading.vllm_engine.start_engine`` with ``load_format="dummy"``) and drives
:class:`MiniCPMOVllmDescriber` with real frames of the demo clip (``--frames``: JPEG files) exactly
as the Commentator does: each cycle is one ``describe_async`` call with 4 frames and a 40-token
answer (``min_new_tokens`` fixes the length; random weights would stop anywhere).

Every (stream, cycle) gets frames of its own (a few marker pixels changed, then re-encoded), so
vLLM's prefix and encoder caches cannot reuse one stream's images for another: each cycle costs
what a live stream's cycle costs.

Phases, all in one run (results are written after each):
- ``batch1``: one stream, cycles back to back: time to first text, cycle total.
- ``streams``: N streams each due every ``--interval`` s for ``--duration`` s, phases spread at
  random: p50/p95 cycle latency, cycles/min per stream, GPU memory, CPU cores of the whole
  process tree (front end + engine core).

Usage (GPU host, vLLM 0.26 installed)::

    python3 benchmarks/vllm_minicpmo.py --code .gpu/code --frames .gpu/frames --quant bf16 \
        --streams 1,8,32,64,128 --out benchmarks/results/vllm_minicpmo_bf16.json

``--fake`` runs the same driver against the CPU stand-in (tests/fixtures/fake_vllm.py) to check
the script itself; its figures mean nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import random
import shutil
import subprocess
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.gpu_minicpmo import model_config, percentile  # noqa: E402
from models.describers.minicpmo_vllm import (  # noqa: E402
    MiniCPMOSampling,
    MiniCPMOVllmDescriber,
    VllmApi,
)
from models.loading.vllm_engine import VllmEngineOptions, start_engine  # noqa: E402
from models.messages import DescribeRequest, Intensity, TextDelta, TimedFrame  # noqa: E402

FRAMES = 4
NEW_TOKENS = 40
INSTRUCTION = (
    "You are a live commentator. Describe what changes across these frames, oldest first, "
    "in one short sentence."
)
AWQ_CONFIG = {  # as published for the AWQ checkpoint: modules_to_not_convert left empty
    "quant_method": "awq",
    "bits": 4,
    "group_size": 128,
    "zero_point": True,
    "version": "gemm",
    "modules_to_not_convert": None,
}
GOALS = {"batch1_cycle_s": 0.35, "streams_at_12_per_min": 64, "p95_cycle_s": 1.5}


class Results:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.data: dict[str, Any] = {"errors": [], "goals": GOALS}

    def save(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(self.data, indent=1, default=str))

    def error(self, phase: str) -> None:
        tb = traceback.format_exc()
        print(f"!! {phase}\n{tb}", flush=True)
        self.data["errors"].append({"phase": phase, "traceback": tb[-3000:]})
        self.save()


def build_model_dir(code: Path, dst: Path, quant: str) -> Path:
    """Public code + tokenizer files, and a config.json of MiniCPM-o 4.5's published sizes."""
    dst.mkdir(parents=True, exist_ok=True)
    for item in code.iterdir():
        if item.is_file():
            shutil.copy2(item, dst / item.name)
    config = model_config(tiny=False)
    config["version"] = "4.5"
    config["slice_config"]["max_slice_nums"] = 1
    if quant == "awq":
        config["quantization_config"] = dict(AWQ_CONFIG)
        config["torch_dtype"] = "float16"
    (dst / "config.json").write_text(json.dumps(config, indent=1))
    pre = dst / "preprocessor_config.json"
    if pre.is_file():
        raw = json.loads(pre.read_text())
        raw["max_slice_nums"] = 1
        pre.write_text(json.dumps(raw, indent=1))
    return dst


class FrameMaker:
    """Distinct JPEGs per (stream, cycle, frame) from the clip's real frames."""

    def __init__(self, frames_dir: Path) -> None:
        import numpy as np
        from PIL import Image

        self._image = Image
        self._sources = [
            np.asarray(Image.open(p).convert("RGB")) for p in sorted(frames_dir.glob("*.jpg"))
        ]
        if not self._sources:
            raise SystemExit(f"no *.jpg in {frames_dir}")
        self.size = self._sources[0].shape[1], self._sources[0].shape[0]

    def make(self, stream: int, cycle: int, index: int) -> bytes:
        source = self._sources[(cycle * FRAMES + index) % len(self._sources)].copy()
        marker = (stream * 7919 + cycle * 104729 + index) & 0xFFFFFF
        source[:8, :8] = [(marker >> 16) & 255, (marker >> 8) & 255, marker & 255]
        buffer = io.BytesIO()
        self._image.fromarray(source).save(buffer, "JPEG", quality=85)
        return buffer.getvalue()

    def batch(self, streams: int, cycles: int) -> dict[tuple[int, int], tuple[bytes, ...]]:
        keys = [(s, c) for s in range(streams) for c in range(cycles)]
        with ThreadPoolExecutor(os.cpu_count() or 4) as pool:
            frames = pool.map(lambda k: tuple(self.make(*k, i) for i in range(FRAMES)), keys)
            return dict(zip(keys, frames, strict=True))


def cycle_request(stream: str, jpegs: tuple[bytes, ...], cycle: int) -> DescribeRequest:
    frames = tuple(TimedFrame(j, cycle * 5.0 + i * 0.5) for i, j in enumerate(jpegs))
    return DescribeRequest(stream, frames, Intensity.NORMAL, INSTRUCTION, NEW_TOKENS)


async def one_cycle(describer: MiniCPMOVllmDescriber, request: DescribeRequest) -> dict[str, Any]:
    start = time.perf_counter()
    first: float | None = None
    text = ""
    async for item in describer.describe_async(request):
        if isinstance(item, TextDelta):
            first = first if first is not None else time.perf_counter() - start
            text += item.text
    return {"ttft_s": first, "cycle_s": time.perf_counter() - start, "words": len(text.split())}


class CpuMeter:
    """CPU seconds of this process and of its descendants (vLLM's engine core is one), /proc."""

    _TICK = os.sysconf("SC_CLK_TCK")

    def seconds(self) -> dict[str, float]:
        stats: dict[int, tuple[int, float]] = {}  # pid -> (parent pid, cpu seconds)
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # exited while we looked
                continue
            stats[int(entry.name)] = (
                int(fields[1]),
                (int(fields[11]) + int(fields[12])) / self._TICK,
            )
        me = os.getpid()
        children = 0.0
        for pid, (_, cpu) in stats.items():
            parent = pid
            while parent in stats and parent != me:
                parent = stats[parent][0]
            if parent == me and pid != me:
                children += cpu
        return {"front_end": stats.get(me, (0, 0.0))[1], "children": children}


def gpu_memory_used_gib() -> float | None:
    try:
        out = subprocess.run(
            ["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout
        return round(float(out.split()[0]) / 1024, 2)
    except Exception:
        return None


async def batch1_phase(describer: MiniCPMOVllmDescriber, maker: FrameMaker, n: int) -> dict:
    frames = maker.batch(1, n + 2)
    for c in range(2):  # warm-up: compile paths, first history turn
        await one_cycle(describer, cycle_request("warm", frames[(0, c)], c))
    rows = [
        await one_cycle(describer, cycle_request("b1", frames[(0, c + 2)], c)) for c in range(n)
    ]
    return {
        "cycles": rows,
        "ttft_s_median": percentile([r["ttft_s"] for r in rows], 0.5),
        "cycle_s_median": percentile([r["cycle_s"] for r in rows], 0.5),
    }


async def streams_phase(
    describer: MiniCPMOVllmDescriber, maker: FrameMaker, n: int, duration: float, interval: float
) -> dict[str, Any]:
    cycles_each = int(duration / interval) + 1
    frames = maker.batch(n, cycles_each)
    meter = CpuMeter()
    rng = random.Random(n)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    end = t0 + duration

    async def stream(s: int) -> None:
        offset = rng.uniform(0, interval)
        for c in range(cycles_each):
            due = t0 + offset + c * interval
            if due >= end:
                return
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            row = await one_cycle(describer, cycle_request(f"n{n}-s{s}", frames[(s, c)], c))
            row["late_start_s"] = round(max(0.0, time.perf_counter() - row["cycle_s"] - due), 4)
            rows.append(row)

    cpu0 = meter.seconds()
    mem_before = gpu_memory_used_gib()
    await asyncio.gather(*(stream(s) for s in range(n)))
    wall = time.perf_counter() - t0
    cpu1 = meter.seconds()
    latencies = [r["cycle_s"] for r in rows]
    return {
        "streams": n,
        "wall_s": round(wall, 2),
        "cycles": len(rows),
        "cycles_per_min_per_stream": round(len(rows) / n / (duration / 60), 2),
        "p50_cycle_s": percentile(latencies, 0.5),
        "p95_cycle_s": percentile(latencies, 0.95),
        "max_cycle_s": round(max(latencies), 3) if latencies else None,
        "p95_ttft_s": percentile([r["ttft_s"] for r in rows if r["ttft_s"]], 0.95),
        "words_per_cycle": percentile([r["words"] for r in rows], 0.5),
        "cpu_cores_front_end": round((cpu1["front_end"] - cpu0["front_end"]) / wall, 2),
        "cpu_cores_engine": round((cpu1["children"] - cpu0["children"]) / wall, 2),
        "gpu_memory_used_gib": gpu_memory_used_gib() or mem_before,
    }


def start(args: argparse.Namespace, results: Results) -> MiniCPMOVllmDescriber:
    options = VllmEngineOptions(
        model_path=str(args.model_dir),
        max_num_seqs=max(args.streams),
        gpu_memory_utilization=args.gpu_memory_utilization,
        images_per_prompt=FRAMES,
        renderer_threads=args.renderer_threads,
        load_format="dummy",
    )
    t = time.perf_counter()
    if args.fake:
        from tests.fixtures.fake_vllm import start_fake_engine

        engine, tokenizer, api = start_fake_engine(options)
    else:
        engine, tokenizer = start_engine(options)
        api = VllmApi.load()
    results.data["engine_start_s"] = round(time.perf_counter() - t, 1)
    results.data["gpu_memory_after_start_gib"] = gpu_memory_used_gib()
    results.save()
    print("engine up", results.data, flush=True)
    return MiniCPMOVllmDescriber(
        engine, tokenizer, api, sampling=MiniCPMOSampling(min_new_tokens=NEW_TOKENS)
    )


async def run(args: argparse.Namespace, results: Results) -> None:
    maker = FrameMaker(args.frames)
    results.data["frame_size"] = maker.size
    describer = start(args, results)
    try:
        results.data["batch1"] = await batch1_phase(describer, maker, args.batch1_cycles)
        print("batch1", results.data["batch1"]["cycle_s_median"], flush=True)
    except Exception:
        results.error("batch1")
    results.save()
    rows = results.data.setdefault("streams", [])
    for n in args.streams:
        try:
            rows.append(await streams_phase(describer, maker, n, args.duration, args.interval))
            print(rows[-1], flush=True)
        except Exception:
            results.error(f"streams {n}")
        results.save()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--code", type=Path, required=True)
    parser.add_argument("--frames", type=Path, required=True)
    parser.add_argument("--quant", choices=("bf16", "awq"), default="bf16")
    parser.add_argument("--model-dir", type=Path, default=None)
    parser.add_argument("--streams", default="1,8,32,64,128")
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--batch1-cycles", type=int, default=5)
    parser.add_argument("--renderer-threads", type=int, default=4)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.85)
    parser.add_argument("--fake", action="store_true", help="CPU stand-in: checks the script")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.streams = [int(n) for n in args.streams.split(",") if n]
    args.model_dir = args.model_dir or Path(f"/tmp/minicpmo45-{args.quant}")
    results = Results(args.out)
    results.data.update(quant=args.quant, frames=FRAMES, new_tokens=NEW_TOKENS, args=vars(args))
    build_model_dir(args.code, args.model_dir, args.quant)
    try:
        import vllm

        results.data["vllm"] = vllm.__version__
    except ImportError:
        results.data["vllm"] = None
    asyncio.run(run(args, results))
    results.save()
    print("done", flush=True)
    os._exit(0)  # the engine core is a child process: do not wait on its shutdown


if __name__ == "__main__":  # vLLM starts its engine core with spawn
    main()
