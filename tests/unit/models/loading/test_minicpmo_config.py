"""Reading a MiniCPM-o directory's config.json and fixing the AWQ config, on synthetic dirs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from models.loading.minicpmo_config import (
    awq_modules_to_not_convert,
    inspect_model_dir,
    prepare_quantization_config,
)

ISSUE_LIST = [
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
# As published in the AWQ repo: modules_to_not_convert is null (nerdpudding model_patches.md).
AWQ_QUANT = {
    "bits": 4,
    "group_size": 128,
    "modules_to_not_convert": None,
    "quant_method": "awq",
    "version": "gemm",
    "zero_point": True,
}


def write_model_dir(root: Path, name: str, quantization: dict | None) -> Path:
    model = root / name
    model.mkdir(parents=True)
    config = {"architectures": ["MiniCPMO"], "model_type": "minicpmo", "torch_dtype": "bfloat16"}
    if quantization is not None:
        config["quantization_config"] = quantization
    (model / "config.json").write_text(json.dumps(config, indent=2))
    return model


# --- dtype and quantization -----------------------------------------------------------------


def test_awq_directory_loads_in_float16(tmp_path: Path) -> None:
    info = inspect_model_dir(write_model_dir(tmp_path, "MiniCPM-o-4_5-awq", AWQ_QUANT))
    assert info.is_awq and info.dtype_name == "float16" and info.is_local


def test_bf16_directory_loads_in_bfloat16(tmp_path: Path) -> None:
    info = inspect_model_dir(write_model_dir(tmp_path, "MiniCPM-o-4_5", None))
    assert not info.is_awq and info.quant_method is None and info.dtype_name == "bfloat16"


def test_a_directory_without_config_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="MODEL_PATH"):
        inspect_model_dir(tmp_path / "nothing-here")


def test_modules_not_to_convert_are_everything_but_the_llm_layers() -> None:
    assert awq_modules_to_not_convert() == ISSUE_LIST


def test_the_awq_fix_is_applied_to_the_loaded_config_not_the_file(tmp_path: Path) -> None:
    model = write_model_dir(tmp_path, "MiniCPM-o-4_5-awq", AWQ_QUANT)
    before = (model / "config.json").read_bytes()
    config = SimpleNamespace(**json.loads(before))  # what AutoConfig hands back, in shape
    prepare_quantization_config(config)
    assert config.quantization_config["modules_to_not_convert"] == ISSUE_LIST
    assert config.quantization_config["group_size"] == 128
    assert (model / "config.json").read_bytes() == before


def test_the_awq_fix_keeps_modules_a_config_already_lists() -> None:
    config = SimpleNamespace(quantization_config={**AWQ_QUANT, "modules_to_not_convert": ["x"]})
    prepare_quantization_config(config)
    assert config.quantization_config["modules_to_not_convert"] == ["x", *ISSUE_LIST]


def test_the_awq_fix_through_transformers_autoconfig(tmp_path: Path) -> None:
    transformers = pytest.importorskip("transformers")
    # A config transformers knows without remote code, so nothing lands in the modules cache.
    model = tmp_path / "awq"
    model.mkdir()
    raw = {"model_type": "qwen3", "quantization_config": AWQ_QUANT}
    (model / "config.json").write_text(json.dumps(raw))
    before = (model / "config.json").read_bytes()
    config = transformers.AutoConfig.from_pretrained(str(model))
    prepare_quantization_config(config)
    assert config.quantization_config["modules_to_not_convert"] == ISSUE_LIST
    awq = transformers.AwqConfig.from_dict(config.quantization_config)
    assert awq.modules_to_not_convert == ISSUE_LIST  # what from_pretrained builds from it
    assert (model / "config.json").read_bytes() == before
