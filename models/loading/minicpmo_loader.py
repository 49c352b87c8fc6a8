"""Loading MiniCPM-o 4.5 (AWQ int4 or BF16) through transformers' remote code.

Everything here that can go wrong on a user's machine is checked before the multi-GB load
starts, and says what to do: which dtype the model directory asks for, the AWQ repo's
``modules_to_not_convert`` gap, a stale copy of the remote code in transformers' module
cache, and the TTS assets the AWQ repo does not ship. The pure parts (reading a config,
patching it, comparing files) need neither torch nor transformers; ``load_minicpmo`` imports
them lazily.

Sources for the API facts (public repositories, at the commits named):
- OpenBMB/MiniCPM-o-Demo@28b60cf MiniCPMO45/modeling_minicpmo.py: ``init_tts`` (l.239),
  ``init_token2wav_cache`` (l.1388).
- transformers 4.51.0 dynamic_module_utils.py l.350-403 (local remote code is copied to
  ``HF_MODULES_CACHE/transformers_modules/<basename>``) and modeling_utils.py l.4193-4207
  (when ``config=`` is an object, the remaining kwargs go to the model's ``__init__``).
- nerdpudding/nerdpudding@7e3f6b7 docs/model_patches.md: the AWQ config's
  ``modules_to_not_convert: null`` and the SigLIP 4304 % 128 assertion.
"""

from __future__ import annotations

import filecmp
import importlib.util
import inspect
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    import numpy as np

    from serve_app.settings import ServiceSettings

log = logging.getLogger(__name__)

DtypeName = Literal["float16", "bfloat16"]

BF16_REPO = "openbmb/MiniCPM-o-4_5"
"""The repository that ships ``assets/`` (Token2wav and reference voices); the AWQ one does not."""

TOKEN2WAV_FILES: tuple[str, ...] = (
    "speech_tokenizer_v2_25hz.onnx",
    "campplus.onnx",
    "flow.yaml",
    "flow.pt",
    "hift.pt",
)
"""Files every stepaudio2.Token2wav version reads (minicpmo-utils 1.0.5-1.0.7
src/stepaudio2/token2wav.py ``__init__``). 1.0.7 also wants config.yaml and hift_original.pt
(its l.100-104) and says so itself; see docs/minicpmo.md on why the pin stays below it."""


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


class MissingAssetsError(FileNotFoundError):
    """The Token2wav assets or the reference voice are not where the settings say."""


def check_tts_assets(settings: ServiceSettings) -> tuple[Path, Path]:
    """Return (Token2wav dir, reference wav), or say exactly what to copy where."""
    tts_dir = settings.resolved_tts_model_dir()
    ref = settings.resolved_ref_audio_path()
    problems = []
    missing = [name for name in TOKEN2WAV_FILES if not (tts_dir / name).is_file()]
    if missing:
        problems.append(
            f"TTS_MODEL_DIR '{tts_dir}' lacks {', '.join(missing)}: copy assets/token2wav/ "
            f"from the BF16 repo {BF16_REPO} (the AWQ repo ships no assets/), e.g. "
            f"`huggingface-cli download {BF16_REPO} --include 'assets/*' "
            f"--local-dir {settings.model_path}`, or set TTS_MODEL_DIR to a folder holding them"
        )
    if not ref.is_file():
        problems.append(
            f"REF_AUDIO_PATH '{ref}' does not exist: set REF_AUDIO_PATH to a clean mono voice "
            f"wav of 5-15 s (the voice the commentary speaks in), e.g. one of the reference "
            f"voices in {BF16_REPO}'s assets/"
        )
    if problems:
        raise MissingAssetsError("speech is on but its assets are missing. " + " ".join(problems))
    return tts_dir, ref


def init_tts_kwargs(init_tts: Callable[..., Any], tts_dir: Path, float16: bool) -> dict[str, Any]:
    """Arguments for ``model.init_tts``, fitted to the remote code's version.

    The AWQ repo's (and the Demo copy's) ``init_tts(streaming=False, model_dir=None,
    enable_float16=False, n_timesteps=10)`` picks CosyVoice2 unless ``streaming=True``
    (Demo@28b60cf modeling_minicpmo.py l.239); the newer BF16 file has no ``streaming`` and
    always uses Token2wav (nerdpudding docs/sprint2/SPRINT2_LOG.md).
    """
    kwargs: dict[str, Any] = {"model_dir": str(tts_dir), "enable_float16": float16}
    if "streaming" in inspect.signature(init_tts).parameters:
        kwargs["streaming"] = True
    return kwargs


def load_reference_voice_16k(path: Path) -> np.ndarray:
    """Mono float32 at 16 kHz: what ``init_token2wav_cache(prompt_speech_16k)`` wants.

    scipy rather than librosa: minicpmo-utils pins librosa==0.9.0, which predates numpy 2 (it
    still uses ``np.bool`` in places), and scipy is a dependency of the service anyway.
    """
    import numpy as np
    from scipy.io import wavfile

    from models.audio import resample

    rate, samples = wavfile.read(str(path))
    if np.issubdtype(samples.dtype, np.integer):  # PCM: scale to [-1, 1]
        info = np.iinfo(samples.dtype)
        samples = (samples.astype(np.float64) - (info.max + info.min + 1) / 2) / (info.max + 1)
    mono = samples.reshape(len(samples), -1).mean(axis=1)
    return resample(mono, int(rate), 16_000)


def attach_speech(
    model: Any,
    settings: ServiceSettings,
    *,
    vocoder_in_process: bool,
    load_reference: Callable[[Path], np.ndarray] = load_reference_voice_16k,
) -> None:
    """Ready the TTS side of a loaded model.

    In-process: build Token2wav inside the model and prime its cache with the reference voice
    (``init_token2wav_cache`` writes it to a temp wav and calls ``set_stream_cache``,
    Demo@28b60cf l.1388-1404). Split: nothing to build here; the TTS head already exists
    (``init_tts=True`` in the config) and the describer hands its tokens to the Vocoder
    deployment, which owns Token2wav and the reference voice.
    """
    if not vocoder_in_process:
        log.info("speech: TTS head in this process, Token2wav in the Vocoder deployment")
        return
    tts_dir, ref = check_tts_assets(settings)
    kwargs = init_tts_kwargs(model.init_tts, tts_dir, settings.tts_float16)
    log.info("speech: Token2wav in process, init_tts(%s), reference voice %s", kwargs, ref)
    model.init_tts(**kwargs)
    model.init_token2wav_cache(load_reference(ref))


def load_minicpmo(
    settings: ServiceSettings,
    *,
    speech: bool | None = None,
    vocoder_in_process: bool | None = None,
) -> Any:
    """Load MiniCPM-o onto the current CUDA device, ready for ``streaming_prefill``.

    ``speech`` defaults to ``settings.enable_tts``: without it the TTS head is not even built
    (~1 GB less). ``init_audio=False`` always: the service sends no audio in, and the
    Whisper encoder would cost VRAM for nothing.
    """
    import torch
    from transformers import AutoConfig, AutoModel
    from transformers.utils import HF_MODULES_CACHE

    speech = settings.enable_tts if speech is None else speech
    in_process = settings.tts_in_process if vocoder_in_process is None else vocoder_in_process
    # One spelling of the path everywhere: transformers names the module cache after it.
    is_local = Path(settings.model_path).is_dir()
    path = str(Path(settings.model_path)) if is_local else settings.model_path
    if is_local:
        refresh_remote_code_cache(path, HF_MODULES_CACHE)
    with optional_remote_imports():
        config = AutoConfig.from_pretrained(path, trust_remote_code=True)
    info = describe_config(config.to_dict(), path, is_local=is_local)
    if info.is_awq:
        prepare_quantization_config(config)
    # With ``config=`` given as an object, transformers hands leftover kwargs to the model's
    # __init__ (4.51 modeling_utils.py l.4207), which takes none: set the flags on the config.
    config.init_vision = True
    config.init_audio = False
    config.init_tts = speech
    dtype = getattr(torch, info.dtype_name)
    log.info(
        "loading MiniCPM-o from %s: %s, dtype %s, attention %s, speech %s",
        path,
        "AWQ int4" if info.is_awq else (info.quant_method or "unquantized"),
        info.dtype_name,
        settings.attn_implementation,
        ("in process" if in_process else "tokens to the Vocoder") if speech else "off",
    )
    with optional_remote_imports():
        model = AutoModel.from_pretrained(
            path,
            config=config,
            trust_remote_code=True,
            attn_implementation=settings.attn_implementation,
            torch_dtype=dtype,
        )
    # No .bfloat16() here: it would undo float16 on AWQ (the Demo's loader skips it for the same
    # reason, MiniCPM-o-Demo core/processors/unified.py _load_model).
    model = model.eval().cuda()
    if speech:
        attach_speech(model, settings, vocoder_in_process=in_process)
    return model
