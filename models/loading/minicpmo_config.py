"""What a MiniCPM-o directory's config.json says, and the AWQ config's one fix.

Pure: neither torch nor transformers. Both engines use it: the remote-code loader
(minicpmo_loader.py) and vLLM (vllm_engine.py).

Source for the AWQ facts: nerdpudding/nerdpudding@7e3f6b7 docs/model_patches.md (the AWQ
config's ``modules_to_not_convert: null`` and the SigLIP 4304 % 128 assertion).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

DtypeName = Literal["float16", "bfloat16"]


def awq_modules_to_not_convert() -> list[str]:
    """Everything but the LLM's decoder layers stays in float16.

    Only ``llm.model.layers.*`` are int4 in the AWQ checkpoint; without this list transformers
    tries to quantize the SigLIP MLP (intermediate size 4304, not a multiple of the group size
    128) and asserts (nerdpudding docs/model_patches.md).
    """
    return [
        "vpm",
        "resampler",
        "apm",
        "audio_projection_layer",
        "audio_avg_pooler",
        "tts",
        "llm.model.embed_tokens",
        "llm.lm_head",
        "llm.model.norm",
    ]


@dataclass(frozen=True, slots=True)
class ModelDirInfo:
    """What a model's config.json says about how to load it."""

    path: str
    is_local: bool
    quant_method: str | None  # "awq" for the int4 repo, None for BF16
    dtype_name: DtypeName

    @property
    def is_awq(self) -> bool:
        return self.quant_method == "awq"


def describe_config(raw: dict[str, Any], path: str, *, is_local: bool) -> ModelDirInfo:
    """AWQ checkpoints compute in float16 (autoawq's kernels); everything else in bfloat16."""
    quantization = raw.get("quantization_config")
    method = None
    if isinstance(quantization, dict):
        method = str(quantization.get("quant_method", "unknown")).lower()
    dtype: DtypeName = "float16" if method is not None else "bfloat16"
    return ModelDirInfo(path=path, is_local=is_local, quant_method=method, dtype_name=dtype)


def inspect_model_dir(path: str | Path) -> ModelDirInfo:
    """Read ``config.json`` of a local model directory."""
    config_file = Path(path) / "config.json"
    if not config_file.is_file():
        raise FileNotFoundError(
            f"MODEL_PATH '{path}' has no config.json: download the model there "
            "(docs/minicpmo.md) or point MODEL_PATH at it"
        )
    raw = json.loads(config_file.read_text(encoding="utf-8"))
    return describe_config(raw, str(path), is_local=True)


def patched_quantization_config(raw: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``raw`` whose ``modules_to_not_convert`` also lists every non-LLM module."""
    patched = dict(raw)
    existing = list(raw.get("modules_to_not_convert") or [])
    patched["modules_to_not_convert"] = existing + [
        name for name in awq_modules_to_not_convert() if name not in existing
    ]
    return patched


def prepare_quantization_config(config: Any) -> Any:
    """Fix ``modules_to_not_convert`` on a loaded config object, never on disk.

    ``config`` is what ``AutoConfig.from_pretrained`` returned; its ``quantization_config``
    is the JSON dict (transformers turns it into an ``AwqConfig`` later, in
    ``from_pretrained``, keeping this key). Passing the patched object as ``config=`` leaves the
    user's files untouched, so an update of the model directory cannot undo the fix.
    """
    quantization = getattr(config, "quantization_config", None)
    if quantization is None:
        return config
    if isinstance(quantization, dict):
        config.quantization_config = patched_quantization_config(quantization)
    else:  # already a QuantizationConfigMixin (a config re-used after a load)
        current = {"modules_to_not_convert": quantization.modules_to_not_convert}
        quantization.modules_to_not_convert = patched_quantization_config(current)[
            "modules_to_not_convert"
        ]
    return config
