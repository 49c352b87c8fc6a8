"""CaptureShare: two FrameIngest replicas' shares of the captures over one real placement file.

Each replica is a real IngestRegistry on the wall clock capturing a real clip; their
PlacementTables are separate connections to one SQLite file, as two processes' would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from serve_app.clock import SystemClock
from serve_app.ingest.capture_share import DEPLOYMENT, CaptureShare
from serve_app.ingest.registry import IngestRegistry
from serve_app.messages import StreamMoving
from serve_app.routing.placement_table import PlacementTable
from serve_app.settings import ServiceSettings, StreamSettings
from tests.support.capture_status import STATUS_FIELDS
from tests.support.polling import drain, eventually

MakeShare = Callable[[str], CaptureShare]


@pytest.fixture
def placements_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "placements.sqlite"


@pytest.fixture
def make_share(clip: Path, placements_file: Path) -> Iterator[MakeShare]:
    """A replica's share: its own registry and its own connection to the placement file."""
    made: list[tuple[IngestRegistry, PlacementTable]] = []

    def make(replica: str) -> CaptureShare:
        service = ServiceSettings(allowed_file_roots=[str(clip.parent)])
        registry = IngestRegistry(service, SystemClock())
        table = PlacementTable(placements_file)
        made.append((registry, table))
        return CaptureShare(registry, table, replica)

    yield make
    for registry, table in made:
        registry.close_all()
        table.close()


@pytest.fixture
def table(placements_file: Path) -> Iterator[PlacementTable]:
    """The placement file as a request router reads it."""
    table = PlacementTable(placements_file)
    yield table
    table.close()


def now() -> float:
    return SystemClock().now()


async def test_opening_a_stream_claims_it_for_the_replica(
    make_share: MakeShare, table: PlacementTable, clip: Path
) -> None:
    a = make_share("a")
    assert (await a.open_stream("s", str(clip), StreamSettings())).ok
    placed = table.holder(DEPLOYMENT, "s")
    assert placed is not None and placed.replica == "a" and placed.live(now())
    failed = await a.open_stream("t", str(clip.parent / "gone.mp4"), StreamSettings())
    assert not failed.ok
    assert table.holder(DEPLOYMENT, "t") is None, "a stream that did not open is not held"


async def test_a_stream_opened_on_another_replica_is_handed_over_and_its_viewers_move(
    make_share: MakeShare, table: PlacementTable, clip: Path
) -> None:
    a, b = make_share("a"), make_share("b")
    assert (await a.open_stream("s", str(clip), StreamSettings())).ok
    frames = a.display_frames("s")
    async with asyncio.timeout(10):
        await anext(frames)
    # "a" looked dead to the gateway, which opened the stream again on "b".
    assert (await b.open_stream("s", str(clip), StreamSettings())).ok
    assert table.holder(DEPLOYMENT, "s").replica == "b"
    await a.keep()
    assert a.registry.ids() == set(), "a stopped its capture"
    with pytest.raises(StreamMoving):
        async with asyncio.timeout(10):
            await drain(frames)
    await b.keep()
    assert b.registry.ids() == {"s"} and table.holder(DEPLOYMENT, "s").replica == "b"


async def test_keeping_a_replicas_streams_renews_them_and_stops_none(
    make_share: MakeShare, table: PlacementTable, clip: Path
) -> None:
    a = make_share("a")
    assert (await a.open_stream("s", str(clip), StreamSettings())).ok
    before = table.holder(DEPLOYMENT, "s").expires
    await asyncio.sleep(0.05)
    await a.keep()
    assert a.registry.ids() == {"s"}
    assert table.holder(DEPLOYMENT, "s").expires > before


async def test_a_viewer_on_a_replica_without_the_stream_is_sent_to_its_live_holder(
    make_share: MakeShare, clip: Path
) -> None:
    a, b = make_share("a"), make_share("b")
    assert (await b.open_stream("s", str(clip), StreamSettings())).ok
    with pytest.raises(StreamMoving):
        await anext(a.display_frames("s"))


async def test_a_viewer_of_a_stream_whose_holder_left_waits_for_it_to_reopen(
    make_share: MakeShare, clip: Path
) -> None:
    a, b = make_share("a"), make_share("b")
    assert (await b.open_stream("s", str(clip), StreamSettings())).ok
    await b.close()  # its lease lapsed: the stream is nobody's until the gateway reopens it
    viewer = asyncio.create_task(anext(a.display_frames("s")))
    await asyncio.sleep(0.3)
    assert not viewer.done(), "no live replica holds it: the viewer waits, it does not move"
    assert (await a.open_stream("s", str(clip), StreamSettings())).ok
    frame = await asyncio.wait_for(viewer, 10)
    assert frame.jpeg.startswith(b"\xff\xd8")


async def test_closing_a_stream_releases_its_placement(
    make_share: MakeShare, table: PlacementTable, clip: Path
) -> None:
    a, b = make_share("a"), make_share("b")
    assert (await a.open_stream("s", str(clip), StreamSettings())).ok
    assert (await a.open_stream("t", str(clip), StreamSettings())).ok
    await a.close_stream("s")
    assert a.registry.ids() == {"t"}
    assert table.holder(DEPLOYMENT, "s") is None
    await b.close_stream("t")  # not b's: a's placement stays
    assert table.holder(DEPLOYMENT, "t").replica == "a"
    assert table.claim(DEPLOYMENT, "s", "b", now()), "the closed stream is free at once"


async def test_status_lists_the_other_replicas_captures_as_it_published_them(
    make_share: MakeShare, clip: Path
) -> None:
    a, b = make_share("a"), make_share("b")
    assert (await a.open_stream("s1", str(clip), StreamSettings())).ok
    assert (await b.open_stream("s2", str(clip), StreamSettings())).ok
    await eventually(lambda: b.registry.status()["s2"]["frames_decoded"] > 0)
    await b.keep()
    status = a.status()
    assert set(status) == {"s1", "s2"}
    assert set(status["s2"]) == STATUS_FIELDS | {"replica"} and status["s2"]["replica"] == "b"
    assert status["s2"]["source"] == f"file:{clip}" and status["s2"]["fps"] == 25.0
    assert status["s2"]["frames_decoded"] > 0
    # a has published nothing yet: its own capture is listed as it is, not from the table.
    assert set(status["s1"]) == STATUS_FIELDS | {"replica"} and status["s1"]["replica"] == "a"
    assert status["s1"]["source"] == f"file:{clip}"
    await b.close()
    assert set(a.status()) == {"s1"}, "a replica gone is not listed"


async def test_closing_a_share_stops_its_captures_and_lets_other_replicas_take_them(
    make_share: MakeShare, table: PlacementTable, clip: Path
) -> None:
    a, b = make_share("a"), make_share("b")
    for stream_id in ("s1", "s2"):
        assert (await a.open_stream(stream_id, str(clip), StreamSettings())).ok
    await a.close()
    assert a.registry.status() == {}
    t = now()
    for stream_id in ("s1", "s2"):
        placed = table.holder(DEPLOYMENT, stream_id)
        assert placed is not None and placed.replica == "a" and not placed.live(t)
    assert b.status() == {}, "a's streams are no longer listed as live anywhere"
    assert table.claim(DEPLOYMENT, "s1", "b", t), "no need to wait for a's leases to lapse"
