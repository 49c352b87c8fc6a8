"""Starting MiniCPM-o 4.5 in vLLM (AsyncLLM, V1): checks first, then the engine.

Everything that can go wrong on a user's machine is checked before vLLM spends minutes on
start-up, and the error names the setting or the file: no CUDA GPU, no config.json, a config
without ``"version": "4.5"`` (vLLM's MiniCPM-O class reads that field to choose the model
generation and would otherwise build 2.6 without a word), a directory that is not MiniCPM-o,
missing tokenizer files. A vLLM that fails while starting is reported as
:class:`EngineStartError` with the model path, so the replica fails its start (Serve reports
DEPLOY_FAILED) instead of hanging.

AWQ int4 checkpoints run through vLLM's AWQ kernels (Marlin on Ampere and newer) in float16;
everything else in bfloat16. The published AWQ config leaves ``modules_to_not_convert`` empty,
which would mark the vision tower as quantized; the engine gets the fixed list through
``hf_overrides``, and the user's files are never edited.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from models.loading.minicpmo_config import describe_config, patched_quantization_config

log = logging.getLogger(__name__)

REQUIRED_VERSION = "4.5"
TOKENIZER_FILES = ("tokenizer_config.json",)
LoadFormat = Literal["auto", "safetensors", "dummy"]


class ModelDirError(ValueError):
    """The model directory cannot be served; the message names MODEL_PATH and the file."""


class EngineStartError(RuntimeError):
    """vLLM did not come up; the message names the model path and vLLM's reason."""


@dataclass(frozen=True, slots=True)
class VllmEngineOptions:
    """How to start the engine (plain values; the factory maps settings onto them)."""

    model_path: str
    max_model_len: int = 8192
    gpu_memory_utilization: float = 0.85
    max_num_seqs: int = 128
    images_per_prompt: int = 4
    # Threads for the tokenizer and image processor. Above 1, vLLM needs its processor cache
    # off (not thread-safe); the cache only helps repeated images, and every frame is new.
    renderer_threads: int = 4
    load_format: LoadFormat = "auto"  # "dummy": random weights of the right shapes (benchmarks)
    enforce_eager: bool = False
    seed: int = 0


@dataclass(frozen=True, slots=True)
class MiniCPMODir:
    path: Path
    dtype: Literal["float16", "bfloat16"]
    quant_method: str | None
    hf_overrides: dict[str, Any]


def check_model_dir(model_path: str | Path) -> MiniCPMODir:
    path = Path(model_path)
    config_file = path / "config.json"
    if not path.is_dir():
        raise ModelDirError(f"MODEL_PATH '{path}' is not a directory (docs/minicpmo.md)")
    if not config_file.is_file():
        raise ModelDirError(f"MODEL_PATH '{path}' has no config.json: download the model there")
    try:
        raw = json.loads(config_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise ModelDirError(f"{config_file} is not valid JSON: {error}") from None
    architectures = raw.get("architectures") or []
    if not any("MiniCPMO" in str(name) for name in architectures):
        raise ModelDirError(
            f"{config_file}: architectures {architectures} is not MiniCPM-o (MiniCPMO)"
        )
    if str(raw.get("version", "")) != REQUIRED_VERSION:
        raise ModelDirError(
            f'{config_file}: "version" is {raw.get("version")!r}, not "{REQUIRED_VERSION}". '
            "vLLM builds MiniCPM-o 4.5 only when config.json says so (otherwise 2.6, silently); "
            f'add "version": "{REQUIRED_VERSION}" if this is MiniCPM-o 4.5'
        )
    missing = [name for name in TOKENIZER_FILES if not (path / name).is_file()]
    if missing:
        raise ModelDirError(f"MODEL_PATH '{path}' lacks {', '.join(missing)}")
    info = describe_config(raw, str(path), is_local=True)
    overrides: dict[str, Any] = {}
    if info.is_awq:
        overrides["quantization_config"] = patched_quantization_config(raw["quantization_config"])
    elif info.quant_method is not None:
        raise ModelDirError(
            f"{config_file}: quantization {info.quant_method!r} is not served; use the AWQ "
            "int4 or the BF16 checkpoint"
        )
    return MiniCPMODir(path, info.dtype_name, info.quant_method, overrides)


def engine_args(options: VllmEngineOptions, model: MiniCPMODir) -> dict[str, Any]:
    """Keyword arguments for ``vllm.engine.arg_utils.AsyncEngineArgs``."""
    return {
        "model": str(model.path),
        "tokenizer": str(model.path),
        "trust_remote_code": True,  # the checkpoint's processing and configuration code
        "dtype": model.dtype,
        "hf_overrides": model.hf_overrides,
        "max_model_len": options.max_model_len,
        "gpu_memory_utilization": options.gpu_memory_utilization,
        "max_num_seqs": options.max_num_seqs,
        # Frames only: no video or audio inputs are ever sent, so none are profiled for.
        "limit_mm_per_prompt": {"image": options.images_per_prompt, "video": 0, "audio": 0},
        # One 64-token slice per frame (the processor's default is up to 9 slices).
        "mm_processor_kwargs": {"max_slice_nums": 1},
        "renderer_num_workers": options.renderer_threads,
        "mm_processor_cache_gb": 0 if options.renderer_threads > 1 else 4,
        "enable_prefix_caching": True,  # each stream's history is the next cycle's prefix
        "load_format": options.load_format,
        "enforce_eager": options.enforce_eager,
        "seed": options.seed,
        "disable_log_stats": True,
    }


def cuda_available() -> bool:
    try:
        import torch
    except ImportError:
        return False
    return bool(torch.cuda.is_available())


def start_engine(options: VllmEngineOptions) -> tuple[Any, Any]:
    """Check, then start ``AsyncLLM``; returns ``(engine, tokenizer)``."""
    model = check_model_dir(options.model_path)
    if not cuda_available():
        raise EngineStartError(
            "backend 'minicpmo' needs a CUDA GPU and none is visible to this process "
            "(set BACKEND=embedded, or run on a GPU host)"
        )
    try:
        from transformers import AutoTokenizer
        from vllm.engine.arg_utils import AsyncEngineArgs
        from vllm.v1.engine.async_llm import AsyncLLM
    except ImportError as error:
        raise EngineStartError(
            f"backend 'minicpmo' needs the [gpu] extra (pip install -e '.[gpu]'): {error}"
        ) from None
    args = engine_args(options, model)
    log.info(
        "starting vLLM for MiniCPM-o 4.5 at %s: %s, dtype %s, up to %d sequences",
        model.path,
        "AWQ int4" if model.quant_method else "BF16",
        model.dtype,
        options.max_num_seqs,
    )
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(model.path), trust_remote_code=True)
        engine = AsyncLLM.from_engine_args(AsyncEngineArgs(**args))
    except Exception as error:  # vLLM raises many kinds; the user needs the path and reason
        raise EngineStartError(
            f"vLLM could not start MiniCPM-o from MODEL_PATH '{model.path}': "
            f"{type(error).__name__}: {error}"
        ) from error
    return engine, tokenizer
