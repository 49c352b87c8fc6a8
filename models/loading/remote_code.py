"""Running MiniCPM-o's remote code as shipped: a fresh module cache and a relaxed import scan.

transformers copies a local model directory's ``*.py`` into its modules cache and refuses to
load when the code imports a package that is not installed. Both bite this service: a stale
copy runs silently, and the remote code imports packages only on paths the service never
takes. Neither helper edits the user's model directory.

Source: transformers 4.51.0 dynamic_module_utils.py l.195-217 (``check_imports``) and
l.350-403 (local remote code is copied to ``HF_MODULES_CACHE/transformers_modules/<basename>``).
"""

from __future__ import annotations

import filecmp
import importlib.util
import logging
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def remote_code_cache_dir(model_dir: str | Path, modules_cache_dir: str | Path) -> Path:
    """Where transformers 4.51 copies a local directory's remote code.

    ``HF_MODULES_CACHE/transformers_modules/<basename of the path as given>`` (4.51
    dynamic_module_utils.py l.352 and l.386). transformers 5 hashes the sources into the folder
    name instead, so there the folder simply does not exist and nothing is stale.
    """
    return Path(modules_cache_dir) / "transformers_modules" / Path(model_dir).name


def refresh_remote_code_cache(model_dir: str | Path, modules_cache_dir: str | Path) -> list[str]:
    """Make the cached remote code equal the model directory's ``*.py``; return what changed.

    transformers 4.51 re-copies only the module it loads and that module's direct relative
    imports, and compares them shallowly (mtime and size first). A file reached indirectly,
    or an edit that kept size and mtime, stays stale in the cache and runs silently: the
    original system ran old model code that way. Comparing every file byte for byte costs
    milliseconds.
    """
    cache_dir = remote_code_cache_dir(model_dir, modules_cache_dir)
    if not cache_dir.is_dir():
        return []  # never loaded, or a transformers that keys the cache by content
    refreshed = []
    for source in sorted(Path(model_dir).glob("*.py")):
        cached = cache_dir / source.name
        if cached.exists() and filecmp.cmp(source, cached, shallow=False):
            continue
        if cached.exists():
            shutil.copy(source, cached)  # only files transformers already copied once
            refreshed.append(source.name)
    if refreshed:
        # Compiled copies would be recompiled anyway (new mtime); dropping them is belt and braces.
        shutil.rmtree(cache_dir / "__pycache__", ignore_errors=True)
        log.warning(
            "remote code in %s was stale (%s differed from %s); refreshed",
            cache_dir,
            ", ".join(refreshed),
            model_dir,
        )
    return refreshed


OPTIONAL_REMOTE_IMPORTS: tuple[str, ...] = ("flag_gems", "librosa", "soundfile")
"""Packages the remote code imports only on paths the service does not take.

transformers (4.51 dynamic_module_utils.py ``check_imports``, l.195-217) scans a remote-code file
for every ``import`` outside ``try`` blocks, also those inside ``if`` blocks and functions, and
refuses to load the model if one is missing. MiniCPM-o's modeling_minicpmo.py (Demo@28b60cf)
imports ``flag_gems`` only under ``USE_FLAGOS=1`` (l.45-47), ``librosa`` only in
``get_sys_prompt`` for a reference-audio path (l.290, l.297) and ``soundfile`` only for chat's
audio file and ``init_token2wav_cache`` (l.1230, l.1389): seen on the GPU machine, where loading
stopped with "requires the following packages ... flag_gems, librosa, soundfile". The in-process
speech path still needs soundfile, and fails there with Python's own ImportError if it is missing.
"""


def skip_missing_optional_imports(
    found: Iterable[str],
    optional: Iterable[str] = OPTIONAL_REMOTE_IMPORTS,
    is_installed: Callable[[str], bool] | None = None,
) -> tuple[list[str], list[str]]:
    """Split a remote-code file's imports into (to check, skipped: optional and not installed)."""
    installed = is_installed or (lambda name: importlib.util.find_spec(name) is not None)
    optional = set(optional)
    keep, skipped = [], []
    for name in found:
        (skipped if name in optional and not installed(name) else keep).append(name)
    return keep, skipped


@contextmanager
def optional_remote_imports(optional: Iterable[str] = OPTIONAL_REMOTE_IMPORTS) -> Iterator[None]:
    """While loading, let transformers' import check pass over missing optional packages."""
    from transformers import dynamic_module_utils

    original = getattr(dynamic_module_utils, "get_imports", None)
    if original is None:  # a transformers without the scan: nothing to relax
        yield
        return
    names = tuple(optional)

    def get_imports(filename: Any) -> list[str]:
        keep, skipped = skip_missing_optional_imports(original(filename), names)
        if skipped:
            log.info(
                "remote code %s imports %s on paths the service does not use; not installed, "
                "not required",
                Path(str(filename)).name,
                ", ".join(skipped),
            )
        return keep

    dynamic_module_utils.get_imports = get_imports
    try:
        yield
    finally:
        dynamic_module_utils.get_imports = original
