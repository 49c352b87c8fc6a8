"""The recorder: released lines from a stream's event log go into the store."""

from pathlib import Path

from serve_app.transcripts.store import TranscriptStore


async def test_the_recorder_stores_released_lines_but_not_skips(tmp_path: Path) -> None:
    from serve_app.messages import CycleEnded, CycleStarted
    from serve_app.session.event_log import EventLog
    from serve_app.transcripts.recorder import record_transcript

    store = TranscriptStore(tmp_path / "t.sqlite")
    log = EventLog()

    def ended(cycle: int, text: str, skip: bool) -> CycleEnded:
        return CycleEnded(
            stream_id="s",
            cycle=cycle,
            text=text,
            skip=skip,
            media_ts_s=2.0 * cycle,
            latency_s=1.0,
            inference_s=1.0,
            late=False,
            lateness_s=-0.5,
            shown_at=0.0,
        )

    log.append(
        CycleStarted(
            stream_id="s", cycle=1, frames_media_ts_s=[0.5, 2.0], hint="brief", media_ts_s=2.0
        )
    )
    log.append(ended(1, "A rabbit yawns.", skip=False))
    log.append(ended(2, "...", skip=True))
    log.close()
    await record_transcript("s", 1, log, store)
    (line,) = store.lines("s")
    assert (line.text, line.media_start, line.media_ts) == ("A rabbit yawns.", 0.5, 2.0)
