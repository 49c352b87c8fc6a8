"""Transcripts as WebVTT and SRT, cue times in media time.

A cue starts when its line is shown (the media time of the newest frame it speaks of) and
lasts about as long as it takes to read, but never past the next cue (nor past ``until``, the
end of a recording, when given).
"""

from __future__ import annotations

from serve_app.transcripts.store import TranscriptLine

READING_S_PER_WORD = 0.35  # ~170 words a minute, a comfortable subtitle pace
MIN_CUE_S = 1.5
MAX_CUE_S = 8.0


def cue_times(lines: list[TranscriptLine], until: float | None = None) -> list[tuple[float, float]]:
    ordered = sorted(lines, key=lambda line: line.media_ts)
    times = []
    for i, line in enumerate(ordered):
        start = line.media_ts
        length = min(MAX_CUE_S, max(MIN_CUE_S, READING_S_PER_WORD * len(line.text.split())))
        end = start + length
        if i + 1 < len(ordered):
            end = min(end, max(start + 0.1, ordered[i + 1].media_ts))
        if until is not None:
            end = max(start, min(end, until))
        times.append((start, end))
    return times


def _clock(seconds: float, decimal: str) -> str:
    millis = round(max(0.0, seconds) * 1000)
    h, rest = divmod(millis, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{decimal}{ms:03d}"


def to_webvtt(lines: list[TranscriptLine], until: float | None = None) -> str:
    ordered = sorted(lines, key=lambda line: line.media_ts)
    out = ["WEBVTT", ""]
    for line, (start, end) in zip(ordered, cue_times(ordered, until), strict=True):
        out += [f"{_clock(start, '.')} --> {_clock(end, '.')}", _escape_vtt(line.text), ""]
    return "\n".join(out)


def to_srt(lines: list[TranscriptLine], until: float | None = None) -> str:
    ordered = sorted(lines, key=lambda line: line.media_ts)
    out = []
    for n, (line, (start, end)) in enumerate(
        zip(ordered, cue_times(ordered, until), strict=True), start=1
    ):
        out += [str(n), f"{_clock(start, ',')} --> {_clock(end, ',')}", line.text, ""]
    return "\n".join(out)


def _escape_vtt(text: str) -> str:
    # '-->' would end a cue timing line early; & and < start entities and tags.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace("-->", "→")
