import numpy as np
import pytest
from scipy.signal import resample_poly

from models.audio import PcmResampler


def tone(seconds: float, hz: float = 440.0, rate: int = 24_000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def chunked(signal: np.ndarray, sizes: list[int]) -> np.ndarray:
    resampler = PcmResampler(24_000, 48_000)
    out, i = [], 0
    for size in sizes:
        out.append(resampler.process(signal[i : i + size]))
        i += size
    out.append(resampler.process(signal[i:]))
    out.append(resampler.flush())
    return np.concatenate(out)


def test_output_is_48k_int16_of_twice_the_length() -> None:
    signal = tone(1.0)
    out = chunked(signal, [7000, 5000])
    assert out.dtype == np.int16
    # One held-back context of silence comes first; every input sample comes out twice.
    assert out.size == 2 * (signal.size + PcmResampler(24_000, 48_000).latency_samples)


def test_chunked_output_equals_resampling_the_whole_signal() -> None:
    signal = tone(1.0, hz=997.0)
    sizes = [1, 2, 3, 500, 4096, 24, 10_000]
    out = chunked(signal, sizes).astype(np.float64) / 32767
    lead = 2 * PcmResampler(24_000, 48_000).latency_samples
    whole = resample_poly(signal.astype(np.float64), 2, 1)
    np.testing.assert_allclose(out[lead : lead + whole.size], whole, atol=2 / 32767)


def test_no_clicks_at_chunk_joins() -> None:
    signal = tone(2.0, hz=440.0)
    sizes = [2400] * 19  # 0.1 s chunks
    seamless = chunked(signal, sizes).astype(np.float64)
    naive = np.concatenate(
        [resample_poly(signal[i : i + 2400], 2, 1) for i in range(0, signal.size, 2400)]
    )
    naive = np.round(np.clip(naive, -1, 1) * 32767)

    def worst_jump(x: np.ndarray) -> float:
        return float(np.max(np.abs(np.diff(x, n=2))))

    # A 440 Hz tone at 48 kHz has a smooth second difference; a click is a spike in it.
    smooth = 0.5 * 32767 * (2 * np.pi * 440 / 48_000) ** 2
    whole = np.round(resample_poly(signal.astype(np.float64), 2, 1) * 32767)
    # Every join lies inside the signal, where chunked output is as smooth as the whole.
    lead = 2 * PcmResampler(24_000, 48_000).latency_samples
    assert worst_jump(seamless[lead + 2000 : -2000]) <= worst_jump(whole[2000:-2000]) + 3
    assert worst_jump(naive[2000:-2000]) > 4 * smooth, "the naive way really does click"


def test_only_whole_multiples() -> None:
    with pytest.raises(ValueError):
        PcmResampler(22_050, 48_000)


def test_clipping_instead_of_wrapping() -> None:
    loud = np.full(2000, 3.0, dtype=np.float32)
    out = chunked(loud, [1000])
    assert out.max() == 32767 and out.min() >= -32768
