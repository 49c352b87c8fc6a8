"""StreamCapture on real decoded video: the counter clip."""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from serve_app.ingest.capture_loop import StreamCapture
from serve_app.messages import StreamState
from serve_app.settings import StreamSettings
from serve_app.sources.source_spec import SourceError, parse_source
from tests.support.fixture_video import read_index_jpeg, write_counter_clip

Until = Callable[[StreamCapture], bool]


@pytest.fixture(scope="module")
def counter_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_counter_clip(tmp_path_factory.mktemp("clip") / "counter.mp4", seconds=2.0)


def media_played_s(capture: StreamCapture) -> float:
    latest = capture.latest_frame()
    return -1.0 if latest is None else latest.media_ts_s


def run_capture(
    path: Path, until: Until, display_delay_s: float = 0.0, **settings: object
) -> StreamCapture:
    """A started capture, once ``until`` holds (polled; the bound only stops a hang)."""
    capture = StreamCapture(
        "t", parse_source(str(path)), StreamSettings(**settings), open_timeout_s=5
    )
    capture.display_delay_s = display_delay_s  # what the stream's session would push
    capture.start()
    deadline = time.monotonic() + 15
    while not until(capture):
        if time.monotonic() > deadline:
            capture.stop()
            pytest.fail("the capture never got there")
        time.sleep(0.02)
    return capture


def test_every_frame_is_displayed_with_its_media_time(counter_clip: Path) -> None:
    capture = run_capture(counter_clip, lambda c: c.frames_decoded >= 25, loop=False)
    try:
        frames = capture.due_frames(-1, now=time.time() + 60)  # everything, ignoring delay
        assert len(frames) >= 20
        for frame in frames:
            index = read_index_jpeg(frame.jpeg)
            assert frame.media_ts_s == pytest.approx(index / 25, abs=1e-6)
        assert [f.seq for f in frames] == list(range(frames[0].seq, frames[-1].seq + 1))
    finally:
        capture.stop()


def test_file_plays_at_native_rate_not_as_fast_as_it_decodes(counter_clip: Path) -> None:
    capture = run_capture(counter_clip, lambda c: media_played_s(c) >= 0.9, loop=False)
    try:
        frames = capture.due_frames(-1, now=time.time() + 60)
        wall = frames[-1].capture_wall - frames[0].capture_wall
        media = frames[-1].media_ts_s - frames[0].media_ts_s
        assert wall == pytest.approx(media, rel=0.25)
    finally:
        capture.stop()


def test_window_gets_frames_at_capture_fps(counter_clip: Path) -> None:
    capture = run_capture(
        counter_clip, lambda c: c.state is StreamState.ENDED, loop=False, capture_fps=2.0
    )
    try:
        batch = capture.take_batch()
        assert batch is not None
        times = [f.media_ts_s for f in batch.frames]
        gaps = {round(b - a, 2) for a, b in itertools.pairwise(times)}
        assert gaps == {1.0}  # every 2nd frame of a 2 fps window
    finally:
        capture.stop()


def test_looping_keeps_media_time_increasing(counter_clip: Path) -> None:
    capture = run_capture(counter_clip, lambda c: c.loops >= 1 and media_played_s(c) > 2.0)
    try:
        frames = capture.due_frames(-1, now=time.time() + 60)
        media = [f.media_ts_s for f in frames]
        assert media == sorted(media) and len(set(media)) == len(media)
        assert media[-1] > 2.0
    finally:
        capture.stop()


def test_display_delay_holds_frames_back(counter_clip: Path) -> None:
    capture = run_capture(
        counter_clip, lambda c: media_played_s(c) >= 0.8, display_delay_s=0.5, loop=False
    )
    try:
        now = time.time()
        shown = capture.frame_shown_at(now)
        assert shown is not None
        assert now - shown.capture_wall >= 0.5
        assert capture.latest_frame().seq > shown.seq
    finally:
        capture.stop()


def test_unreadable_file_is_a_source_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    capture = StreamCapture("t", parse_source(str(bad)), StreamSettings(), open_timeout_s=5)
    with pytest.raises(SourceError, match="could not be opened"):
        capture.open()


def test_display_step_shows_a_still_first_then_paces_due_frames(counter_clip: Path) -> None:
    capture = run_capture(
        counter_clip, lambda c: c.frames_decoded >= 5, display_delay_s=5.0, loop=False
    )
    try:
        now = time.time()
        still, wait = capture.display_step(-1, now)
        assert still is not None and still.seq == 0, "the first frame, as a still"
        assert capture.display_step(still.seq, now)[0] is None, "nothing else is due yet"
        assert 0 < wait <= capture.display_interval_s
        later, _ = capture.display_step(still.seq, now + 5.5)
        assert later is not None and later.seq > still.seq, "a late viewer gets the newest"
    finally:
        capture.stop()


def test_a_capture_shows_frames_undelayed_until_its_session_sets_the_delay(
    counter_clip: Path,
) -> None:
    settings = StreamSettings(stream_delay_init_s=3.0)
    capture = StreamCapture("t", parse_source(str(counter_clip)), settings, open_timeout_s=5)
    # The session owns the delay (starting at stream_delay_init_s) and pushes it; ingest
    # deriving its own from the settings would be a second owner.
    assert capture.display_delay_s == 0.0
