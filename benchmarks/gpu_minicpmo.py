"""GPU benchmark: the project's MiniCPM-o engine on MiniCPM-o 4.5's public code, random weights.

Runs on the lent GPU machine (no Ray there): builds a model directory from the public remote code
(``--code``: modeling_minicpmo.py, configuration_minicpmo.py, processing_minicpmo.py,
modeling_navit_siglip.py, utils.py, tokenizer files; kept in an ignored folder, never committed)
and a config.json written here from the published sizes (below), initialises every weight at
random in bf16, saves it with ``save_pretrained``, then loads it back through the project's own
``load_minicpmo`` (options mapped from ``ServiceSettings`` as the service maps them) exactly as
a user's directory would be loaded, and drives :class:`MiniCPMODescriber` with real frames of the
demo clip (``--frames``: JPEG files).

The words are noise; shapes, caches, kernels, timings and memory are real. Answer length is fixed
by ``max_new_tokens``: ``streaming_generate`` has no ``min_new_tokens``, but random weights put
about 1/150k of the mass on each terminator, so every answer runs to the cap (the token counts are
recorded per cycle, so a run where that failed shows it).

Usage (device)::

    python3 benchmarks/gpu_minicpmo.py --code .gpu/code --frames .gpu/frames \
        --model-dir /tmp/minicpmo-random --out $OUT/gpu_minicpmo.json

``--tiny --device cpu`` builds a few-MB model of the same code for a CPU smoke run.
"""

from __future__ import annotations

import argparse
import gc
import json
import platform
import shutil
import statistics
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

# --- config.json, from the published sizes (no config.json ships with the public code) ----------
# LLM: Qwen3-8B (MiniCPM-o 4.5 = SigLIP2-400M-class vision + Whisper-medium + CosyVoice2-class
# TTS + Qwen3-8B); vision: the code's own default_vision_config (SigLIP so400m, last layer
# dropped); audio: Whisper-medium's encoder; TTS: MiniCPMTTSConfig's defaults, with llm_dim set to
# the LLM's width, the text vocabulary set to the LLM's (the 4.5 code feeds LLM token ids to
# tts.emb_text), and 6561 S3 codes + EOS.
LLM_FULL: dict[str, Any] = {
    "hidden_size": 4096,
    "intermediate_size": 12288,
    "num_hidden_layers": 36,
    "num_attention_heads": 32,
    "num_key_value_heads": 8,
    "head_dim": 128,
    "vocab_size": 151936,
    "max_position_embeddings": 40960,
    "rope_theta": 1000000.0,
    "rms_norm_eps": 1e-6,
    "hidden_act": "silu",
    "tie_word_embeddings": False,
    "attention_bias": False,
    "use_sliding_window": False,
    "initializer_range": 0.02,
    "bos_token_id": 151643,
    "eos_token_id": 151645,
    "pad_token_id": 151643,
}
VISION_FULL: dict[str, Any] = {
    "hidden_size": 1152,
    "image_size": 980,
    "intermediate_size": 4304,
    "model_type": "siglip",
    "num_attention_heads": 16,
    "num_hidden_layers": 27,
    "patch_size": 14,
}
AUDIO_FULL: dict[str, Any] = {  # Whisper-medium
    "d_model": 1024,
    "encoder_layers": 24,
    "encoder_attention_heads": 16,
    "encoder_ffn_dim": 4096,
    "decoder_layers": 24,
    "decoder_attention_heads": 16,
    "decoder_ffn_dim": 4096,
    "num_mel_bins": 80,
    "max_source_positions": 1500,
}
TTS_FULL: dict[str, Any] = {
    "llm_dim": 4096,
    "hidden_size": 768,
    "intermediate_size": 3072,
    "num_attention_heads": 12,
    "num_hidden_layers": 20,
    "num_key_value_heads": 12,
    "num_audio_tokens": 6562,
    "num_text_tokens": 151936,
    "audio_bos_token_id": 151687,  # unused ids of the LLM vocabulary (checkpoint values unknown)
    "text_eos_token_id": 151692,
    "normalize_projected_hidden": True,
    "audio_tokenizer_type": "s3tokenizer_step_audio",
}
TINY = {
    "llm": {
        "hidden_size": 256,
        "intermediate_size": 512,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 64,
    },
    "vision": {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
    },
    "audio": {
        "d_model": 64,
        "encoder_layers": 1,
        "encoder_attention_heads": 4,
        "encoder_ffn_dim": 128,
        "decoder_layers": 1,
        "decoder_attention_heads": 4,
        "decoder_ffn_dim": 128,
    },
    "tts": {
        "llm_dim": 256,
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_attention_heads": 4,
        "num_hidden_layers": 2,
        "num_key_value_heads": 4,
    },
}
ORIGINAL_RTX4090_AWQ = {
    "inference_s_per_cycle": 1.6,
    "cycles_per_min": 12,
    "vram_text_only_gb": 8.6,
    "vram_with_speech_gb": 12.1,
    "source": "original system's measurements (DESIGN.md; nerdpudding docs)",
}
GOAL = {"cycle_s_4_frames_40_tokens": 1.0, "streams_per_h100_at_12_cycles_min": 8}
CYCLE_PERIOD_S = 5.0  # 12 cycles a minute


def model_config(tiny: bool) -> dict[str, Any]:
    llm, vision, audio, tts = (dict(LLM_FULL), dict(VISION_FULL), dict(AUDIO_FULL), dict(TTS_FULL))
    if tiny:
        llm.update(TINY["llm"])
        vision.update(TINY["vision"])
        audio.update(TINY["audio"])
        tts.update(TINY["tts"])
    return {
        "architectures": ["MiniCPMO"],
        "auto_map": {
            "AutoConfig": "configuration_minicpmo.MiniCPMOConfig",
            "AutoModel": "modeling_minicpmo.MiniCPMO",
        },
        "model_type": "minicpmo",
        "torch_dtype": "bfloat16",
        "transformers_version": "4.51.0",
        **llm,
        "query_num": 64,
        "image_size": 448,
        "drop_vision_last_layer": True,
        "batch_vision_input": True,
        "use_image_id": True,
        "vision_batch_size": 16,
        "audio_pool_step": 5,
        "audio_chunk_length": 1.0,
        "slice_config": {"max_slice_nums": 9, "patch_size": 14, "scale_resolution": 448},
        "vision_config": vision,
        "audio_config": audio,
        "tts_config": tts,
        "init_vision": True,
        "init_audio": True,
        "init_tts": True,
    }


# --- helpers -----------------------------------------------------------------------------------


class Log:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.data: dict[str, Any] = {"errors": []}

    def save(self) -> None:
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.out.write_text(json.dumps(self.data, indent=2, default=str))

    def error(self, phase: str, exc: BaseException) -> None:
        tb = traceback.format_exc()
        print(f"!! {phase}: {exc!r}\n{tb}", flush=True)
        self.data["errors"].append({"phase": phase, "error": repr(exc), "traceback": tb[-4000:]})
        self.save()


def sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def gib(n: float) -> float:
    return round(n / 2**30, 3)


class SmiSampler:
    """Peak of nvidia-smi's memory.used (MiB) while running, sampled every 100 ms via NVML."""

    def __init__(self) -> None:
        self.peak_mib = 0.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        try:
            import pynvml

            pynvml.nvmlInit()
            self._handle = pynvml.nvmlDeviceGetHandleByIndex(0)
            self._nvml = pynvml
        except Exception:  # no NVML (CPU smoke run)
            self._nvml = None

    def used_mib(self) -> float:
        if self._nvml is None:
            return 0.0
        return self._nvml.nvmlDeviceGetMemoryInfo(self._handle).used / 2**20

    def start(self) -> SmiSampler:
        self.peak_mib = self.used_mib()
        self._stop.clear()

        def loop() -> None:
            while not self._stop.wait(0.1):
                self.peak_mib = max(self.peak_mib, self.used_mib())

        self._thread = threading.Thread(target=loop, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> float:
        self._stop.set()
        if self._thread:
            self._thread.join()
        self.peak_mib = max(self.peak_mib, self.used_mib())
        return round(self.peak_mib, 1)


def memory_phase(name: str, log: Log, fn: Any) -> Any:
    import torch

    gpu = torch.cuda.is_available()
    if gpu:
        torch.cuda.reset_peak_memory_stats()
    smi = SmiSampler().start()
    try:
        return fn()
    finally:
        smi_peak = smi.stop()
        log.data.setdefault("memory", {})[name] = {
            "torch_max_allocated_gib": gib(torch.cuda.max_memory_allocated()) if gpu else None,
            "torch_max_reserved_gib": gib(torch.cuda.max_memory_reserved()) if gpu else None,
            "nvidia_smi_peak_gib": round(smi_peak / 1024, 3),
        }
        log.save()


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    k = (len(ordered) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(ordered) - 1)
    return round(ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo), 4)


# --- building the random model directory -------------------------------------------------------


def build_model_dir(code: Path, model_dir: Path, *, tiny: bool, device: str, log: Log) -> None:
    import torch
    from transformers import AutoConfig, AutoModel

    if model_dir.exists():
        shutil.rmtree(model_dir)
    model_dir.mkdir(parents=True)
    for f in code.iterdir():
        if f.is_file():
            shutil.copy(f, model_dir / f.name)
    (model_dir / "config.json").write_text(json.dumps(model_config(tiny), indent=2))
    t0 = time.perf_counter()
    from models.loading.remote_code import optional_remote_imports

    with optional_remote_imports():
        config = AutoConfig.from_pretrained(str(model_dir), trust_remote_code=True)
        torch.manual_seed(0)
        with torch.device(device):
            model = AutoModel.from_config(
                config, trust_remote_code=True, torch_dtype=torch.bfloat16
            )
    sync()
    t_init = time.perf_counter() - t0
    parts = {}
    for name in ("llm", "vpm", "resampler", "apm", "audio_projection_layer", "tts"):
        module = getattr(model, name, None)
        if module is not None:
            parts[name] = sum(p.numel() for p in module.parameters())
    t1 = time.perf_counter()
    model.save_pretrained(str(model_dir), safe_serialization=True, max_shard_size="5GB")
    t_save = time.perf_counter() - t1
    size = sum(f.stat().st_size for f in model_dir.glob("*.safetensors"))
    log.data["build"] = {
        "params": parts,
        "params_total": sum(parts.values()),
        "dtypes": sorted({str(p.dtype) for p in model.parameters()}),
        "init_s": round(t_init, 2),
        "save_s": round(t_save, 2),
        "safetensors_gib": gib(size),
        "config": model_config(tiny),
    }
    log.save()
    del model
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    print(
        f"built {model_dir}: {gib(size)} GiB, init {t_init:.1f} s, save {t_save:.1f} s", flush=True
    )


# --- probing the model's own calls ---------------------------------------------------------------


class Probe:
    """Wraps the model's vision, LLM and TTS calls with synchronised timers (instance attributes;
    the model's code is untouched). ChunkPrefillChunkGenerate calls ``.item()`` on every token,
    so the extra synchronisation does not change what is measured."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.events: list[tuple[str, float, float, int]] = []  # (kind, start, end, seq_len)
        self.in_prefill = False
        self._wrap(model, "get_vision_embedding", "vision")
        self._wrap(model.llm, "forward", "llm")
        tts = getattr(model, "tts", None)
        if tts is not None:
            self._wrap(tts.model, "forward", "tts")
        self._wrap(model, "streaming_prefill", "prefill_call", flag=True)

    def _wrap(self, obj: Any, attr: str, kind: str, flag: bool = False) -> None:
        original = getattr(obj, attr)
        probe = self

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            sync()
            start = time.perf_counter()
            if flag:
                probe.in_prefill = True
            try:
                out = original(*args, **kwargs)
            finally:
                if flag:
                    probe.in_prefill = False
            sync()
            seq = 0
            emb = kwargs.get("inputs_embeds")
            if emb is not None and hasattr(emb, "shape"):
                seq = int(emb.shape[1])
            elif kwargs.get("input_ids") is not None:
                seq = int(kwargs["input_ids"].shape[1])
            label = kind
            if kind == "llm":
                label = "llm_prefill" if probe.in_prefill else "llm_gen"
            probe.events.append((label, start, time.perf_counter(), seq))
            return out

        setattr(obj, attr, wrapped)

    def mark(self) -> int:
        return len(self.events)

    def since(self, mark: int) -> list[tuple[str, float, float, int]]:
        return self.events[mark:]


def cycle_metrics(events: list[tuple[str, float, float, int]], t_start: float) -> dict[str, Any]:
    def total(kind: str) -> float:
        return sum(e - s for k, s, e, _ in events if k == kind)

    gen = [(s, e, n) for k, s, e, n in events if k == "llm_gen"]
    prefill = [(s, e, n) for k, s, e, n in events if k == "llm_prefill"]
    out: dict[str, Any] = {
        "vision_s": round(total("vision"), 4),
        "prefill_s": round(sum(e - s for s, e, _ in prefill), 4),
        "prefill_tokens": sum(n for *_, n in prefill),
        "prefill_call_s": round(total("prefill_call"), 4),
        "llm_forwards": len(gen),
        "tts_forward_s": round(total("tts"), 4),
        "tts_forwards": sum(1 for k, *_ in events if k == "tts"),
    }
    if gen:
        _first_s, first_e, first_n = gen[0]
        out["first_token_s"] = round(first_e - t_start, 4)  # first sampled token's logits ready
        out["bos_prefill_tokens"] = first_n
        decode = gen[1:]
        if decode:
            fwd = sum(e - s for s, e, _ in decode)
            wall = decode[-1][1] - first_e
            out["decode_forward_ms_per_token"] = round(1000 * fwd / len(decode), 3)
            out["decode_wall_ms_per_token"] = round(1000 * wall / len(decode), 3)
            out["decode_tokens_per_s"] = round(len(decode) / wall, 2) if wall > 0 else None
            out["decode_forward_tokens_per_s"] = round(len(decode) / fwd, 2) if fwd > 0 else None
    return out


# --- driving the engine ------------------------------------------------------------------------


def load_frames(frames_dir: Path) -> list[bytes]:
    files = sorted(p for p in frames_dir.iterdir() if p.suffix.lower() in (".jpg", ".jpeg"))
    if len(files) < 4:
        raise SystemExit(f"need at least 4 JPEG frames in {frames_dir}")
    return [p.read_bytes() for p in files]


class Runner:
    def __init__(self, describer: Any, probe: Probe, frames: list[bytes], instruction: str):
        self.describer = describer
        self.probe = probe
        self.frames = frames
        self.instruction = instruction
        self._offset = 0
        self._lock = threading.Lock()

    def request(self, stream_id: str, max_new_tokens: int, speech: bool) -> Any:
        from models.messages import DescribeRequest, Intensity, TimedFrame

        with self._lock:
            start = self._offset
            self._offset = (self._offset + 1) % (len(self.frames) - 3)
        window = tuple(
            TimedFrame(jpeg=self.frames[start + i], media_ts_s=(start + i) * 0.5) for i in range(4)
        )
        return DescribeRequest(
            stream_id=stream_id,
            frames=window,
            hint=Intensity.NORMAL,
            instruction=self.instruction,
            max_new_tokens=max_new_tokens,
            speech=speech,
        )

    def cycle(self, stream_id: str, max_new_tokens: int, speech: bool = False) -> dict[str, Any]:
        from models.messages import SpeechTokens, TextDelta

        request = self.request(stream_id, max_new_tokens, speech)
        mark = self.probe.mark()
        t0 = time.perf_counter()
        ttft = None
        first_speech = None
        text = ""
        speech_tokens = 0
        finals = 0
        for item in self.describer.describe(request):
            now = time.perf_counter() - t0
            if isinstance(item, TextDelta):
                text += item.text
                ttft = now if ttft is None else ttft
            elif isinstance(item, SpeechTokens):
                speech_tokens += len(item.tokens)
                finals += int(item.final)
                if item.tokens and first_speech is None:
                    first_speech = now
        total = time.perf_counter() - t0
        out = {
            "total_s": round(total, 4),
            "ttft_text_s": ttft and round(ttft, 4),
            "text_chars": len(text),
        }
        out.update(cycle_metrics(self.probe.since(mark), t0))
        out["generated_tokens"] = out.get("llm_forwards", 0)
        if speech:
            out.update(
                {
                    "speech_tokens": speech_tokens,
                    "speech_finals": finals,
                    "first_speech_token_s": first_speech and round(first_speech, 4),
                    "speech_tokens_per_s": round(speech_tokens / total, 2),
                    "speech_audio_s": speech_tokens / 25.0,
                    "speech_rtf": round(total / (speech_tokens / 25.0), 3)
                    if speech_tokens
                    else None,
                }
            )
        return out


def summarise(cycles: list[dict[str, Any]]) -> dict[str, Any]:
    keys = [k for k, v in cycles[0].items() if isinstance(v, (int, float)) and v is not None]
    out: dict[str, Any] = {"n": len(cycles)}
    for k in keys:
        vals = [c[k] for c in cycles if isinstance(c.get(k), (int, float))]
        if vals:
            out[k] = round(statistics.median(vals), 4)
    return out


def streams_phase(runner: Runner, n: int, cycles_each: int, max_new: int) -> dict[str, Any]:
    """N streams, each asking for a cycle every 5 s (12/min), through the engine's one lock.

    A cycle's latency runs from when it was due to when its answer ended; a stream whose
    cycle ends late starts its next one at once (the service does the same)."""
    latencies: list[float] = []
    done_at: dict[int, list[float]] = {i: [] for i in range(n)}
    errors: list[str] = []
    t0 = time.perf_counter() + 0.05

    def stream(i: int) -> None:
        due = t0 + CYCLE_PERIOD_S * i / n  # spread the streams over one period
        for _ in range(cycles_each):
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            try:
                runner.cycle(f"s{n}-{i}", max_new)
            except Exception as exc:  # recorded, the others go on
                errors.append(repr(exc))
                return
            end = time.perf_counter()
            latencies.append(end - due)
            done_at[i].append(end)
            due = max(due + CYCLE_PERIOD_S, end)

    threads = [threading.Thread(target=stream, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    rates = []
    for i in range(n):
        ends = done_at[i]
        span = ends[-1] - (t0 + CYCLE_PERIOD_S * i / n) if ends else 0
        rates.append(60.0 * len(ends) / span if span > 0 else 0.0)
    # Steady-state capacity of one lock: cycles a minute it completes, shared by n streams.
    total_cycles = sum(len(v) for v in done_at.values())
    return {
        "streams": n,
        "cycles": total_cycles,
        "wall_s": round(wall, 2),
        "latency_p50_s": percentile(latencies, 0.5),
        "latency_p95_s": percentile(latencies, 0.95),
        "latency_max_s": percentile(latencies, 1.0),
        "cycles_per_min_per_stream_min": round(min(rates), 2) if rates else 0,
        "cycles_per_min_per_stream_median": round(statistics.median(rates), 2) if rates else 0,
        "meets_12_per_min": bool(rates) and min(rates) >= 11.5 and not errors,
        "errors": errors[:3],
    }


def batched_phase(model: Any, runner: Runner, n: int, max_new: int, cache: str) -> dict[str, Any]:
    """N streams' cycles in ONE batch, using the model's processor, vision and LLM directly
    (what a batching engine could do; the remote code's streaming API is one session at a
    time). Same prompt shape as streaming_prefill + streaming_generate's bos."""

    import torch

    with torch.inference_mode():
        return _batched(model, runner, n, max_new, cache)


def _batched(model: Any, runner: Runner, n: int, max_new: int, cache: str) -> dict[str, Any]:
    import io

    import torch
    from PIL import Image

    proc = model.processor
    tok = proc.tokenizer
    bos = "<|im_end|>\n<|im_start|>assistant\n" + model.think_str.replace("\\n", "\n")
    t0 = time.perf_counter()
    embeds = []
    for i in range(n):
        req = runner.request(f"b{i}", max_new, False)
        images = [Image.open(io.BytesIO(f.jpeg)).convert("RGB") for f in req.frames]
        prompt = "<|im_start|>user\n" + "\n".join(["<image>./</image>"] * 4 + [req.instruction])
        inputs = proc(
            [prompt],
            [images],
            [[]],
            max_slice_nums=1,
            use_image_id=False,
            chunk_input=True,
            return_tensors="pt",
            max_length=None,
            sampling_rate=16000,
        ).to(model.device)
        emb, _ = model.get_vllm_embedding(inputs)
        bos_ids = torch.tensor([tok.encode(bos)], device=model.device)
        emb = torch.cat([emb, model.llm.get_input_embeddings()(bos_ids)], dim=1)
        embeds.append(emb[0])
    sync()
    t_vision = time.perf_counter() - t0
    width = max(e.shape[0] for e in embeds)
    batch = torch.zeros((n, width, embeds[0].shape[-1]), dtype=embeds[0].dtype, device=model.device)
    mask = torch.zeros((n, width), dtype=torch.long, device=model.device)
    for i, e in enumerate(embeds):  # left padding
        batch[i, width - e.shape[0] :] = e
        mask[i, width - e.shape[0] :] = 1
    kwargs: dict[str, Any] = dict(
        inputs_embeds=batch,
        attention_mask=mask,
        max_new_tokens=max_new,
        min_new_tokens=max_new,
        do_sample=True,
        temperature=0.7,
        top_p=0.8,
        top_k=100,
        repetition_penalty=1.02,
        pad_token_id=tok.pad_token_id,
        eos_token_id=tok.convert_tokens_to_ids("<|im_end|>"),
    )
    if cache == "static":
        kwargs["cache_implementation"] = "static"
    # The remote code swaps in its own prepare_inputs_for_generation (DynamicCache.seen_tokens,
    # paligemma's mask helper); the Qwen3 class's own one is what a direct LLM user gets.
    patched = model.llm.__dict__.pop("prepare_inputs_for_generation", None)
    probed = model.llm.__dict__.pop("forward", None)  # the probe's timer breaks torch.compile
    try:
        sync()
        t1 = time.perf_counter()
        out = model.llm.generate(**kwargs)
        sync()
        t_gen = time.perf_counter() - t1
    finally:
        if patched is not None:
            model.llm.prepare_inputs_for_generation = patched
        if probed is not None:
            model.llm.forward = probed
    total = time.perf_counter() - t0
    new_tokens = int(out.shape[1]) if out.dim() == 2 else None
    return {
        "streams": n,
        "cache": cache,
        "prompt_tokens": width,
        "new_tokens_each": new_tokens,
        "vision_and_embed_s": round(t_vision, 4),
        "generate_s": round(t_gen, 4),
        "total_s": round(total, 4),
        "per_stream_cycle_s_if_batched": round(total, 4),
        "tokens_per_s_total": round(n * max_new / t_gen, 1),
        "meets_12_per_min": total <= CYCLE_PERIOD_S,
    }


# --- AWQ: an int4 checkpoint of the same random model -------------------------------------------

AWQ_LINEAR = r"llm\.model\.layers\.\d+\.(self_attn\.[qkvo]_proj|mlp\.(gate|up|down)_proj)\.weight$"


def build_awq_dir(src: Path, dst: Path, log: Log) -> None:
    """The bf16 directory turned into what the AWQ repo ships: the LLM's decoder linears as
    random packed int4 (``qweight`` int32 [in, out/8], ``qzeros`` int32 [in/128, out/8],
    ``scales`` fp16 [in/128, out]), everything else fp16, and a config whose
    ``quantization_config`` has ``modules_to_not_convert: null`` as the published one does, so
    the project's loader must fix it."""
    import re

    import torch
    from safetensors import safe_open
    from safetensors.torch import save_file

    if dst.exists():
        shutil.rmtree(dst)
    dst.mkdir(parents=True)
    for f in src.iterdir():
        if (
            f.is_file()
            and not f.name.endswith(".safetensors")
            and f.name != "config.json"
            and not f.name.endswith(".index.json")
        ):
            shutil.copy(f, dst / f.name)
    config = json.loads((src / "config.json").read_text())
    config["torch_dtype"] = "float16"
    config["quantization_config"] = {
        "bits": 4,
        "group_size": 128,
        "modules_to_not_convert": None,
        "quant_method": "awq",
        "version": "gemm",
        "zero_point": True,
    }
    (dst / "config.json").write_text(json.dumps(config, indent=2))
    index_file = src / "model.safetensors.index.json"
    shards = (
        sorted(set(json.loads(index_file.read_text())["weight_map"].values()))
        if index_file.exists()
        else ["model.safetensors"]
    )
    pattern = re.compile(AWQ_LINEAR)
    weight_map: dict[str, str] = {}
    g = torch.Generator().manual_seed(1)
    for shard in shards:
        out: dict[str, Any] = {}
        with safe_open(str(src / shard), "pt") as f:
            for name in f.keys():  # noqa: SIM118 (a safe_open handle, not a dict)
                t = f.get_tensor(name)
                if pattern.search(name):
                    n_out, n_in = t.shape
                    base = name[: -len(".weight")]
                    lim = 2**31 - 1
                    out[base + ".qweight"] = torch.randint(
                        -lim, lim, (n_in, n_out // 8), dtype=torch.int32, generator=g
                    )
                    out[base + ".qzeros"] = torch.randint(
                        -lim, lim, (n_in // 128, n_out // 8), dtype=torch.int32, generator=g
                    )
                    out[base + ".scales"] = (
                        torch.rand(n_in // 128, n_out, generator=g) * 0.003
                    ).half()
                else:
                    out[name] = t.half() if t.is_floating_point() else t
        for name in out:
            weight_map[name] = shard
        save_file(out, str(dst / shard), metadata={"format": "pt"})
    (dst / "model.safetensors.index.json").write_text(
        json.dumps({"metadata": {}, "weight_map": weight_map})
    )
    size = sum(f.stat().st_size for f in dst.glob("*.safetensors"))
    log.data.setdefault("awq", {})["checkpoint_gib"] = gib(size)
    log.save()


# --- main -------------------------------------------------------------------------------


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--code", type=Path, required=True, help="MiniCPMO45/ remote code + tokenizer")
    ap.add_argument("--frames", type=Path, required=True, help="folder of JPEG frames")
    ap.add_argument("--model-dir", type=Path, default=Path("/tmp/minicpmo-random"))
    ap.add_argument("--out", type=Path, default=Path("benchmarks/results/gpu_minicpmo.json"))
    ap.add_argument("--tiny", action="store_true", help="few-MB config (CPU smoke run)")
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--text-lengths", default="40,150")
    ap.add_argument("--streams", default="1,2,4,8,16")
    ap.add_argument("--stream-cycles", type=int, default=3)
    ap.add_argument("--batched", default="1,2,4,8,16")
    ap.add_argument("--phases", default="text,batched,speech,streams,penalty,awq")
    ap.add_argument(
        "--deadline-s",
        type=float,
        default=1e9,
        help="start no phase (or stream count) after this many seconds",
    )
    args = ap.parse_args()

    import torch

    started = time.perf_counter()

    def time_left() -> float:
        return args.deadline_s - (time.perf_counter() - started)

    log = Log(args.out)
    log.data["meta"] = {
        "argv": sys.argv,
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "tiny": args.tiny,
        "weights": "random (torch.manual_seed(0)), bf16",
        "original_rtx4090_awq": ORIGINAL_RTX4090_AWQ,
        "goal": GOAL,
    }
    import transformers

    log.data["meta"]["transformers"] = transformers.__version__
    log.save()
    if (
        args.device == "cpu"
    ):  # the loader calls .cuda(); a CPU smoke run keeps the model where it is
        torch.nn.Module.cuda = lambda self, *a, **k: self  # type: ignore[method-assign]

    if not args.skip_build:
        build_model_dir(args.code, args.model_dir, tiny=args.tiny, device=args.device, log=log)

    from deployments.engine_factory import minicpmo_load_options
    from models.describers.minicpmo import MiniCPMODescriber, MiniCPMOOptions
    from models.loading.minicpmo_loader import load_minicpmo
    from models.messages import Intensity
    from serve_app.prompt.wording import CommentaryPrompt
    from serve_app.settings import ServiceSettings

    settings = ServiceSettings(
        model_path=str(args.model_dir),
        enable_tts=True,
        tts_in_process=False,
        attn_implementation="sdpa",
    )
    instruction = CommentaryPrompt(settings.instruction, settings.language).for_cycle(
        Intensity.NORMAL
    )
    t0 = time.perf_counter()
    model = memory_phase(
        "load_with_tts_head", log, lambda: load_minicpmo(minicpmo_load_options(settings))
    )
    log.data["load"] = {
        "load_s": round(time.perf_counter() - t0, 2),
        "dtype": str(next(model.llm.parameters()).dtype),
        "has_tts": getattr(model, "tts", None) is not None,
        "has_apm": hasattr(model, "apm"),
        "attn": getattr(model.config, "_attn_implementation", None),
        "weights_gib": gib(sum(p.numel() * p.element_size() for p in model.parameters())),
        "tts_weights_gib": gib(sum(p.numel() * p.element_size() for p in model.tts.parameters()))
        if getattr(model, "tts", None) is not None
        else None,
    }
    if torch.cuda.is_available():
        log.data["load"]["allocated_after_load_gib"] = gib(torch.cuda.memory_allocated())
    log.save()
    print("loaded:", log.data["load"], flush=True)

    probe = Probe(model)
    frames = load_frames(args.frames)
    describer = MiniCPMODescriber(model)
    runner = Runner(describer, probe, frames, instruction)

    def run_text() -> None:
        runner.cycle("warmup", 40)
        res = {}
        for max_new in [int(x) for x in args.text_lengths.split(",") if x]:
            cycles = [runner.cycle("single", max_new) for _ in range(args.repeats)]
            res[str(max_new)] = {"median": summarise(cycles), "cycles": cycles}
            print(f"text {max_new}: {res[str(max_new)]['median']}", flush=True)
        log.data["text_single_stream"] = res

    def run_penalty() -> None:
        # repetition_penalty=1.0 and length_penalty=1.0 skip chunk_generate's per-id Python loops
        fast = MiniCPMODescriber(model, options=MiniCPMOOptions(repetition_penalty=1.0))
        fast_runner = Runner(fast, probe, frames, instruction)
        cycles = [fast_runner.cycle("nopen", 40) for _ in range(args.repeats)]
        log.data["text_no_repetition_penalty_40"] = {"median": summarise(cycles), "cycles": cycles}
        print("no-penalty 40:", summarise(cycles), flush=True)

    def run_speech() -> None:
        # Random weights never sample the TTS head's EOS, so each 10-token text chunk runs the
        # head to its 500-token cap: 20 text tokens (2 chunks) already make ~1000 speech tokens.
        cycles = [runner.cycle("speech", 20, speech=True) for _ in range(2)]
        log.data["speech_split_20"] = {"median": summarise(cycles), "cycles": cycles}
        print("speech:", summarise(cycles), flush=True)

    def run_streams() -> None:
        res = []
        for n in [int(x) for x in args.streams.split(",") if x]:
            if time_left() < 20 + 2.5 * n * args.stream_cycles:
                log.data.setdefault("skipped", []).append(f"streams n={n}: deadline")
                break
            r = streams_phase(runner, n, args.stream_cycles, 40)
            res.append(r)
            log.data["streams_interleaved"] = res
            log.save()
            print("streams:", r, flush=True)

    def run_batched() -> None:
        res = []
        for cache in ("dynamic", "static"):
            sizes = [int(x) for x in args.batched.split(",") if x]
            if cache == "static":  # one compile per batch size: keep it to three
                sizes = [n for n in sizes if n in (1, 4, 16)]
            for n in sizes:
                if time_left() < 60:
                    log.data.setdefault("skipped", []).append(f"batched {cache} n={n}")
                    break
                try:
                    t_warm = time.perf_counter()
                    if n == 1 or cache == "static":  # warm-up (static: compile for this size)
                        batched_phase(model, runner, n, 40, cache)
                    t_warm = time.perf_counter() - t_warm
                    r = batched_phase(model, runner, n, 40, cache)
                    r["warmup_s"] = round(t_warm, 1)
                except Exception as exc:
                    log.error(f"batched {cache} n={n}", exc)
                    torch.cuda.empty_cache()
                    break
                res.append(r)
                log.data["streams_batched_llm"] = res
                log.save()
                print("batched:", r, flush=True)

    table = {
        "text": run_text,
        "penalty": run_penalty,
        "speech": run_speech,
        "streams": run_streams,
        "batched": run_batched,
    }
    for name in [p for p in args.phases.split(",") if p in table]:
        fn = table[name]
        if time_left() < 30:
            log.data.setdefault("skipped", []).append(f"{name}: deadline")
            continue
        try:
            memory_phase(name, log, fn)
        except Exception as exc:
            log.error(name, exc)
        gc.collect()
        if torch.cuda.is_available():
            torch.cuda.empty_cache()  # cuBLAS handles of new threads need room outside torch's pool
        log.save()

    if "awq" in args.phases.split(",") and time_left() > 150:
        awq_log = log.data.setdefault("awq", {})
        try:
            from awq.modules.linear import gemm as awq_gemm

            awq_log["autoawq_kernels_awq_ext"] = awq_gemm.awq_ext is not None
            awq_log["triton_path"] = bool(getattr(awq_gemm, "TRITON_AVAILABLE", False))
        except Exception as exc:
            log.error("awq import", exc)
        else:
            try:
                del probe, describer, runner, model
                gc.collect()
                torch.cuda.empty_cache()
                awq_dir = args.model_dir.with_name(args.model_dir.name + "-awq")
                t0 = time.perf_counter()
                build_awq_dir(args.model_dir, awq_dir, log)
                awq_log["build_s"] = round(time.perf_counter() - t0, 1)
                awq_settings = ServiceSettings(
                    model_path=str(awq_dir), enable_tts=False, attn_implementation="sdpa"
                )
                t0 = time.perf_counter()
                awq_model = memory_phase(
                    "awq_load_text_only",
                    log,
                    lambda: load_minicpmo(minicpmo_load_options(awq_settings)),
                )
                awq_log["load_s"] = round(time.perf_counter() - t0, 1)
                awq_log["dtype"] = str(awq_model.llm.lm_head.weight.dtype)
                awq_log["linear_class"] = type(awq_model.llm.model.layers[0].mlp.up_proj).__name__
                awq_log["vpm_mlp_class"] = type(awq_model.vpm.encoder.layers[0].mlp.fc1).__name__
                awq_log["allocated_after_load_gib"] = gib(torch.cuda.memory_allocated())
                awq_probe = Probe(awq_model)
                awq_runner = Runner(MiniCPMODescriber(awq_model), awq_probe, frames, instruction)

                def awq_cycles() -> None:
                    awq_runner.cycle("awq-warm", 40)
                    cycles = [awq_runner.cycle("awq", 40) for _ in range(args.repeats)]
                    awq_log["text_40"] = {"median": summarise(cycles), "cycles": cycles}
                    print("awq 40:", summarise(cycles), flush=True)

                memory_phase("awq_text", log, awq_cycles)
            except Exception as exc:
                log.error("awq", exc)
        log.save()
    print("done; errors:", len(log.data["errors"]), flush=True)


if __name__ == "__main__":
    main()
