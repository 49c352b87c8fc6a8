"""CycleStats: counters and latency quantiles for a stream's status."""

from serve_app.session.stats import LATENCY_HISTORY, CycleStats


def test_counts_cycles_skips_and_late_ones_and_reports_quantiles() -> None:
    stats = CycleStats()
    for i in range(10):
        stats.record(latency_s=float(i), inference_s=0.5, skip=i % 2 == 0, late=i == 9)
    summary = stats.summary()
    assert summary["cycles"] == 10 and summary["skips"] == 5 and summary["late_cycles"] == 1
    assert summary["latency_p50_s"] == 4.5
    assert summary["last_latency_s"] == 9.0


def test_a_cycle_without_latency_counts_but_leaves_the_quantiles_alone() -> None:
    stats = CycleStats()
    stats.record(latency_s=None, inference_s=0.1, skip=True, late=False)
    assert stats.summary()["cycles"] == 1 and stats.summary()["latency_p95_s"] is None


def test_latency_history_is_bounded() -> None:
    stats = CycleStats()
    for i in range(LATENCY_HISTORY + 50):
        stats.record(float(i), 0.1, False, False)
    assert len(stats.latencies_s) == LATENCY_HISTORY
    assert stats.latencies_s[0] == 50.0
