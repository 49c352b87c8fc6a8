"""The muxed video through PyAV: the original video (and audio) copied packet for packet,
the commentary encoded to AAC, the cues to mov_text."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from offline.mux_plan import MuxInputs
from serve_app.speech.audio_format import OUTPUT_AUDIO

# Audio codecs an MP4 holds as they are; any other original audio is left out, not re-encoded.
MP4_AUDIO_CODECS = frozenset({"aac", "mp3", "ac3", "eac3", "alac", "opus", "flac"})
AUDIO_CHUNK_SAMPLES = 4_800  # 0.1 s at 48 kHz per frame handed to the AAC encoder
# FFmpeg's default AAC coder (twoloop) searches harder than speech needs; "fast" encoded a
# minute of commentary in 0.26 s instead of 0.41 s here, with no audible difference.
AAC_OPTIONS = {"aac_coder": "fast"}
# The mov_text encoder takes its default style from an ASS header: white text, bottom centre.
ASS_HEADER = (
    "[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n\n"
    "[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
    "OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
    "Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
    "Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0"
    "\n\n[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, "
    "Text\n\n"
)


def mux_with_pyav(inputs: MuxInputs, out: Path) -> str:
    """The MP4 through PyAV; returns a note on what was left out ('' when nothing was)."""
    note = ""
    with av.open(str(inputs.video)) as source, av.open(str(out), "w", format="mp4") as target:
        video_in = source.streams.video[0]
        copies = {video_in: target.add_stream_from_template(video_in)}
        if source.streams.audio:
            audio_in = source.streams.audio[0]
            if audio_in.codec_context.name in MP4_AUDIO_CODECS:
                copies[audio_in] = target.add_stream_from_template(audio_in)
            else:
                note = f"the original {audio_in.codec_context.name} audio was left out"
        speech = target.add_stream(
            "aac", rate=OUTPUT_AUDIO.rate_hz, layout="mono", options=AAC_OPTIONS
        )
        speech.metadata["title"] = "commentary"
        speech.metadata["language"] = "und"
        subtitles = target.add_stream("mov_text")
        subtitles.codec_context.subtitle_header = ASS_HEADER.encode()
        subtitles.metadata["title"] = "commentary"
        target.start_encoding()
        added = _AddedTracks(target, speech, subtitles, inputs)
        for packet in source.demux(list(copies)):
            if packet.dts is None:  # the demuxer's empty flush packets
                continue
            # Keep the file interleaved: commentary up to this packet's time goes first.
            added.write_until(float(packet.dts * packet.time_base))
            packet.stream = copies[packet.stream]
            target.mux(packet)
        added.write_until(float("inf"))
        target.mux(speech.encode(None))
    return note


class _AddedTracks:
    """The commentary's audio and cues, written in step with the copied packets."""

    def __init__(
        self,
        target: av.container.OutputContainer,
        speech: av.AudioStream,
        subtitles: av.SubtitleStream,
        inputs: MuxInputs,
    ) -> None:
        self._target, self._speech, self._subtitles = target, speech, subtitles
        self._samples = inputs.commentary
        self._start_s = inputs.start_s  # commentary time 0 is the original's first frame
        self._next_sample = 0
        self._cues = list(inputs.cues)

    def write_until(self, t: float) -> None:
        rate = OUTPUT_AUDIO.rate_hz
        while self._next_sample < self._samples.size and (
            self._start_s + self._next_sample / rate <= t
        ):
            self._write_audio(self._next_sample)
            self._next_sample += AUDIO_CHUNK_SAMPLES
        while self._cues and self._start_s + self._cues[0][0] <= t:
            self._write_cue(*self._cues.pop(0))

    def _write_audio(self, offset: int) -> None:
        rate = OUTPUT_AUDIO.rate_hz
        chunk = np.ascontiguousarray(self._samples[offset : offset + AUDIO_CHUNK_SAMPLES])
        frame = av.AudioFrame.from_ndarray(chunk.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        frame.time_base = Fraction(1, rate)
        frame.pts = round(self._start_s * rate) + offset
        self._target.mux(self._speech.encode(frame))

    def _write_cue(self, start: float, end: float, text: str) -> None:
        time_base = self._subtitles.time_base
        assert time_base is not None  # set once encoding has started
        dialogue = f"0,0,Default,,0,0,0,,{_ass_text(text)}".encode()
        cue = av.subtitles.subtitle.SubtitleSet.create(
            dialogue,
            0,
            round((end - start) / time_base),
            pts=round((start + self._start_s) / time_base),
        )
        packet = self._subtitles.codec_context.encode_subtitle(cue)
        packet.stream = self._subtitles
        packet.time_base = time_base
        self._target.mux(packet)


def _ass_text(text: str) -> str:
    # Braces start ASS override tags and a backslash escapes; a line break is \N.
    flat = " ".join(text.split())
    return flat.replace("\\", "\\\\").replace("{", "(").replace("}", ")")
