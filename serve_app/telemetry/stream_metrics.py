"""StreamMetrics: one stream's released events, turned into its metrics.

The figures come from what clients were actually given (the stream's event log), so a
metric and the page never disagree: a cycle's sync error is when its first line was
released against when its picture was on screen, both in the events themselves.
"""

from __future__ import annotations

from serve_app.messages import (
    AudioChunk,
    CommentaryText,
    CycleEnded,
    DelayChanged,
    StateChanged,
    StreamEvent,
    StreamState,
)
from serve_app.session.event_log import EventLog
from serve_app.telemetry import catalog
from serve_app.telemetry.sink import MetricsSink


class StreamMetrics:
    def __init__(self, stream_id: str, sink: MetricsSink, display_delay_s: float) -> None:
        self._sink = sink
        self._tags = {"stream": stream_id}
        self._first_line_at: dict[int, float] = {}  # cycle → release of its first text
        self._state: StreamState | None = None
        sink.set(catalog.DISPLAY_DELAY, display_delay_s, self._tags)

    def take(self, event: StreamEvent) -> None:
        if isinstance(event, CommentaryText):
            self._first_line_at.setdefault(event.cycle, event.wall_ts)
        elif isinstance(event, AudioChunk):
            self._sink.add(catalog.SPEECH, event.duration_s, self._tags)
        elif isinstance(event, CycleEnded) and not event.replayed:
            self._cycle_ended(event)
        elif isinstance(event, DelayChanged):
            self._sink.set(catalog.DISPLAY_DELAY, event.target_delay_s, self._tags)
        elif isinstance(event, StateChanged):
            self.state(event.state)

    def _cycle_ended(self, event: CycleEnded) -> None:
        first_line_at = self._first_line_at.pop(event.cycle, None)
        if event.error:
            self._count_error("cycle")
        if event.speech_skipped:
            self._count_error("speech")
        if event.kind == "answer":
            return  # a question's answer is not a commentary cycle: no cycle figures
        outcome = "failed" if event.error else "skipped" if event.skip else "commented"
        self._sink.add(catalog.CYCLES, 1, {**self._tags, "outcome": outcome})
        if event.error:
            return
        self._sink.observe(catalog.INFERENCE, event.inference_s, self._tags)
        if event.first_text_s is not None:
            self._sink.observe(catalog.FIRST_TEXT, event.first_text_s, self._tags)
        if event.skip:
            return
        self._sink.observe(catalog.CYCLE_LATENCY, event.latency_s, self._tags)
        if event.late:
            self._sink.add(catalog.LATE_CYCLES, 1, self._tags)
        if first_line_at is not None:
            lateness = max(0.0, first_line_at - event.shown_at)
            self._sink.observe(catalog.SYNC_ERROR, lateness, self._tags)

    def state(self, state: StreamState) -> None:
        """The source's state: 1 on its own series, 0 on the others, so a sum counts streams."""
        if state is StreamState.RECONNECTING and self._state is not StreamState.RECONNECTING:
            self._sink.add(catalog.RECONNECTS, 1, self._tags)
        if state is StreamState.FAILED and self._state is not StreamState.FAILED:
            self._count_error("source")
        self._state = state
        for each in StreamState:
            self._sink.set(
                catalog.STREAM_STATE, float(each is state), {**self._tags, "state": each}
            )

    def close(self) -> None:
        """The stream stopped here: say so, then let its gauges go."""
        self.state(StreamState.STOPPED)
        self._sink.forget(self._tags["stream"])

    def _count_error(self, stage: str) -> None:
        self._sink.add(catalog.ERRORS, 1, {**self._tags, "stage": stage})


async def report_metrics(events: EventLog, metrics: StreamMetrics) -> None:
    """Feed a stream's events to its metrics as they are released, until the log closes."""
    async for event in events.follow():
        metrics.take(event)
    metrics.close()
