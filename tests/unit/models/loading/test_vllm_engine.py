"""Start-up checks before vLLM spends minutes loading: each names the setting or the file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.loading.minicpmo_config import awq_modules_to_not_convert
from models.loading.vllm_engine import (
    EngineStartError,
    ModelDirError,
    VllmEngineOptions,
    check_model_dir,
    engine_args,
    start_engine,
)


def write_model_dir(root: Path, **config: object) -> Path:
    path = root / "MiniCPM-o-4_5"
    path.mkdir(exist_ok=True)
    raw = {"architectures": ["MiniCPMO"], "version": "4.5", **config}
    (path / "config.json").write_text(json.dumps({k: v for k, v in raw.items() if v is not None}))
    (path / "tokenizer_config.json").write_text("{}")
    return path


def test_bf16_checkpoint_runs_in_bfloat16_without_overrides(tmp_path: Path) -> None:
    model = check_model_dir(write_model_dir(tmp_path))
    assert (model.dtype, model.quant_method, model.hf_overrides) == ("bfloat16", None, {})


def test_awq_checkpoint_runs_in_float16_with_the_vision_tower_left_unquantized(
    tmp_path: Path,
) -> None:
    quant = {"quant_method": "awq", "bits": 4, "group_size": 128, "modules_to_not_convert": None}
    model = check_model_dir(write_model_dir(tmp_path, quantization_config=quant))
    assert (model.dtype, model.quant_method) == ("float16", "awq")
    fixed = model.hf_overrides["quantization_config"]
    assert fixed["modules_to_not_convert"] == awq_modules_to_not_convert()
    assert fixed["bits"] == 4
    on_disk = json.loads((tmp_path / "MiniCPM-o-4_5" / "config.json").read_text())
    assert on_disk["quantization_config"]["modules_to_not_convert"] is None, "files untouched"


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"version": None}, r'"version" is None, not "4\.5"'),
        ({"version": "2.6"}, r"builds MiniCPM-o 4\.5 only when"),
        ({"architectures": ["Qwen3ForCausalLM"]}, "is not MiniCPM-o"),
        ({"quantization_config": {"quant_method": "gptq"}}, "'gptq' is not served"),
    ],
)
def test_a_config_vllm_would_misread_is_refused(
    tmp_path: Path, config: dict[str, object], message: str
) -> None:
    with pytest.raises(ModelDirError, match=message):
        check_model_dir(write_model_dir(tmp_path, **config))


def test_missing_or_broken_files_name_model_path(tmp_path: Path) -> None:
    with pytest.raises(ModelDirError, match=r"MODEL_PATH .* is not a directory"):
        check_model_dir(tmp_path / "absent")
    with pytest.raises(ModelDirError, match=r"has no config\.json"):
        check_model_dir(tmp_path)
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(ModelDirError, match="not valid JSON"):
        check_model_dir(tmp_path)
    path = write_model_dir(tmp_path)
    (path / "tokenizer_config.json").unlink()
    with pytest.raises(ModelDirError, match=r"lacks tokenizer_config\.json"):
        check_model_dir(path)


def test_engine_arguments_keep_one_slice_per_frame_and_the_processor_off_the_loop(
    tmp_path: Path,
) -> None:
    model = check_model_dir(write_model_dir(tmp_path))
    args = engine_args(VllmEngineOptions(str(model.path), images_per_prompt=8), model)
    assert args["limit_mm_per_prompt"] == {"image": 8, "video": 0, "audio": 0}
    assert args["mm_processor_kwargs"] == {"max_slice_nums": 1}
    assert args["enable_prefix_caching"] and args["trust_remote_code"]
    # vLLM refuses more than one renderer thread with its (thread-unsafe) processor cache on.
    assert (args["renderer_num_workers"], args["mm_processor_cache_gb"]) == (4, 0)
    single = engine_args(VllmEngineOptions(str(model.path), renderer_threads=1), model)
    assert single["mm_processor_cache_gb"] > 0


def test_no_gpu_is_a_start_error_that_says_what_to_do(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(EngineStartError, match=r"needs a CUDA GPU.*BACKEND=embedded"):
        start_engine(VllmEngineOptions(str(write_model_dir(tmp_path))))


def test_a_bad_model_dir_fails_before_the_gpu_check(tmp_path: Path) -> None:
    with pytest.raises(ModelDirError, match=r"has no config\.json"):
        start_engine(VllmEngineOptions(str(tmp_path)))
