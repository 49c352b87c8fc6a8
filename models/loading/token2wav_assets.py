"""Token2wav's files and the reference voice: where they are, and what to do when they are not.

Both places that build Token2wav use this: the Vocoder's voice (models/voices/token2wav.py)
and the remote-code loader when speech is made in process (minicpmo_loader.py). The AWQ
repository ships no ``assets/``, so a missing file is the common first-run error; the message
says what to copy from where.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

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

REFERENCE_RATE_HZ = 16_000
"""What ``init_token2wav_cache(prompt_speech_16k)`` takes (Demo@28b60cf l.1388)."""


@dataclass(frozen=True, slots=True)
class Token2wavOptions:
    """How to build Token2wav: its asset folder, the voice to speak in, its precision.

    ``model_path`` is the MiniCPM-o directory, named only in the hint of where to download
    missing assets.
    """

    tts_model_dir: Path
    ref_audio_path: Path
    float16: bool = False
    model_path: str = ""


class MissingAssetsError(FileNotFoundError):
    """The Token2wav assets or the reference voice are not where the settings say."""


def check_tts_assets(options: Token2wavOptions) -> tuple[Path, Path]:
    """Return (Token2wav dir, reference wav), or say exactly what to copy where."""
    tts_dir, ref = options.tts_model_dir, options.ref_audio_path
    problems = []
    missing = [name for name in TOKEN2WAV_FILES if not (tts_dir / name).is_file()]
    if missing:
        problems.append(
            f"TTS_MODEL_DIR '{tts_dir}' lacks {', '.join(missing)}: copy assets/token2wav/ "
            f"from the BF16 repo {BF16_REPO} (the AWQ repo ships no assets/), e.g. "
            f"`huggingface-cli download {BF16_REPO} --include 'assets/*' "
            f"--local-dir {options.model_path}`, or set TTS_MODEL_DIR to a folder holding them"
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
    return resample(mono, int(rate), REFERENCE_RATE_HZ)
