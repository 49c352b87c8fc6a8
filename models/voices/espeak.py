"""The embedded voice: eSpeak NG, loaded from the espeakng-loader wheel through ctypes.

Nothing is installed on the system: the shared library and its data directory both come from
the PyPI package ``espeakng-loader``. eSpeak speaks text (not speech tokens), is tiny and
runs far faster than real time on one CPU core, so speech works on any machine.

libespeak-ng keeps all its state in globals (current voice, parameters, the one synth
callback) and is not thread-safe, so this module owns a single process-wide
:class:`_EspeakLibrary` and serialises every call into it with one lock. Each
:class:`EspeakVoice` keeps its own settings and re-applies them under that lock when they
differ from what the library last had, so two differently configured voices can share a
process.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from models.audio import resample
from models.messages import VOICE_SAMPLE_RATE_HZ, SpeechRequest

# --- values from espeak-ng's speak_lib.h -------------------------------------------------
AUDIO_OUTPUT_SYNCHRONOUS = 2
"""espeak_AUDIO_OUTPUT: like RETRIEVAL, but espeak_Synth returns only when synthesis ends."""
ESPEAK_INITIALIZE_DONT_EXIT = 0x8000
"""Without it, older builds call exit() when the data directory is missing."""
ESPEAK_RATE = 1
ESPEAK_PITCH = 3
"""espeak_PARAMETER ids: espeakRATE (words per minute), espeakPITCH (0-100, 50 normal)."""
POS_CHARACTER = 1
ESPEAK_CHARS_UTF8 = 1
EE_OK = 0
EE_NOT_FOUND = 2
CALLBACK_CONTINUE = 0
"""A synth callback returns 0 to go on, 1 to abort synthesis."""

BUFFER_MS = 200
"""How much audio eSpeak hands the callback at once; only affects callback overhead here."""

RATE_WPM_RANGE = (80, 450)
PITCH_RANGE = (0, 100)
"""What eSpeak accepts; outside these it clamps silently, so we reject instead."""

# int cb(short *wav, int numsamples, espeak_EVENT *events). The events are unused, so a void
# pointer stands in for espeak_EVENT and its layout never matters.
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


@dataclass(frozen=True, slots=True)
class _VoiceSettings:
    """What one EspeakVoice needs the library's global state to be before it speaks."""

    voice: str
    rate_wpm: int
    pitch: int


def _locate_library() -> tuple[str, str]:
    """Where the wheel keeps libespeak-ng and espeak-ng-data, with a clear error if absent."""
    try:
        import espeakng_loader
    except ImportError as exc:  # the one optional dependency of the embedded voice
        raise RuntimeError(
            "the eSpeak voice needs the PyPI package 'espeakng-loader': pip install espeakng-loader"
        ) from exc
    library_path = espeakng_loader.get_library_path()
    try:
        data_path = espeakng_loader.get_data_path()
    except RuntimeError as exc:
        raise RuntimeError(
            f"eSpeak NG data directory missing next to {library_path}: {exc}"
        ) from exc
    return library_path, data_path


def _declare_signatures(lib: ctypes.CDLL) -> None:
    """Give ctypes the C prototypes so arguments are converted and checked, not guessed."""
    lib.espeak_Initialize.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_char_p, ctypes.c_int]
    lib.espeak_Initialize.restype = ctypes.c_int
    lib.espeak_SetSynthCallback.argtypes = [_SynthCallback]
    lib.espeak_SetSynthCallback.restype = None
    lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
    lib.espeak_SetVoiceByName.restype = ctypes.c_int
    lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
    lib.espeak_SetParameter.restype = ctypes.c_int
    lib.espeak_Synth.argtypes = [
        ctypes.c_void_p,  # const void *text
        ctypes.c_size_t,  # size
        ctypes.c_uint,  # position
        ctypes.c_int,  # espeak_POSITION_TYPE
        ctypes.c_uint,  # end_position
        ctypes.c_uint,  # flags
        ctypes.POINTER(ctypes.c_uint),  # unique_identifier
        ctypes.c_void_p,  # user_data
    ]
    lib.espeak_Synth.restype = ctypes.c_int
    lib.espeak_Synchronize.argtypes = []
    lib.espeak_Synchronize.restype = ctypes.c_int


class _EspeakLibrary:
    """The process's one libespeak-ng: loaded and initialised once, used under one lock."""

    _instance: ClassVar[_EspeakLibrary | None] = None
    _instance_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self) -> None:
        library_path, data_path = _locate_library()
        try:
            self._lib = ctypes.CDLL(library_path)
        except OSError as exc:
            raise RuntimeError(f"cannot load eSpeak NG library at {library_path}: {exc}") from exc
        _declare_signatures(self._lib)
        rate = self._lib.espeak_Initialize(
            AUDIO_OUTPUT_SYNCHRONOUS, BUFFER_MS, data_path.encode(), ESPEAK_INITIALIZE_DONT_EXIT
        )
        if rate <= 0:
            raise RuntimeError(
                f"eSpeak NG at {library_path} failed to initialise "
                f"with data {data_path} (code {rate})"
            )
        self.sample_rate_hz: int = rate
        self._pieces: list[np.ndarray] = []
        # Kept on the instance: ctypes must hold the thunk for as long as C may call it.
        self._callback = _SynthCallback(self._collect)
        self._lib.espeak_SetSynthCallback(self._callback)
        self._applied: _VoiceSettings | None = None
        self.lock = threading.Lock()

    @classmethod
    def get(cls) -> _EspeakLibrary:
        """The shared instance, created on first use (double-checked so init runs once)."""
        if cls._instance is None:
            with cls._instance_lock:
                if cls._instance is None:
                    cls._instance = cls()
        return cls._instance

    def _collect(self, wav: ctypes._Pointer, numsamples: int, _events: int | None) -> int:
        """Synth callback: copy each buffer out, since eSpeak reuses its memory."""
        if wav and numsamples > 0:
            self._pieces.append(np.ctypeslib.as_array(wav, shape=(numsamples,)).copy())
        return CALLBACK_CONTINUE

    def apply(self, settings: _VoiceSettings) -> None:
        """Make the global voice and parameters match ``settings``. Caller holds ``lock``."""
        if settings == self._applied:
            return  # switching voice reloads the dictionary: skip it when nothing changed
        self._applied = None  # if anything below fails, force a full re-apply next time
        status = self._lib.espeak_SetVoiceByName(settings.voice.encode())
        if status == EE_NOT_FOUND:
            raise ValueError(
                f"eSpeak has no voice {settings.voice!r} (try 'en', 'en-us', 'de', 'fr')"
            )
        if status != EE_OK:
            raise RuntimeError(f"eSpeak could not select voice {settings.voice!r} (code {status})")
        # The voice resets rate and pitch, so parameters go after it.
        self._set_parameter(ESPEAK_RATE, settings.rate_wpm)
        self._set_parameter(ESPEAK_PITCH, settings.pitch)
        self._applied = settings

    def _set_parameter(self, parameter: int, value: int) -> None:
        status = self._lib.espeak_SetParameter(parameter, value, 0)
        if status != EE_OK:
            raise RuntimeError(f"eSpeak rejected parameter {parameter}={value} (code {status})")

    def synthesize(self, text: str, settings: _VoiceSettings) -> np.ndarray:
        """All of ``text`` as int16 samples at :attr:`sample_rate_hz`."""
        encoded = text.encode("utf-8") + b"\0"
        with self.lock:
            self.apply(settings)
            self._pieces = []
            status = self._lib.espeak_Synth(
                encoded, len(encoded), 0, POS_CHARACTER, 0, ESPEAK_CHARS_UTF8, None, None
            )
            if status != EE_OK:
                raise RuntimeError(f"eSpeak failed to synthesise {text[:40]!r} (code {status})")
            self._lib.espeak_Synchronize()  # a no-op in synchronous mode; kept for safety
            pieces, self._pieces = self._pieces, []
        if not pieces:
            return np.zeros(0, dtype=np.int16)
        return np.concatenate(pieces).astype(np.int16, copy=False)


def _check_range(name: str, value: int, bounds: tuple[int, int]) -> None:
    low, high = bounds
    if not low <= value <= high:
        raise ValueError(f"eSpeak {name} must be within {low}-{high}, got {value}")


def to_voice_rate(samples: np.ndarray, native_rate_hz: int) -> np.ndarray:
    """int16 at eSpeak's rate -> float32 in [-1, 1] at VOICE_SAMPLE_RATE_HZ.

    The whole utterance is resampled at once: per-chunk resampling would click at the seams.
    """
    audio = resample(samples.astype(np.float32) / 32768.0, native_rate_hz, VOICE_SAMPLE_RATE_HZ)
    # The polyphase filter can overshoot a full-scale peak slightly; the contract is [-1, 1].
    return np.clip(audio, -1.0, 1.0)


class EspeakVoice:
    """Text to 24 kHz float32 speech with eSpeak NG; implements :class:`models.voices.base.Voice`.

    ``voice`` is an eSpeak voice name ("en", "en-us", "de", "en+f3" for a variant);
    ``rate_wpm`` is speaking rate in words per minute; ``pitch`` is 0-100 (50 normal);
    ``chunk_s`` is the length of each yielded chunk (the last one of an utterance is shorter).
    """

    name = "espeak"

    def __init__(
        self,
        voice: str = "en",
        rate_wpm: int = 165,  # a little quicker than eSpeak's 175 default feels clipped
        pitch: int = 50,
        chunk_s: float = 0.5,  # small enough that playback starts quickly, large enough to be cheap
    ) -> None:
        _check_range("rate_wpm", rate_wpm, RATE_WPM_RANGE)
        _check_range("pitch", pitch, PITCH_RANGE)
        if chunk_s <= 0:
            raise ValueError(f"chunk_s must be positive, got {chunk_s}")
        self._settings = _VoiceSettings(voice=voice, rate_wpm=rate_wpm, pitch=pitch)
        self._chunk_samples = max(1, round(chunk_s * VOICE_SAMPLE_RATE_HZ))
        self._library = _EspeakLibrary.get()
        # Select the voice now so a wrong name fails at construction, not on the first answer.
        with self._library.lock:
            self._library.apply(self._settings)

    @property
    def native_sample_rate_hz(self) -> int:
        """The rate eSpeak itself produces (22050 Hz for its standard voices)."""
        return self._library.sample_rate_hz

    def native_audio(self, text: str) -> np.ndarray:
        """``text`` as eSpeak's own int16 output, before conversion; empty for blank text."""
        if not text.strip():
            return np.zeros(0, dtype=np.int16)
        return self._library.synthesize(text, self._settings)

    def render(self, text: str) -> np.ndarray:
        """``text`` as one float32 array at VOICE_SAMPLE_RATE_HZ."""
        return to_voice_rate(self.native_audio(text), self.native_sample_rate_hz)

    def synthesize(self, request: SpeechRequest) -> Iterator[np.ndarray]:
        """Yield chunks of about ``chunk_s`` seconds for ``request.text``.

        A text voice holds nothing between pieces, so ``final`` needs no flush. The lock is
        held only while eSpeak runs (all at once, far faster than real time), never across a
        yield, so an abandoned generator cannot block other streams.
        """
        audio = self.render(request.text or "")
        for start in range(0, audio.size, self._chunk_samples):
            yield audio[start : start + self._chunk_samples]

    def close_stream(self, stream_id: str) -> None:
        """Nothing to drop: no per-stream state is kept."""
