import pytest

from serve_app.sync.latency_ema import LatencyEma

# The original system's log: from 5.0 the delay went 4.79, 4.36, 3.99, 3.64, 3.29 while the
# observed latencies (capture of the newest frame → result) were about these; skip cycles
# in between were not fed in.
ORIGINAL_LATENCIES = [3.95, 2.64, 2.51, 2.24, 1.89]
ORIGINAL_TRACE = [4.79, 4.36, 3.99, 3.64, 3.29]


def test_reproduces_the_original_systems_delay_trace() -> None:
    ema = LatencyEma(initial_s=5.0, alpha=0.2)
    trace = [round(ema.update(latency), 2) for latency in ORIGINAL_LATENCIES]
    assert trace == pytest.approx(ORIGINAL_TRACE, abs=0.011)


def test_the_bare_inference_times_would_not_give_that_trace() -> None:
    # Guard against feeding inference time instead of observed latency.
    ema = LatencyEma(initial_s=5.0, alpha=0.2)
    trace = [round(ema.update(t), 2) for t in [3.44, 2.19, 2.09, 1.86, 1.64]]
    assert trace != pytest.approx(ORIGINAL_TRACE, abs=0.011)


def test_rejects_bad_parameters() -> None:
    with pytest.raises(ValueError):
        LatencyEma(5.0, 0.0)
    with pytest.raises(ValueError):
        LatencyEma(-1.0, 0.2)
    with pytest.raises(ValueError):
        LatencyEma(5.0, 0.2).update(-0.1)
