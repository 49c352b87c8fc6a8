from pathlib import Path

from serve_app.transcripts.formats import cue_times, to_srt, to_webvtt
from serve_app.transcripts.store import TranscriptLine, TranscriptStore


def line(cycle: int, media_ts: float, text: str, stream: str = "s") -> TranscriptLine:
    return TranscriptLine(stream, cycle, media_ts - 3, media_ts, 1000.0 + cycle, text)


def test_lines_survive_a_restart(tmp_path: Path) -> None:
    store = TranscriptStore(tmp_path / "t.sqlite")
    store.add(line(1, 4.0, "A rabbit wakes up."))
    store.add(line(2, 9.5, "It stretches."))
    store.add(line(1, 2.0, "Other stream.", stream="o"))
    store.close()
    reopened = TranscriptStore(tmp_path / "t.sqlite")
    assert [entry.text for entry in reopened.lines("s")] == ["A rabbit wakes up.", "It stretches."]
    assert reopened.lines("nope") == []


def test_cues_start_at_the_lines_media_time_and_never_overlap() -> None:
    lines = [line(1, 4.0, "one two three four five six seven eight"), line(2, 5.0, "next")]
    (s1, e1), (s2, e2) = cue_times(lines)
    assert (s1, e1) == (4.0, 5.0)  # cut at the next cue
    assert s2 == 5.0 and e2 == 6.5  # short line: the minimum cue length


def test_webvtt_and_srt() -> None:
    lines = [line(1, 3661.25, "Hour mark <b> & --> arrow")]
    vtt = to_webvtt(lines)
    assert vtt.startswith("WEBVTT\n\n01:01:01.250 --> 01:01:03.350\n")
    assert "&lt;b> &amp; → arrow" in vtt
    srt = to_srt(lines)
    assert srt.startswith("1\n01:01:01,250 --> 01:01:03,350\nHour mark <b> & --> arrow\n")


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
    await record_transcript("s", log, store)
    (line,) = store.lines("s")
    assert (line.text, line.media_start, line.media_ts) == ("A rabbit yawns.", 0.5, 2.0)
