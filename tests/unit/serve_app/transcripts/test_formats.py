"""Subtitle formats: cue timing, WebVTT and SRT."""

from serve_app.transcripts.formats import cue_times, to_srt, to_webvtt
from serve_app.transcripts.store import TranscriptLine


def line(cycle: int, media_ts: float, text: str, stream: str = "s") -> TranscriptLine:
    return TranscriptLine(stream, cycle, media_ts - 3, media_ts, 1000.0 + cycle, text)


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


def test_until_cuts_the_last_cue_at_the_end_of_the_recording() -> None:
    lines = [line(1, 4.0, "one two three"), line(2, 9.0, "a line of eight words said right here")]
    assert cue_times(lines) == [(4.0, 5.5), (9.0, 11.8)]
    assert cue_times(lines, until=10.0) == [(4.0, 5.5), (9.0, 10.0)]
    # A line at or after the end lasts no time rather than ending before it starts.
    assert cue_times([line(1, 12.0, "late")], until=10.0) == [(12.0, 12.0)]
    assert "00:00:09.000 --> 00:00:10.000" in to_webvtt(lines, until=10.0)
    assert "00:00:09,000 --> 00:00:10,000" in to_srt(lines, until=10.0)
