"""One offline run: walk the file, run the cycles in media time, write every output."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from offline.commentator import OfflineCommentator, SpokenLine
from offline.engines import Engines, InProcessPorts, close_engines
from offline.frame_walk import FrameWalk
from offline.mux import mux_commentary
from offline.mux_plan import MuxInputs
from offline.options import OfflineSettings
from offline.out_dir import OutputPaths
from offline.pacer import MediaCyclePacer
from offline.probe import InputError, VideoInfo
from offline.soundtrack import place_speech, write_wav
from offline.subtitles import cues, transcript_lines, write_line_list, write_subtitles
from serve_app.ingest.inference_window import InferenceWindow
from serve_app.sources.source_spec import SourceKind, SourceSpec
from serve_app.speech.audio_clock import AudioGate

STREAM_ID = "offline"  # what engines key their per-stream state by; one stream per run

ProgressCallback = Callable[[float], None]


@dataclass(frozen=True, slots=True)
class OfflineJob:
    info: VideoInfo
    outputs: OutputPaths
    settings: OfflineSettings


@dataclass(slots=True)
class OfflineReport:
    """What a run did: the numbers of the summary and the files it wrote."""

    lines: list[SpokenLine]
    skipped: int
    errors: list[str]
    media_s: float
    wall_s: float
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def speech_s(self) -> float:
        return sum(line.speech_s for line in self.lines)

    @property
    def speed_x(self) -> float:
        """Media seconds commentated per wall second."""
        return self.media_s / self.wall_s if self.wall_s > 0 else 0.0


def commentate_file(
    job: OfflineJob, engines: Engines, on_progress: ProgressCallback | None = None
) -> OfflineReport:
    """Run ``job`` to its end (blocking). Raises InputError for a video with no frames."""
    return asyncio.run(commentate(job, engines, on_progress or (lambda media_s: None)))


async def commentate(
    job: OfflineJob, engines: Engines, on_progress: ProgressCallback
) -> OfflineReport:
    started = time.perf_counter()
    stream = job.settings.stream
    commentator = OfflineCommentator(
        STREAM_ID,
        stream,
        InProcessPorts(engines),
        engines.voice_input,
        engines.choice.describer_speaks,
    )
    pacer = MediaCyclePacer(
        InferenceWindow(stream.window_size, stream.frames_per_inference, stream.frame_stride),
        AudioGate(stream.inference_interval_s, stream.tts_pause_after_s),
        commentator.run_cycle,
    )
    walk = FrameWalk(SourceSpec(SourceKind.FILE, str(job.info.path)), stream)
    try:
        for walked in walk:
            if walked.for_model is not None:
                await pacer.add_frame(walked.for_model)
            on_progress(walked.media_ts_s)
            # Let the loop run once a frame: Ctrl-C (asyncio.run cancels this task) stops the
            # walk at once instead of at the next cycle.
            await asyncio.sleep(0)
        if walk.frames == 0:
            raise InputError(f"'{job.info.path}' has a video stream but no frames")
        await pacer.finish(walk.media_s)
    finally:
        close_engines(engines, STREAM_ID)
    if commentator.cycles and len(commentator.errors) == commentator.cycles:
        raise RuntimeError(f"every cycle failed; the last: {commentator.errors[-1]}")
    report = OfflineReport(
        lines=commentator.lines,
        skipped=commentator.skipped,
        errors=commentator.errors,
        media_s=walk.media_s,
        wall_s=0.0,
    )
    write_outputs(job, report)
    report.wall_s = time.perf_counter() - started
    return report


def write_outputs(job: OfflineJob, report: OfflineReport) -> None:
    """Subtitles, the line list, the soundtrack and the muxed video, in that order."""
    paths, media_s = job.outputs, report.media_s
    transcript = transcript_lines(report.lines, STREAM_ID, wall_ts=time.time())
    write_subtitles(transcript, media_s, paths.vtt, paths.srt)
    write_line_list(report.lines, media_s, paths.line_list)
    soundtrack = place_speech(report.lines, media_s)
    write_wav(paths.wav, soundtrack)
    report.files += [paths.vtt, paths.srt, paths.wav, paths.line_list]
    cut_s = sum(
        max(0.0, end - media_s) for line in report.lines if (end := line.speech_end_s) is not None
    )
    if cut_s > 0:
        report.notes.append(f"{cut_s:.1f} s of speech ran past the end of the video and was cut")
    muxed = mux_commentary(
        MuxInputs(
            video=job.info.path,
            start_s=job.info.start_s,
            commentary=soundtrack,
            commentary_wav=paths.wav,
            cues=cues(transcript, media_s),
            srt=paths.srt,
        ),
        paths.mp4,
    )
    if muxed.written:
        report.files.append(paths.mp4)
        if muxed.note:
            report.notes.append(f"MP4 (by {muxed.muxer}): {muxed.note}")
    else:
        report.notes.append(f"MP4 skipped: {muxed.note}")
