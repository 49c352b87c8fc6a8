"""The muxed video, and what happens when it cannot be made."""

from __future__ import annotations

import shutil
from pathlib import Path

import av
import numpy as np
import pytest

import offline.mux as mux
import offline.mux_ffmpeg as mux_ffmpeg
from offline.commentator import SpokenLine
from offline.mux_plan import MuxInputs
from offline.soundtrack import write_wav
from offline.subtitles import transcript_lines, write_subtitles
from serve_app.speech.audio_format import OUTPUT_AUDIO

RATE = OUTPUT_AUDIO.rate_hz


def inputs_for(clip: Path, folder: Path) -> MuxInputs:
    track = np.zeros(RATE, np.int16)
    track[RATE // 4 : RATE // 2] = 3000
    lines = transcript_lines(
        [SpokenLine(1, 0.0, 0.25, "A bar moves right.", 0.25, track[:100])], "offline", 0.0
    )
    wav, vtt, srt = folder / "c.wav", folder / "c.vtt", folder / "c.srt"
    write_wav(wav, track)
    write_subtitles(lines, 1.0, vtt, srt)
    return MuxInputs(clip, 0.0, track, wav, [(0.25, 1.0, "A bar moves right.")], srt)


def streams_of(path: Path) -> list[tuple[str, str]]:
    with av.open(str(path)) as container:
        return [(s.type, s.codec_context.name) for s in container.streams]


def test_pyav_copies_the_video_and_adds_commentary_audio_and_subtitles(
    short_clip: Path, tmp_path: Path
) -> None:
    out = tmp_path / "c.mp4"
    result = mux.mux_commentary(inputs_for(short_clip, tmp_path), out)
    assert result.written and result.muxer == "PyAV" and result.note == ""
    assert streams_of(out) == [("video", "h264"), ("audio", "aac"), ("subtitle", "mov_text")]
    with av.open(str(out)) as muxed, av.open(str(short_clip)) as original:
        copied = [bytes(p) for p in muxed.demux(muxed.streams.video[0]) if p.size]
        source = [bytes(p) for p in original.demux(original.streams.video[0]) if p.size]
        assert copied == source  # packet for packet: not re-encoded
    with av.open(str(out)) as muxed:
        # MP4 fills the time before a cue with an empty sample (2 bytes: length 0).
        [cue] = [p for p in muxed.demux(muxed.streams.subtitles[0]) if p.size > 2]
        assert b"A bar moves right." in bytes(cue)
        assert float(cue.pts * cue.time_base) == 0.25


def pyav_fails(inputs: MuxInputs, out: Path) -> str:
    out.write_bytes(b"half a file")
    raise av.FFmpegError(22, "codec not supported in container")


def test_without_pyav_or_ffmpeg_the_mp4_is_skipped_with_the_reason(
    short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mux, "mux_with_pyav", pyav_fails)
    monkeypatch.setattr(mux_ffmpeg.shutil, "which", lambda name: None)
    out = tmp_path / "c.mp4"
    result = mux.mux_commentary(inputs_for(short_clip, tmp_path), out)
    assert not result.written
    assert "PyAV could not write it" in result.note and "no ffmpeg program" in result.note
    assert not out.exists()  # no half-written file left behind


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="no ffmpeg program here")
def test_the_ffmpeg_program_steps_in_when_pyav_cannot(
    short_clip: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mux, "mux_with_pyav", pyav_fails)
    out = tmp_path / "c.mp4"
    result = mux.mux_commentary(inputs_for(short_clip, tmp_path), out)
    assert result.written and result.muxer == "ffmpeg", result.note
    assert streams_of(out) == [("video", "h264"), ("audio", "aac"), ("subtitle", "mov_text")]
