"""IngestRegistry on real decoded video: opening, refusing, serving and closing streams."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from serve_app.clock import Clock, ManualClock, SystemClock
from serve_app.ingest.capture_loop import StreamCapture
from serve_app.ingest.registry import PROBE_GRACE_S, REOPEN_WAIT_S, IngestRegistry
from serve_app.messages import StreamState
from serve_app.settings import ServiceSettings, StreamSettings
from tests.support.capture_status import STATUS_FIELDS
from tests.support.fixture_video import read_index_jpeg
from tests.support.polling import drain, eventually
from tests.support.scripted_ports import run_until

MakeRegistry = Callable[..., IngestRegistry]


@pytest.fixture
def make_registry(clip: Path) -> Iterator[MakeRegistry]:
    """Registries whose clients may open files beside ``clip``; all closed after the test."""
    made: list[IngestRegistry] = []

    def make(
        clock: Clock | None = None, probe_grace_s: float = PROBE_GRACE_S, **settings: object
    ) -> IngestRegistry:
        service = ServiceSettings(**{"allowed_file_roots": [str(clip.parent)], **settings})
        registry = IngestRegistry(service, clock, probe_grace_s)
        made.append(registry)
        return registry

    yield make
    for registry in made:
        registry.close_all()


class RecordingClock(SystemClock):
    """The wall clock, noting every wait the registry asks of it."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        await super().sleep(seconds)


async def test_an_opened_file_gives_live_frames_once_decoded(
    make_registry: MakeRegistry, clip: Path
) -> None:
    registry = make_registry()
    opened = await registry.open_stream("s", str(clip), StreamSettings())
    assert opened.ok and opened.error == "" and opened.fps == 25.0
    snapshots = []

    def batch_taken() -> bool:
        snapshots.append(registry.take_batch("s"))
        return snapshots[-1].batch is not None

    await eventually(batch_taken)
    snapshot = snapshots[-1]
    assert snapshot.state is StreamState.LIVE
    assert 0 <= read_index_jpeg(registry.latest_frame("s").jpeg) < 50  # the clip's frames


async def test_opening_an_id_that_is_open_is_refused(
    make_registry: MakeRegistry, clip: Path
) -> None:
    registry = make_registry()
    assert (await registry.open_stream("s", str(clip), StreamSettings())).ok
    again = await registry.open_stream("s", "demo", StreamSettings())
    assert not again.ok and again.error == "stream 's' is already open"
    assert registry.status()["s"]["source"] == f"file:{clip}", "the first stream is untouched"


async def test_a_source_that_cannot_be_opened_says_why(
    make_registry: MakeRegistry, clip: Path
) -> None:
    registry = make_registry()
    bad = clip.parent / "bad.mp4"
    bad.write_bytes(b"not a video at all")
    unreadable = await registry.open_stream("s", str(bad), StreamSettings())
    assert not unreadable.ok and "could not be opened" in unreadable.error
    missing = await registry.open_stream("s", str(clip.parent / "gone.mp4"), StreamSettings())
    assert not missing.ok and "does not exist" in missing.error
    assert registry.status() == {}


async def test_a_client_may_not_open_a_file_outside_the_allowed_roots_but_the_operator_may(
    make_registry: MakeRegistry, clip: Path, tmp_path: Path
) -> None:
    registry = make_registry(allowed_file_roots=[str(tmp_path)])
    refused = await registry.open_stream("s", str(clip), StreamSettings())
    assert not refused.ok and "outside the allowed roots" in refused.error
    trusted = await registry.open_stream("s", str(clip), StreamSettings(), trusted=True)
    assert trusted.ok


class BlockingOpen:
    """StreamCapture.open that hangs until released, then "opens" a reader that notes closing."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.closed = threading.Event()

    def open(self, capture: StreamCapture) -> None:
        self.release.wait(30)
        blocking = self

        class Reader:
            fps = 25.0

            def close(self) -> None:
                blocking.closed.set()

        capture._reader = Reader()  # type: ignore[assignment]


async def test_a_source_that_does_not_answer_in_time_is_refused_and_closed_if_it_opens_late(
    make_registry: MakeRegistry, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocking = BlockingOpen()
    monkeypatch.setattr(StreamCapture, "open", lambda capture: blocking.open(capture))
    registry = make_registry(source_open_timeout_s=0.1, probe_grace_s=0.0)
    try:
        # Far inside the 30 s the source would take: the registry gave up, it did not wait.
        async with asyncio.timeout(3):
            result = await registry.open_stream("s", str(clip), StreamSettings())
    finally:
        blocking.release.set()
    assert not result.ok and result.error == f"source {str(clip)!r} did not answer in 0.1 s"
    await eventually(blocking.closed.is_set)
    assert registry.status() == {}


async def test_an_unknown_stream_is_stopped_and_has_no_frames(
    make_registry: MakeRegistry,
) -> None:
    clock = ManualClock()
    registry = make_registry(clock)
    snapshot = registry.take_batch("nope")
    assert snapshot.batch is None and snapshot.state is StreamState.STOPPED
    assert snapshot.detail == "no such stream" and snapshot.lost, "the gateway reopens it"
    assert registry.latest_frame("nope") is None
    viewer = asyncio.create_task(drain(registry.display_frames("nope")))
    await run_until(clock, viewer.done, step_s=0.25)
    assert viewer.result() == [] and clock.now() - 1_000 >= REOPEN_WAIT_S
    await registry.close_stream("nope")  # nothing to close is not an error


async def test_a_viewer_waits_for_a_stream_that_is_being_reopened(
    make_registry: MakeRegistry, clip: Path
) -> None:
    registry = make_registry()
    viewer = asyncio.create_task(anext(aiter(registry.display_frames("s"))))
    await asyncio.sleep(0.3)
    assert not viewer.done(), "a restarted FrameIngest does not end its viewers at once"
    assert (await registry.open_stream("s", str(clip), StreamSettings())).ok
    frame = await asyncio.wait_for(viewer, 10)
    assert frame.jpeg.startswith(b"\xff\xd8")


async def test_reopening_a_stream_it_holds_from_the_same_source_adopts_it(
    make_registry: MakeRegistry, clip: Path
) -> None:
    registry = make_registry()
    assert (await registry.open_stream("s", str(clip), StreamSettings())).ok
    again = await registry.open_stream("s", str(clip), StreamSettings())
    assert again.ok, "a resuming gateway and this replica agree: it is the same stream"
    assert list(registry.status()) == ["s"]


async def test_display_frames_are_paced_by_the_clock_and_end_when_the_stream_closes(
    make_registry: MakeRegistry, clip: Path
) -> None:
    clock = RecordingClock()
    registry = make_registry(clock=clock)
    assert (await registry.open_stream("s", str(clip), StreamSettings())).ok
    frames = registry.display_frames("s")
    shown = []
    async with asyncio.timeout(10):
        async for frame in frames:
            shown.append(frame)
            if len(shown) == 3:
                break  # the generator stays suspended here, as a consumer's would
    await registry.close_stream("s")
    assert [f.seq for f in shown] == sorted({f.seq for f in shown})
    async with asyncio.timeout(5):
        assert await drain(frames) == [], "nothing is shown after the stream closed"
    assert clock.waits and all(0 < wait <= 1 / 25 for wait in clock.waits)


async def test_display_frames_end_when_the_stream_closes_while_they_wait(
    make_registry: MakeRegistry, clip: Path
) -> None:
    registry = make_registry()
    assert (await registry.open_stream("s", str(clip), StreamSettings())).ok
    frames = registry.display_frames("s")
    first = await anext(frames)
    waiting = asyncio.ensure_future(drain(frames))
    await registry.close_stream("s")
    async with asyncio.timeout(5):
        rest = await waiting
    assert all(f.seq > first.seq for f in rest)


async def test_the_display_delay_set_reaches_the_capture_which_starts_undelayed(
    make_registry: MakeRegistry, clip: Path
) -> None:
    registry = make_registry()
    settings = StreamSettings(stream_delay_init_s=4.0)
    assert (await registry.open_stream("s", str(clip), settings)).ok
    assert registry.status()["s"]["display_delay_s"] == 0.0, "the session, not ingest, owns it"
    registry.set_display_delay("s", 2.5)
    assert registry.status()["s"]["display_delay_s"] == 2.5
    registry.set_display_delay("nope", 1.0)  # a stream closed meanwhile: ignored


async def test_status_describes_each_open_stream(make_registry: MakeRegistry, clip: Path) -> None:
    registry = make_registry()
    assert (await registry.open_stream("s", str(clip), StreamSettings())).ok
    await eventually(lambda: registry.status()["s"]["frames_decoded"] > 0)
    status = registry.status()
    assert set(status) == {"s"} and set(status["s"]) == STATUS_FIELDS
    assert status["s"]["source"] == f"file:{clip}" and status["s"]["fps"] == 25.0
    assert status["s"]["state"] == str(StreamState.LIVE)
    assert status["s"]["display_buffer_bytes"] > 0


async def test_closing_stops_the_capture_and_frees_the_id(
    make_registry: MakeRegistry, clip: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stopped: list[str] = []
    stop = StreamCapture.stop

    def noting_stop(capture: StreamCapture, timeout_s: float = 5.0) -> None:
        stopped.append(capture.stream_id)
        stop(capture, timeout_s)

    monkeypatch.setattr(StreamCapture, "stop", noting_stop)
    registry = make_registry()
    for stream_id in ("a", "b", "c"):
        assert (await registry.open_stream(stream_id, str(clip), StreamSettings())).ok
    await registry.close_stream("a")
    assert stopped == ["a"] and set(registry.status()) == {"b", "c"}
    registry.close_all()
    assert sorted(stopped) == ["a", "b", "c"] and registry.status() == {}
    assert registry.take_batch("b").state is StreamState.STOPPED
    assert (await registry.open_stream("a", str(clip), StreamSettings())).ok, "the id is free"
