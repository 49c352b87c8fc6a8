"""StreamShare: several gateway replicas share the streams; a dead one's streams move.

Replicas "a", "b" (and "c") over the same spec store, placement table and transcripts, on
one ManualClock: a replica "dies" by no longer renewing its leases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from serve_app.clock import ManualClock
from serve_app.messages import StreamMoving, StreamState
from serve_app.routing.placement_table import LEASE_TTL_S, PlacementTable
from serve_app.session.stream_share import DEPLOYMENT
from serve_app.session.stream_specs import StreamSpecStore
from tests.support.gateway_replica import GatewayReplica
from tests.support.scripted_ports import run_until, settle

Replicas = Callable[..., GatewayReplica]


@pytest.fixture()
async def replica(tmp_path: Path) -> AsyncIterator[Replicas]:
    clock = ManualClock()
    specs = StreamSpecStore(tmp_path / "streams.sqlite")
    table = PlacementTable(tmp_path / "placements.sqlite")
    made: list[GatewayReplica] = []

    def make(name: str, **settings: object) -> GatewayReplica:
        made.append(
            GatewayReplica(
                tmp_path / "transcripts.sqlite", specs, table, name, clock=clock, **settings
            )
        )
        return made[-1]

    yield make
    for each in made:
        await each.close()


def holder(table_of: GatewayReplica, stream_id: str) -> str | None:
    placed = table_of.share._table.holder(DEPLOYMENT, stream_id)
    return placed.replica if placed else None


async def test_a_stream_runs_on_the_replica_that_created_it_and_is_listed_by_all(
    replica: Replicas,
) -> None:
    a, b = replica("a"), replica("b")
    assert (await a.create("cam")).status_code == 201
    await a.share.keep()
    assert a.ids() == ["cam"] and b.ids() == [], "one session, on its own replica"
    listed = b.share.list_streams()
    assert [s["id"] for s in listed] == ["cam"] and listed[0]["source_state"] == "starting"
    assert b.share.get_stream("cam") == a.share.get_stream("cam"), "a's snapshot"
    again = await b.create("cam")
    assert again.status_code == 409 and "'cam' exists" in again.error


async def test_another_replica_refers_clients_to_the_holder_while_it_lives(
    replica: Replicas,
) -> None:
    a, b = replica("a"), replica("b")
    await a.create("cam")
    with pytest.raises(StreamMoving):
        await anext(aiter(b.share.follow("cam", None)))
    with pytest.raises(StreamMoving):
        await b.share.events_since("cam", -1)
    assert b.ids() == [], "b took nothing over"


async def test_a_dead_replicas_streams_are_taken_over_once_its_leases_lapse(
    replica: Replicas,
) -> None:
    a, b = replica("a"), replica("b")
    await a.create("cam")
    await a.create("yard")
    await b.share.keep()
    assert b.ids() == [], "a's leases are live"
    a.clock.advance(LEASE_TTL_S + 1)  # a stops renewing: it died
    await b.share.keep()
    await run_until(b.clock, lambda: all(map(b.registry.session, ["cam", "yard"])))
    assert b.session("cam").run == 2, "a resumed stream is a new run"
    assert holder(b, "cam") == "b"
    # a comes back to life late: it finds its streams taken and lets them go.
    follower = aiter(a.share.follow("cam", None))
    await a.share.keep()
    assert a.ids() == []
    with pytest.raises(StreamMoving):
        async for _ in follower:
            pass


async def test_survivors_take_a_dead_replicas_streams_in_fair_shares(replica: Replicas) -> None:
    a, b, c = replica("a"), replica("b"), replica("c")
    await a.create("a1")
    await b.create("b1")
    await c.create("c1")
    await c.create("c2")
    c.clock.advance(LEASE_TTL_S - 1)
    await a.share.keep()
    await b.share.keep()
    c.clock.advance(2)  # c's leases lapse (it died); a's and b's were just renewed
    await a.share.keep()
    await b.share.keep()
    await settle()
    assert len(a.ids()) == 2 and len(b.ids()) == 2, (a.ids(), b.ids())
    assert set(a.ids()) | set(b.ids()) == {"a1", "b1", "c1", "c2"}


async def test_a_request_for_an_orphaned_stream_takes_it_over_at_once(replica: Replicas) -> None:
    a, b = replica("a"), replica("b")
    await a.create("cam")
    a.clock.advance(LEASE_TTL_S + 1)
    b.ports.state = StreamState.LIVE
    event = await anext(aiter(b.share.follow("cam", None)))
    assert event.stream_id == "cam" and b.ids() == ["cam"]


async def test_a_replica_going_away_hands_its_streams_over_at_once(replica: Replicas) -> None:
    a, b = replica("a"), replica("b")
    await a.create("cam")
    await a.share.close()  # Serve's graceful shutdown
    assert a.ids() == []
    await b.share.keep()  # no wait for the lease to lapse
    await run_until(b.clock, lambda: b.registry.session("cam") is not None)


async def test_the_default_stream_starts_once_whichever_replicas_boot(replica: Replicas) -> None:
    a = replica("a", default_source="demo:clip", default_stream_id="boot")
    b = replica("b", default_source="demo:clip", default_stream_id="boot")
    first = await a.share.start_default_stream()
    assert first is not None and first.ok
    assert await b.share.start_default_stream() is None, "stored: nothing to start"
    assert a.ids() == ["boot"] and b.ids() == []


async def test_a_stream_is_deleted_through_whichever_replica_holds_it(replica: Replicas) -> None:
    a, b = replica("a"), replica("b")
    await a.create("cam")
    a.clock.advance(LEASE_TTL_S + 1)
    assert await b.share.delete_stream("cam") is True, "a died: b takes it, then deletes it"
    assert b.share.list_streams() == [] and holder(b, "cam") is None
    assert await b.share.delete_stream("cam") is False


async def test_the_stream_limit_counts_every_replicas_streams(replica: Replicas) -> None:
    a, b = replica("a", max_streams=2), replica("b", max_streams=2)
    await a.create("one")
    await b.create("two")
    refused = await a.create("three")
    assert refused.status_code == 429 and "MAX_STREAMS" in refused.error
