"""Subtitles and the line list: the service's transcript formats, over the offline lines."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from offline.commentator import SpokenLine
from serve_app.transcripts.formats import cue_times, to_srt, to_webvtt
from serve_app.transcripts.store import TranscriptLine


def transcript_lines(
    lines: Sequence[SpokenLine], stream_id: str, wall_ts: float
) -> list[TranscriptLine]:
    """The lines as the service's transcript stores them (``wall_ts``: when the run made them)."""
    return [
        TranscriptLine(
            stream_id=stream_id,
            cycle=line.cycle,
            media_start=line.media_start_s,
            media_ts=line.media_ts_s,
            wall_ts=wall_ts,
            text=line.text,
        )
        for line in lines
    ]


def cues(lines: list[TranscriptLine], until: float) -> list[tuple[float, float, str]]:
    """(start, end, text) per line, media order: the timing to_webvtt and to_srt use."""
    ordered = sorted(lines, key=lambda line: line.media_ts)
    times = cue_times(ordered, until)
    return [(a, b, line.text) for line, (a, b) in zip(ordered, times, strict=True)]


def write_subtitles(lines: list[TranscriptLine], until: float, vtt: Path, srt: Path) -> None:
    """Both formats, every cue ending by ``until`` (the end of the video)."""
    vtt.write_text(to_webvtt(lines, until), encoding="utf-8")
    srt.write_text(to_srt(lines, until), encoding="utf-8")


def write_line_list(lines: Sequence[SpokenLine], media_s: float, path: Path) -> None:
    """Every line with where it is shown and where its speech lies, for tools and tests."""
    record = {
        "media_s": round(media_s, 6),
        "lines": [
            {
                "cycle": line.cycle,
                "media_start_s": round(line.media_start_s, 6),
                "media_ts_s": round(line.media_ts_s, 6),
                "text": line.text,
                "speech_start_s": None
                if line.speech_start_s is None
                else round(line.speech_start_s, 6),
                "speech_s": round(line.speech_s, 6),
            }
            for line in lines
        ],
    }
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
