"""PlacementTable on real SQLite files: leases, their renewal and release, across processes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from serve_app.routing.placement_table import LEASE_TTL_S, Placement, PlacementTable

INGEST = "FrameIngest"
GATEWAY = "StreamGateway"
T0 = 1_000.0

MakeTable = Callable[[], PlacementTable]


@pytest.fixture
def make_table(tmp_path: Path) -> Iterator[MakeTable]:
    """Tables over one file in tmp_path, as each replica's process opens it; all closed after."""
    made: list[PlacementTable] = []

    def make() -> PlacementTable:
        table = PlacementTable(tmp_path / "data" / "placements.sqlite")
        made.append(table)
        return table

    yield make
    for table in made:
        table.close()


def test_a_free_stream_is_claimed_with_a_lease_of_the_ttl(make_table: MakeTable) -> None:
    table = make_table()
    assert table.holder(INGEST, "s") is None
    assert table.claim(INGEST, "s", "a", now=T0)
    assert table.holder(INGEST, "s") == Placement("a", T0 + LEASE_TTL_S)


def test_a_claim_is_refused_while_another_replicas_lease_is_live(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s", "a", now=T0)
    assert not table.claim(INGEST, "s", "b", now=T0 + 1)
    assert not table.claim(INGEST, "s", "b", now=T0 + LEASE_TTL_S - 0.01)
    assert table.holder(INGEST, "s") == Placement("a", T0 + LEASE_TTL_S), "a's lease untouched"


def test_a_claim_is_granted_once_the_other_lease_lapsed(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s", "a", now=T0)
    later = T0 + LEASE_TTL_S + 0.01
    assert not table.holder(INGEST, "s").live(later)
    assert table.claim(INGEST, "s", "b", now=later)
    assert table.holder(INGEST, "s") == Placement("b", later + LEASE_TTL_S)


def test_a_lease_is_claimable_as_soon_as_it_is_no_longer_live(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s", "a", now=T0)
    lapsed_at = table.holder(INGEST, "s").expires
    assert not table.holder(INGEST, "s").live(lapsed_at)
    assert table.claim(INGEST, "s", "b", now=lapsed_at)


def test_taking_always_wins_over_a_live_lease(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s", "a", now=T0)
    assert table.claim(INGEST, "s", "b", now=T0 + 1, take=True)
    assert table.holder(INGEST, "s") == Placement("b", T0 + 1 + LEASE_TTL_S)
    assert not table.claim(INGEST, "s", "a", now=T0 + 2), "a's lease went with the stream"
    assert table.claim(INGEST, "s", "c", now=T0, take=True), "taking a free stream is a claim"
    assert table.holder(INGEST, "s").replica == "c"


def test_the_holder_claiming_again_succeeds_and_extends_its_lease(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s", "a", now=T0)
    assert table.claim(INGEST, "s", "a", now=T0 + 3)
    assert table.holder(INGEST, "s") == Placement("a", T0 + 3 + LEASE_TTL_S)


def test_renew_extends_only_the_replicas_own_leases(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s1", "a", now=T0)
    assert table.claim(INGEST, "s2", "a", now=T0)
    assert table.claim(INGEST, "s3", "b", now=T0)
    held = table.renew(INGEST, "a", now=T0 + 4, snapshots={})
    assert held == {"s1", "s2"}
    placements = table.placements(INGEST)
    assert placements["s1"].expires == placements["s2"].expires == T0 + 4 + LEASE_TTL_S
    assert placements["s3"] == Placement("b", T0 + LEASE_TTL_S), "b's lease is its own to renew"
    # a's leases outlive b's: only a's streams are still held past b's expiry.
    assert not table.claim(INGEST, "s1", "c", now=T0 + LEASE_TTL_S + 1)
    assert table.claim(INGEST, "s3", "c", now=T0 + LEASE_TTL_S + 1)


def test_renew_stores_the_replicas_snapshots_of_its_own_streams(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s1", "a", now=T0)
    assert table.claim(INGEST, "s2", "b", now=T0)
    table.renew(INGEST, "b", now=T0, snapshots={"s2": {"state": "live", "fps": 25.0}})
    table.renew(
        INGEST,
        "a",
        now=T0,
        snapshots={"s1": {"state": "reconnecting", "loops": 2}, "s2": {"state": "stale"}},
    )
    placements = table.placements(INGEST)
    assert placements["s1"].snapshot == {"state": "reconnecting", "loops": 2}
    assert placements["s2"].snapshot == {"state": "live", "fps": 25.0}, "not a's to describe"


def test_renew_returns_exactly_the_streams_the_replica_still_holds(
    make_table: MakeTable,
) -> None:
    table = make_table()
    for stream_id in ("s1", "s2"):
        assert table.claim(INGEST, stream_id, "a", now=T0)
    assert table.claim(INGEST, "s2", "b", now=T0 + 1, take=True)  # a was thought dead
    snapshots = {"s1": {"state": "live"}, "s2": {"state": "live"}}
    assert table.renew(INGEST, "a", now=T0 + 1, snapshots=snapshots) == {"s1"}
    assert table.placements(INGEST)["s2"].snapshot == {}, "a's snapshot did not land on b's row"
    assert table.renew(INGEST, "b", now=T0 + 1, snapshots={}) == {"s2"}
    assert table.renew(INGEST, "c", now=T0 + 1, snapshots={}) == set()


def test_release_deletes_only_the_callers_own_row(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s1", "a", now=T0)
    assert table.claim(INGEST, "s2", "b", now=T0)
    table.release(INGEST, "s2", "a")  # not a's: a stale close after b took it over
    assert table.holder(INGEST, "s2") == Placement("b", T0 + LEASE_TTL_S)
    table.release(INGEST, "s1", "a")
    assert table.holder(INGEST, "s1") is None
    assert set(table.placements(INGEST)) == {"s2"}
    table.release(INGEST, "s1", "a")  # already gone: not an error
    assert table.claim(INGEST, "s1", "b", now=T0), "the released stream is free at once"


def test_release_all_lets_another_replica_claim_at_once(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s1", "a", now=T0)
    assert table.claim(INGEST, "s2", "a", now=T0)
    assert table.claim(INGEST, "s3", "b", now=T0)
    table.release_all(INGEST, "a")
    assert not table.holder(INGEST, "s1").live(T0)
    assert not table.holder(INGEST, "s2").live(T0)
    assert table.holder(INGEST, "s3").live(T0), "b's leases are not a's to release"
    assert table.claim(INGEST, "s1", "b", now=T0 + 0.1)
    assert not table.claim(INGEST, "s3", "c", now=T0 + 0.1)


def test_two_tables_over_one_file_see_each_others_claims(make_table: MakeTable) -> None:
    process_a, process_b = make_table(), make_table()
    assert process_a.claim(INGEST, "s", "a", now=T0)
    assert process_b.holder(INGEST, "s") == Placement("a", T0 + LEASE_TTL_S)
    assert not process_b.claim(INGEST, "s", "b", now=T0 + 1)
    process_a.renew(INGEST, "a", now=T0 + 2, snapshots={"s": {"state": "live"}})
    assert process_b.placements(INGEST) == {
        "s": Placement("a", T0 + 2 + LEASE_TTL_S, {"state": "live"})
    }
    assert process_b.claim(INGEST, "s", "b", now=T0 + 3, take=True)
    assert process_a.renew(INGEST, "a", now=T0 + 4, snapshots={}) == set()
    assert process_a.holder(INGEST, "s").replica == "b"


def test_placements_carry_snapshots_as_dicts(make_table: MakeTable) -> None:
    table = make_table()
    assert table.placements(INGEST) == {}
    assert table.claim(INGEST, "s2", "b", now=T0)
    assert table.claim(INGEST, "s1", "a", now=T0)
    snapshot = {"source": "file:/m/c.mp4", "fps": 25.0, "loops": 1, "detail": ""}
    table.renew(INGEST, "a", now=T0, snapshots={"s1": snapshot})
    placements = table.placements(INGEST)
    assert list(placements) == ["s1", "s2"]
    assert placements["s1"] == Placement("a", T0 + LEASE_TTL_S, snapshot)
    assert isinstance(placements["s2"].snapshot, dict) and placements["s2"].snapshot == {}


def test_deployments_are_kept_apart(make_table: MakeTable) -> None:
    table = make_table()
    assert table.claim(INGEST, "s", "ingest-1", now=T0)
    assert table.claim(GATEWAY, "s", "gateway-1", now=T0), "the same id in another deployment"
    assert table.holder(INGEST, "s").replica == "ingest-1"
    assert table.holder(GATEWAY, "s").replica == "gateway-1"
    table.renew(GATEWAY, "gateway-1", now=T0 + 2, snapshots={"s": {"state": "running"}})
    assert table.placements(INGEST) == {"s": Placement("ingest-1", T0 + LEASE_TTL_S)}
    table.release_all(INGEST, "ingest-1")
    assert table.holder(GATEWAY, "s").live(T0 + 2)
    table.release(GATEWAY, "s", "gateway-1")
    assert table.holder(GATEWAY, "s") is None and table.holder(INGEST, "s") is not None


def test_holders_name_the_replica_of_every_placed_stream(make_table: MakeTable) -> None:
    table = make_table()
    table.claim("FrameIngest", "s1", "a", now=0.0)
    table.claim("FrameIngest", "s2", "b", now=0.0)
    table.claim("StreamGateway", "s1", "c", now=0.0)
    assert sorted(table.holders("FrameIngest")) == ["a", "b"]
