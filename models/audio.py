"""Changing an audio signal's sample rate: the one resampler, whole or chunk by chunk.

:func:`resample` converts a whole signal (an utterance, a reference voice) in one go.
:class:`PcmResampler` turns a voice's chunks into int16 PCM at the output rate as they come.

``scipy.signal.resample_poly`` filters each call's input as if it were zero outside it,
which clicks at every join when chunks are resampled one by one. Here each call sees the
tail of the previous input as left context, and the last few input samples are held back
until the next chunk (or ``flush``) supplies their right context: the output equals
resampling the whole signal in one go.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from scipy.signal import resample_poly


def resample(samples: np.ndarray, in_rate_hz: int, out_rate_hz: int) -> np.ndarray:
    """A whole mono signal at ``in_rate_hz`` → float32 at ``out_rate_hz`` (polyphase filter)."""
    x = np.asarray(samples, dtype=np.float64).reshape(-1)
    if in_rate_hz == out_rate_hz:
        return x.astype(np.float32)
    ratio = Fraction(out_rate_hz, in_rate_hz)  # e.g. 22050 → 24000 is 160/147
    return resample_poly(x, ratio.numerator, ratio.denominator).astype(np.float32)


class PcmResampler:
    """Float chunks at ``in_rate_hz`` → int16 at a whole multiple of it, seamless across chunks."""

    def __init__(self, in_rate_hz: int, out_rate_hz: int) -> None:
        ratio = Fraction(out_rate_hz, in_rate_hz)
        self.up, self.down = ratio.numerator, ratio.denominator
        if self.down != 1:
            # Whole output samples per input sample keep the join arithmetic exact.
            raise ValueError("out_rate_hz must be a whole multiple of in_rate_hz")
        self.in_rate_hz = in_rate_hz
        self.out_rate_hz = out_rate_hz
        # resample_poly's filter reaches 10·max(up, down) output samples to each side,
        # i.e. 10 input samples; 16 leaves room.
        self._context = 16
        self._tail = np.zeros(2 * self._context, dtype=np.float64)

    @property
    def latency_samples(self) -> int:
        """Input samples held back until their right context arrives."""
        return self._context

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Resample one chunk; returns int16 samples (length up × len(chunk))."""
        x = np.asarray(chunk, dtype=np.float64).reshape(-1)
        if x.size == 0:
            return np.zeros(0, dtype=np.int16)
        joined = np.concatenate([self._tail, x])
        y = resample_poly(joined, self.up, 1)
        c = self._context
        # Emit outputs for input positions [c, len − c): each has full context both sides.
        valid = y[c * self.up : (joined.size - c) * self.up]
        self._tail = joined[-2 * c :]
        return _to_int16(valid)

    def flush(self) -> np.ndarray:
        """Emit the held-back samples (followed by silence) and start afresh."""
        out = self.process(np.zeros(self._context))
        self._tail = np.zeros(2 * self._context, dtype=np.float64)
        return out


def _to_int16(x: np.ndarray) -> np.ndarray:
    return (np.clip(x, -1.0, 1.0) * 32767.0).round().astype(np.int16)
