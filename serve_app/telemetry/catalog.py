"""The service's own metrics: one table of names, kinds, tags and buckets.

Every figure the commentary exports is declared here and nowhere else: the Ray side
(deployments/metrics.py) creates its Serve metrics from this table, the Grafana dashboard
(containers/grafana) plots these names, and a test checks the two agree. Prometheus sees
each under ``ray_<name>`` (Ray's prefix), counters with ``_total`` and histograms with
``_bucket``, ``_sum`` and ``_count``; Serve adds the ``deployment``, ``replica`` and
``application`` tags to each by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MetricKind(StrEnum):
    COUNTER = "counter"
    GAUGE = "gauge"
    HISTOGRAM = "histogram"


# Seconds, from a fast describer's tenths to a slow model's several seconds.
LATENCY_BUCKETS_S = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0, 13.0, 20.0)
# Sync error is lateness past the picture: 0 when on time, a few frames when barely late.
SYNC_BUCKETS_S = (0.01, 0.04, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0)
# Real-time factor: synthesis seconds per audio second (below 1: faster than speech).
RTF_BUCKETS = (0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 4.0)


@dataclass(frozen=True, slots=True)
class MetricSpec:
    name: str
    kind: MetricKind
    description: str
    tags: tuple[str, ...] = ("stream",)
    buckets: tuple[float, ...] = ()


CYCLE_LATENCY = MetricSpec(
    "commentary_cycle_latency_seconds",
    MetricKind.HISTOGRAM,
    "Capture of a cycle's newest frame to its first output (text, or audio when speaking).",
    buckets=LATENCY_BUCKETS_S,
)
INFERENCE = MetricSpec(
    "commentary_inference_seconds",
    MetricKind.HISTOGRAM,
    "A cycle's start to its end: the describer's whole answer, and its speech.",
    buckets=LATENCY_BUCKETS_S,
)
FIRST_TEXT = MetricSpec(
    "commentary_first_text_seconds",
    MetricKind.HISTOGRAM,
    "A cycle's start to the describer's first text.",
    buckets=LATENCY_BUCKETS_S,
)
SYNC_ERROR = MetricSpec(
    "commentary_sync_error_seconds",
    MetricKind.HISTOGRAM,
    "How long after its picture was on screen a cycle's first line was released (0: in sync).",
    buckets=SYNC_BUCKETS_S,
)
DISPLAY_DELAY = MetricSpec(
    "commentary_display_delay_seconds",
    MetricKind.GAUGE,
    "How far the picture lags capture, so commentary can be ready when its frames show.",
)
CYCLES = MetricSpec(
    "commentary_cycles",
    MetricKind.COUNTER,
    "Commentary cycles by outcome: commented, skipped (nothing worth saying) or failed.",
    tags=("stream", "outcome"),
)
LATE_CYCLES = MetricSpec(
    "commentary_late_cycles",
    MetricKind.COUNTER,
    "Cycles whose first output came after their picture was on screen.",
)
SPEECH = MetricSpec(
    "commentary_speech_seconds",
    MetricKind.COUNTER,
    "Seconds of spoken commentary released to listeners.",
)
VOCODER_RTF = MetricSpec(
    "commentary_vocoder_rtf",
    MetricKind.HISTOGRAM,
    "Vocoder real-time factor per speech piece: synthesis seconds per audio second.",
    buckets=RTF_BUCKETS,
)
STREAM_STATE = MetricSpec(
    "commentary_stream_state",
    MetricKind.GAUGE,
    "1 for the state a stream's source is in (starting, live, reconnecting, ended, ...).",
    tags=("stream", "state"),
)
VIEWERS = MetricSpec(
    "commentary_viewers",
    MetricKind.GAUGE,
    "Clients of a stream on an Ingress replica, by kind (video, events, audio).",
    tags=("stream", "kind"),
)
RECONNECTS = MetricSpec(
    "commentary_source_reconnects",
    MetricKind.COUNTER,
    "Times a stream's source was lost and reconnecting began.",
)
ERRORS = MetricSpec(
    "commentary_errors",
    MetricKind.COUNTER,
    "Errors by stage: a failed cycle, speech cut short, a source that failed.",
    tags=("stream", "stage"),
)

METRICS: tuple[MetricSpec, ...] = (
    CYCLE_LATENCY,
    INFERENCE,
    FIRST_TEXT,
    SYNC_ERROR,
    DISPLAY_DELAY,
    CYCLES,
    LATE_CYCLES,
    SPEECH,
    VOCODER_RTF,
    STREAM_STATE,
    VIEWERS,
    RECONNECTS,
    ERRORS,
)


def exported_names(spec: MetricSpec) -> tuple[str, ...]:
    """The series names Prometheus scrapes for one metric."""
    base = f"ray_{spec.name}"
    if spec.kind is MetricKind.COUNTER:
        return (f"{base}_total",)
    if spec.kind is MetricKind.HISTOGRAM:
        return (f"{base}_bucket", f"{base}_sum", f"{base}_count")
    return (base,)
