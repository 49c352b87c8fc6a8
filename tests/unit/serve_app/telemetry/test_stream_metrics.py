"""StreamMetrics: released events in, the catalog's figures out."""

from __future__ import annotations

import asyncio
from collections import defaultdict

import pytest

from serve_app.messages import (
    AudioChunk,
    CommentaryText,
    CycleEnded,
    DelayChanged,
    StateChanged,
    StreamState,
)
from serve_app.session.event_log import EventLog
from serve_app.speech.audio_format import OUTPUT_AUDIO
from serve_app.telemetry import catalog
from serve_app.telemetry.catalog import MetricSpec
from serve_app.telemetry.stream_metrics import StreamMetrics, report_metrics

Tags = tuple[tuple[str, str], ...]


class RecordingSink:
    """A MetricsSink that remembers: counters summed, gauges' last value, histograms' values."""

    def __init__(self) -> None:
        self.counters: dict[tuple[str, Tags], float] = defaultdict(float)
        self.gauges: dict[tuple[str, Tags], float] = {}
        self.histograms: dict[tuple[str, Tags], list[float]] = defaultdict(list)
        self.forgotten: list[str] = []

    def add(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        assert metric.kind is catalog.MetricKind.COUNTER and set(tags) == set(metric.tags)
        self.counters[metric.name, tuple(sorted(tags.items()))] += value

    def set(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        assert metric.kind is catalog.MetricKind.GAUGE and set(tags) == set(metric.tags)
        self.gauges[metric.name, tuple(sorted(tags.items()))] = value

    def observe(self, metric: MetricSpec, value: float, tags: dict[str, str]) -> None:
        assert metric.kind is catalog.MetricKind.HISTOGRAM and set(tags) == set(metric.tags)
        self.histograms[metric.name, tuple(sorted(tags.items()))].append(value)

    def forget(self, stream_id: str) -> None:
        self.forgotten.append(stream_id)


S = (("stream", "s"),)


def ended(cycle: int, **overrides: object) -> CycleEnded:
    fields: dict[str, object] = {
        "stream_id": "s",
        "cycle": cycle,
        "text": "A man walks in.",
        "skip": False,
        "media_ts_s": 3.0,
        "latency_s": 1.2,
        "inference_s": 0.9,
        "late": False,
        "lateness_s": 0.0,
        "shown_at": 100.0,
        "first_text_s": 0.4,
        "wall_ts": 100.5,
    }
    return CycleEnded(**{**fields, **overrides})  # type: ignore[arg-type]


def test_a_commented_cycle_gives_its_latencies_and_its_sync_error() -> None:
    sink = RecordingSink()
    metrics = StreamMetrics("s", sink, display_delay_s=2.0)
    metrics.take(
        CommentaryText(stream_id="s", cycle=1, text="A man", media_ts_s=3.0, wall_ts=100.25)
    )
    metrics.take(
        CommentaryText(stream_id="s", cycle=1, text=" walks", media_ts_s=3.0, wall_ts=101.0)
    )
    metrics.take(ended(1))
    assert sink.gauges[catalog.DISPLAY_DELAY.name, S] == 2.0
    assert sink.counters[catalog.CYCLES.name, (("outcome", "commented"), *S)] == 1
    assert sink.histograms[catalog.CYCLE_LATENCY.name, S] == [1.2]
    assert sink.histograms[catalog.INFERENCE.name, S] == [0.9]
    assert sink.histograms[catalog.FIRST_TEXT.name, S] == [0.4]
    # The first line went out 0.25 s after its picture was on screen; the second is not timed.
    assert sink.histograms[catalog.SYNC_ERROR.name, S] == [pytest.approx(0.25)]
    assert (catalog.LATE_CYCLES.name, S) not in sink.counters


def test_a_line_released_on_time_has_no_sync_error() -> None:
    sink = RecordingSink()
    metrics = StreamMetrics("s", sink, 2.0)
    metrics.take(CommentaryText(stream_id="s", cycle=4, text="x", media_ts_s=3.0, wall_ts=100.0))
    metrics.take(ended(4, late=True))
    assert sink.histograms[catalog.SYNC_ERROR.name, S] == [0.0]
    assert sink.counters[catalog.LATE_CYCLES.name, S] == 1


def test_skips_and_failures_are_counted_apart_and_give_no_latency() -> None:
    sink = RecordingSink()
    metrics = StreamMetrics("s", sink, 2.0)
    metrics.take(ended(1, skip=True, text="SKIP"))
    metrics.take(ended(2, error="RuntimeError: model died", first_text_s=None))
    metrics.take(ended(3, speech_skipped="the Vocoder timed out"))
    assert sink.counters[catalog.CYCLES.name, (("outcome", "skipped"), *S)] == 1
    assert sink.counters[catalog.CYCLES.name, (("outcome", "failed"), *S)] == 1
    assert sink.counters[catalog.CYCLES.name, (("outcome", "commented"), *S)] == 1
    assert sink.counters[catalog.ERRORS.name, (("stage", "cycle"), *S)] == 1
    assert sink.counters[catalog.ERRORS.name, (("stage", "speech"), *S)] == 1
    assert sink.histograms[catalog.CYCLE_LATENCY.name, S] == [1.2]  # cycle 3 alone
    assert len(sink.histograms[catalog.INFERENCE.name, S]) == 2  # the skip and cycle 3


def test_answers_and_replayed_cycles_are_not_commentary_cycles() -> None:
    sink = RecordingSink()
    metrics = StreamMetrics("s", sink, 2.0)
    metrics.take(ended(1, kind="answer"))
    metrics.take(ended(2, replayed=True))
    assert not sink.counters and not sink.histograms


def test_speech_seconds_delay_and_states() -> None:
    sink = RecordingSink()
    metrics = StreamMetrics("s", sink, 2.0)
    pcm = bytes(OUTPUT_AUDIO.bytes_per_s // 2)  # half a second
    metrics.take(AudioChunk(stream_id="s", cycle=1, pcm=pcm, media_ts_s=1.0))
    metrics.take(AudioChunk(stream_id="s", cycle=1, pcm=pcm, media_ts_s=1.0))
    metrics.take(DelayChanged(stream_id="s", target_delay_s=3.5, policy="presentation"))
    for state in ("live", "reconnecting", "reconnecting", "live", "failed"):
        metrics.take(StateChanged(stream_id="s", state=StreamState(state)))
    assert sink.counters[catalog.SPEECH.name, S] == pytest.approx(1.0)
    assert sink.gauges[catalog.DISPLAY_DELAY.name, S] == 3.5
    assert sink.counters[catalog.RECONNECTS.name, S] == 1  # one loss, however many events
    assert sink.counters[catalog.ERRORS.name, (("stage", "source"), *S)] == 1
    states = {
        dict(tags)["state"]: value
        for (name, tags), value in sink.gauges.items()
        if name == catalog.STREAM_STATE.name
    }
    assert states == {state.value: float(state is StreamState.FAILED) for state in StreamState}


def test_the_reporter_follows_the_log_to_its_close() -> None:
    async def scenario() -> RecordingSink:
        sink = RecordingSink()
        log = EventLog()
        reporter = asyncio.create_task(report_metrics(log, StreamMetrics("s", sink, 2.0)))
        await asyncio.sleep(0)
        log.append(StateChanged(stream_id="s", state=StreamState.LIVE))
        log.append(ended(1))
        log.close()
        await asyncio.wait_for(reporter, 1.0)
        return sink

    sink = asyncio.run(scenario())
    assert sink.counters[catalog.CYCLES.name, (("outcome", "commented"), *S)] == 1
    assert sink.gauges[catalog.STREAM_STATE.name, (("state", "stopped"), *S)] == 1.0
    assert sink.gauges[catalog.STREAM_STATE.name, (("state", "live"), *S)] == 0.0
    assert sink.forgotten == ["s"]  # after saying it stopped: its gauges may go


def test_every_catalog_entry_has_a_unique_name_and_buckets_only_when_a_histogram() -> None:
    names = [spec.name for spec in catalog.METRICS]
    assert len(names) == len(set(names))
    for spec in catalog.METRICS:
        assert spec.name.startswith("commentary_")
        assert bool(spec.buckets) == (spec.kind is catalog.MetricKind.HISTOGRAM)
        assert list(spec.buckets) == sorted(spec.buckets)
        assert "stream" in spec.tags
