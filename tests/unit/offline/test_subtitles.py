"""Subtitles from the offline lines, through the service's transcript formats."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from offline.commentator import SpokenLine
from offline.subtitles import cues, transcript_lines, write_line_list, write_subtitles


def line(at: float, text: str) -> SpokenLine:
    return SpokenLine(1, max(0.0, at - 1.0), at, text, at, np.zeros(4800, np.int16))


LINES = [line(0.0, "The frame is mostly green."), line(4.5, "Something moves across it now.")]


def test_cues_start_at_their_line_and_end_by_the_end_of_the_video() -> None:
    timed = cues(transcript_lines(LINES, "offline", 0.0), until=5.28)
    assert [start for start, _, _ in timed] == [0.0, 4.5]
    assert all(end <= 5.28 for _, end, _ in timed)
    assert timed[-1][1] == 5.28  # cut: reading it would take longer
    # Lines closer together than their reading time (5 words: 1.75 s): cut at the next cue.
    close = [line(0.0, "The frame is mostly green."), line(1.0, "Something moves.")]
    first, _ = cues(transcript_lines(close, "offline", 0.0), until=5.28)
    assert first[:2] == (0.0, 1.0)


def test_vtt_and_srt_carry_the_same_cues(tmp_path: Path) -> None:
    vtt, srt = tmp_path / "a.vtt", tmp_path / "a.srt"
    write_subtitles(transcript_lines(LINES, "offline", 0.0), 5.28, vtt, srt)
    assert vtt.read_text().startswith("WEBVTT")
    assert "00:00:04.500 --> 00:00:05.280" in vtt.read_text()
    assert "00:00:04,500 --> 00:00:05,280" in srt.read_text()


def test_the_line_list_says_where_each_line_and_its_speech_lie(tmp_path: Path) -> None:
    path = tmp_path / "a.json"
    write_line_list(LINES, 5.28, path)
    record = json.loads(path.read_text())
    assert record["media_s"] == 5.28
    assert record["lines"][1]["media_ts_s"] == 4.5
    assert record["lines"][1]["speech_start_s"] == 4.5
    assert record["lines"][1]["speech_s"] == 0.1
