"""Loading MiniCPM-o 4.5 (AWQ int4 or BF16) through transformers' remote code.

Everything here that can go wrong on a user's machine is checked before the multi-GB load
starts, and says what to do: which dtype the model directory asks for and the AWQ repo's
``modules_to_not_convert`` gap (minicpmo_config.py), a stale copy of the remote code in
transformers' module cache (remote_code.py), and the TTS assets the AWQ repo does not ship
(token2wav_assets.py). ``load_minicpmo`` imports torch and transformers lazily.

Sources for the API facts (public repositories, at the commits named):
- OpenBMB/MiniCPM-o-Demo@28b60cf MiniCPMO45/modeling_minicpmo.py: ``init_tts`` (l.239),
  ``init_token2wav_cache`` (l.1388).
- transformers 4.51.0 modeling_utils.py l.4193-4207 (when ``config=`` is an object, the
  remaining kwargs go to the model's ``__init__``).
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from models.loading.minicpmo_config import describe_config, prepare_quantization_config
from models.loading.remote_code import optional_remote_imports, refresh_remote_code_cache
from models.loading.token2wav_assets import (
    Token2wavOptions,
    check_tts_assets,
    load_reference_voice_16k,
)

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MiniCPMOLoadOptions:
    """How to load the model (plain values; the engine factory maps the settings onto them).

    ``speech`` off builds no TTS head at all (~1 GB less). With it on, ``vocoder_in_process``
    builds Token2wav inside the model from ``token2wav``; otherwise the describer hands its
    speech tokens to the Vocoder deployment and ``token2wav`` is not read here.
    """

    model_path: str
    token2wav: Token2wavOptions
    attn_implementation: str = "sdpa"
    speech: bool = True
    vocoder_in_process: bool = False


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


def attach_speech(
    model: Any,
    token2wav: Token2wavOptions,
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
    tts_dir, ref = check_tts_assets(token2wav)
    kwargs = init_tts_kwargs(model.init_tts, tts_dir, token2wav.float16)
    log.info("speech: Token2wav in process, init_tts(%s), reference voice %s", kwargs, ref)
    model.init_tts(**kwargs)
    model.init_token2wav_cache(load_reference(ref))


def load_minicpmo(options: MiniCPMOLoadOptions) -> Any:
    """Load MiniCPM-o onto the current CUDA device, ready for ``streaming_prefill``.

    ``init_audio=False`` always: the service sends no audio in, and the Whisper encoder would
    cost VRAM for nothing.
    """
    import torch
    from transformers import AutoConfig, AutoModel
    from transformers.utils import HF_MODULES_CACHE

    speech, in_process = options.speech, options.vocoder_in_process
    # One spelling of the path everywhere: transformers names the module cache after it.
    is_local = Path(options.model_path).is_dir()
    path = str(Path(options.model_path)) if is_local else options.model_path
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
        options.attn_implementation,
        ("in process" if in_process else "tokens to the Vocoder") if speech else "off",
    )
    with optional_remote_imports():
        model = AutoModel.from_pretrained(
            path,
            config=config,
            trust_remote_code=True,
            attn_implementation=options.attn_implementation,
            torch_dtype=dtype,
        )
    # No .bfloat16() here: it would undo float16 on AWQ (the Demo's loader skips it for the same
    # reason, MiniCPM-o-Demo core/processors/unified.py _load_model).
    model = model.eval().cuda()
    if speech:
        attach_speech(model, options.token2wav, vocoder_in_process=in_process)
    return model
