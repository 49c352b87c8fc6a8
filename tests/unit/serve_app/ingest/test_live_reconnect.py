"""A live HTTP source that dies and comes back: the capture reconnects, media time goes on."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from serve_app.ingest.capture_loop import StreamCapture
from serve_app.messages import StreamState
from serve_app.settings import StreamSettings
from serve_app.sources.source_spec import parse_source
from tests.support.fixture_video import write_counter_clip
from tests.support.live_server import LiveHttpSource

pytestmark = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs ffmpeg")


def wait_for(predicate, seconds: float) -> bool:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def test_capture_reconnects_after_the_source_restarts(tmp_path: Path) -> None:
    clip = write_counter_clip(tmp_path / "c.mp4", seconds=3.0)
    server = LiveHttpSource(clip)
    server.start()
    states: list[StreamState] = []
    capture = StreamCapture(
        "live",
        parse_source(server.url),
        StreamSettings(),
        open_timeout_s=5,
        on_state=lambda state, detail: states.append(state),
    )
    try:
        capture.start()
        assert wait_for(lambda: capture.frames_decoded > 10, 10)
        before = capture.latest_frame()
        server.kill()
        assert wait_for(lambda: capture.state is StreamState.RECONNECTING, 15)
        server.start()
        assert wait_for(lambda: capture.state is StreamState.LIVE, 30)
        decoded = capture.frames_decoded
        assert wait_for(lambda: capture.frames_decoded > decoded + 10, 10)
        after = capture.latest_frame()
        assert after.media_ts_s > before.media_ts_s, "media time goes on across reconnects"
        assert states[:1] == [StreamState.LIVE] and StreamState.RECONNECTING in states
        assert capture.fps == 25.0
    finally:
        capture.stop()
        server.kill()
