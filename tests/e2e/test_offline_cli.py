"""``live-commentary FILE`` end to end: real engines (OpenCV describer, eSpeak NG), no Ray.

Each run is a subprocess of the command as users run it. The generated clip runs where
``import ray`` fails, which proves the offline mode never imports Ray, directly or not.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
import pytest

from serve_app.sources.source_spec import demo_clip_path
from serve_app.speech.audio_format import OUTPUT_AUDIO
from tests.support.fixture_video import write_counter_clip

ROOT = Path(__file__).resolve().parents[2]
WITHOUT_RAY = (
    "import sys; sys.modules['ray'] = None; from offline.cli import main; sys.exit(main())"
)
INSTALLED = Path(sys.executable).parent / "live-commentary"
RUN_TIMEOUT_S = 120
CUE = re.compile(r"^(\d\d):(\d\d):(\d\d)[.,](\d{3}) --> (\d\d):(\d\d):(\d\d)[.,](\d{3})$")


def command_line(*args: str, without_ray: bool = True) -> list[str]:
    if without_ray:
        return [sys.executable, "-c", WITHOUT_RAY, *args]
    if INSTALLED.exists():
        return [str(INSTALLED), *args]
    return [sys.executable, "-m", "offline.cli", *args]


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    # The embedded engines, whatever this machine has: the tests download no weights.
    return {**os.environ, "BACKEND": "embedded", "VOICE": "espeak", **(extra or {})}


def live_commentary(
    *args: str, without_ray: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command_line(*args, without_ray=without_ray),
        cwd=ROOT,
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
    )


@dataclass(frozen=True)
class Run:
    video: Path
    out: Path
    process: subprocess.CompletedProcess[str]

    def file(self, suffix: str) -> Path:
        return self.out / f"{self.video.stem}{suffix}"


@pytest.fixture(scope="module")
def generated_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("generated")
    video = write_counter_clip(folder / "counter.mp4", seconds=6.0)
    return Run(video, folder / "out", live_commentary(str(video), "--out", str(folder / "out")))


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    out = tmp_path_factory.mktemp("real") / "out"
    video = demo_clip_path("bigbuckbunny.mp4")  # 5.3 s, 720p, H.264 with AAC sound
    return Run(video, out, live_commentary(str(video), "--out", str(out), without_ray=False))


@pytest.fixture(params=["generated", "real"])
def run(request: pytest.FixtureRequest) -> Run:
    return request.getfixturevalue(f"{request.param}_run")


def video_seconds(path: Path) -> float:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        return float(stream.frames / stream.average_rate)


def parse_cues(text: str) -> list[tuple[float, float, str]]:
    """(start, end, text) of every cue of a VTT or SRT file."""
    cues = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if match := CUE.match(line.strip()):
            h1, m1, s1, ms1, h2, m2, s2, ms2 = (int(g) for g in match.groups())
            start = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000
            end = h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
            cues.append((start, end, lines[i + 1].strip() if i + 1 < len(lines) else ""))
    return cues


def test_it_succeeds_quietly_and_sums_up(run: Run) -> None:
    assert run.process.returncode == 0, run.process.stderr
    assert "Traceback" not in run.process.stderr
    for word in ("lines", "skipped cycles", "speech", "media", "wall", "speed", "files written"):
        assert word in run.process.stdout
    assert "describer: embedded" in run.process.stderr  # the backend chosen is logged


def test_subtitles_parse_within_the_video_in_media_order(run: Run) -> None:
    duration = video_seconds(run.video)
    vtt_text = run.file(".vtt").read_text()
    assert vtt_text.startswith("WEBVTT")
    vtt, srt = parse_cues(vtt_text), parse_cues(run.file(".srt").read_text())
    assert vtt, "no commentary at all"
    assert [(a, b) for a, b, _ in vtt] == [(a, b) for a, b, _ in srt]
    for start, end, text in vtt:
        assert 0.0 <= start < end <= duration + 0.001
        assert text.strip()
    starts = [start for start, _, _ in vtt]
    assert starts == sorted(starts)
    listed = json.loads(run.file(".commentary.json").read_text())["lines"]
    assert [round(line["media_ts_s"], 3) for line in listed] == starts


def test_the_wav_is_the_videos_length_with_speech_only_where_lines_are(run: Run) -> None:
    with wave.open(str(run.file(".commentary.wav"))) as wav:
        assert wav.getframerate() == OUTPUT_AUDIO.rate_hz
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        samples = np.frombuffer(wav.readframes(wav.getnframes()), "<i2")
    rate = OUTPUT_AUDIO.rate_hz
    assert samples.size / rate == pytest.approx(video_seconds(run.video), abs=0.1)
    spoken = np.zeros(samples.size, bool)
    previous_end = 0.0
    lines = json.loads(run.file(".commentary.json").read_text())["lines"]
    assert any(line["speech_s"] > 0 for line in lines)
    for line in lines:
        start, length = line["speech_start_s"], line["speech_s"]
        assert start >= line["media_ts_s"]
        assert start >= previous_end - 1e-5  # never over other speech (times rounded to 1 µs)
        previous_end = start + length
        piece = samples[round(start * rate) : round((start + length) * rate)]
        if piece.size:
            assert np.sqrt(np.mean(piece.astype(np.float64) ** 2)) > 500  # someone speaks
        spoken[round(start * rate) : round((start + length) * rate)] = True
    assert not samples[~spoken].any()  # and silence everywhere else


def test_the_mp4_has_the_video_the_commentary_and_subtitles(run: Run) -> None:
    with av.open(str(run.video)) as original:
        original_audio = len(original.streams.audio)
        original_packets = sum(1 for p in original.demux(original.streams.video[0]) if p.size)
    with av.open(str(run.file(".commentary.mp4"))) as muxed:
        streams = muxed.streams
        assert len(streams.video) == 1
        assert len(streams.audio) == original_audio + 1
        commentary = streams.audio[-1]
        assert commentary.codec_context.name == "aac"
        # MP4 keeps a track's title in its user data, which FFmpeg reads back as "name".
        assert "commentary" in (commentary.metadata.get("title"), commentary.metadata.get("name"))
        assert [s.codec_context.name for s in streams.subtitles] == ["mov_text"]
        assert muxed.duration / 1e6 == pytest.approx(video_seconds(run.video), abs=0.1)
        assert float(commentary.duration * commentary.time_base) == pytest.approx(
            video_seconds(run.video), abs=0.1
        )
        copied = sum(1 for p in muxed.demux(streams.video[0]) if p.size)
    assert copied == original_packets  # the video was copied, not re-encoded


@pytest.fixture(scope="module")
def bad_inputs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bad")
    (folder / "notes.mp4").write_text("not a video\n")
    (folder / "empty.y4m").write_bytes(b"YUV4MPEG2 W64 H64 F25:1 Ip A1:1 C420jpeg\n")
    (folder / "a-file").write_text("an output folder cannot go inside a file\n")
    write_counter_clip(folder / "ok.mp4", seconds=0.5)
    return folder


BAD_CASES = {
    "missing file": (["{dir}/missing.mp4"], {}, 1, "does not exist"),
    "not a video": (["{dir}/notes.mp4"], {}, 1, "not a video file"),
    "no frames": (["{dir}/empty.y4m"], {}, 1, "no frames"),
    "unwritable out dir": (["{dir}/ok.mp4", "--out", "{dir}/a-file/out"], {}, 1, "cannot write"),
    "bad flag": (["{dir}/ok.mp4", "--interval", "-1"], {}, 2, "inference_interval_s"),
    "bad environment": (["{dir}/ok.mp4"], {"FRAME_STRIDE": "0"}, 2, "frame_stride"),
}


@pytest.mark.parametrize("case", list(BAD_CASES))
def test_bad_input_is_one_clear_line_and_a_failure_exit(case: str, bad_inputs: Path) -> None:
    args, env, code, words = BAD_CASES[case]
    done = live_commentary(*(a.format(dir=bad_inputs) for a in args), env=env)
    assert done.returncode == code, done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert words in done.stderr


def test_ctrl_c_mid_run_exits_130_quietly(tmp_path: Path) -> None:
    video = write_counter_clip(tmp_path / "long.mp4", seconds=20.0)
    process = subprocess.Popen(
        command_line(str(video), "--out", str(tmp_path / "out")),
        cwd=ROOT,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background jobs ignore SIGINT, and children inherit that: undo it.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert process.stderr is not None
    first = process.stderr.readline()  # the engines are chosen: the walk is starting
    # The first cycle ran (it is logged): the walk is under way, well before the end.
    started = process.stderr.readline()
    while started and "cycle 1 at" not in started:  # past any other log line
        started = process.stderr.readline()
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=RUN_TIMEOUT_S)
    assert "describer: embedded" in first
    assert "cycle 1 at 0.00 s" in started, started
    assert process.returncode == 130
    assert out == "" and err == ""
    assert not list((tmp_path / "out").iterdir())  # nothing half-written
