"""The remote code's module cache and import scan: synthetic model directories, no weights."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from models.loading.remote_code import (
    optional_remote_imports,
    refresh_remote_code_cache,
    remote_code_cache_dir,
    skip_missing_optional_imports,
)
from tests.unit.models.loading.test_minicpmo_config import AWQ_QUANT, write_model_dir

# --- remote code cache ----------------------------------------------------------------------


def test_stale_remote_code_in_the_modules_cache_is_refreshed(tmp_path: Path) -> None:
    model = write_model_dir(tmp_path, "MiniCPM-o-4_5-awq", AWQ_QUANT)
    (model / "modeling_minicpmo.py").write_text("VERSION = 2\n")
    (model / "utils.py").write_text("HELPERS = 1\n")
    cache_root = tmp_path / "hf_modules"
    cached = remote_code_cache_dir(model, cache_root)
    assert cached == cache_root / "transformers_modules" / "MiniCPM-o-4_5-awq"
    cached.mkdir(parents=True)
    (cached / "modeling_minicpmo.py").write_text("VERSION = 1\n")  # same size: the shallow trap
    (cached / "utils.py").write_text("HELPERS = 1\n")
    (cached / "__pycache__").mkdir()
    stamp = os.stat(model / "modeling_minicpmo.py")
    os.utime(cached / "modeling_minicpmo.py", ns=(stamp.st_atime_ns, stamp.st_mtime_ns))

    assert refresh_remote_code_cache(model, cache_root) == ["modeling_minicpmo.py"]
    assert (cached / "modeling_minicpmo.py").read_text() == "VERSION = 2\n"
    assert not (cached / "__pycache__").exists()
    assert refresh_remote_code_cache(model, cache_root) == []  # now in step


def test_a_model_never_loaded_has_nothing_to_refresh(tmp_path: Path) -> None:
    model = write_model_dir(tmp_path, "MiniCPM-o-4_5", None)
    (model / "modeling_minicpmo.py").write_text("VERSION = 2\n")
    assert refresh_remote_code_cache(model, tmp_path / "hf_modules") == []


def test_the_cache_folder_ignores_a_trailing_slash(tmp_path: Path) -> None:
    assert remote_code_cache_dir(f"{tmp_path}/MiniCPM-o-4_5/", "/c").name == "MiniCPM-o-4_5"


# --- optional imports of the remote code (seen on the GPU machine, benchmarks/gpu_minicpmo.py) ---


def test_missing_optional_remote_imports_are_skipped_and_others_kept() -> None:
    found = ["torch", "flag_gems", "librosa", "soundfile", "numpy", "missing_required"]
    installed = {"torch", "numpy", "soundfile"}
    keep, skipped = skip_missing_optional_imports(found, is_installed=installed.__contains__)
    # installed optional packages are still checked; a missing required one is still reported
    assert keep == ["torch", "soundfile", "numpy", "missing_required"]
    assert skipped == ["flag_gems", "librosa"]


def test_optional_remote_imports_relaxes_transformers_scan_only_while_loading(
    tmp_path: Path,
) -> None:
    pytest.importorskip("transformers")
    from transformers import dynamic_module_utils

    module = tmp_path / "modeling_x.py"
    module.write_text(
        "import os\nimport json\nif os.getenv('USE_FLAGOS') == '1':\n    import flag_gems\n"
        "def f():\n    import librosa\n"
    )
    original = dynamic_module_utils.get_imports
    with optional_remote_imports():
        assert "flag_gems" not in dynamic_module_utils.get_imports(str(module))
        assert "librosa" not in dynamic_module_utils.get_imports(str(module))
        dynamic_module_utils.check_imports(str(module))  # would raise ImportError outside
    assert dynamic_module_utils.get_imports is original
    with pytest.raises(ImportError, match="flag_gems"):
        dynamic_module_utils.check_imports(str(module))
