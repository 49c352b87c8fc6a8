"""Gateway replicas in process for the registry and share tests (tests/support)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from serve_app.routing.placement_table import PlacementTable
from serve_app.session.stream_specs import StreamSpecStore
from tests.support.gateway_replica import GatewayReplica

MakeReplica = Callable[..., GatewayReplica]


@pytest.fixture()
async def make_service(tmp_path: Path) -> AsyncIterator[MakeReplica]:
    """A replica over its own stores, or over the ones given (a replica after a restart)."""
    made: list[GatewayReplica] = []

    def make(
        specs: StreamSpecStore | None = None, transcripts: str = "", **settings: Any
    ) -> GatewayReplica:
        n = len(made)
        made.append(
            GatewayReplica(
                tmp_path / (transcripts or f"transcripts-{n}.sqlite"),
                specs or StreamSpecStore(tmp_path / f"streams-{n}.sqlite"),
                PlacementTable(tmp_path / f"placements-{n}.sqlite"),
                replica=f"r{n}",
                **settings,
            )
        )
        return made[-1]

    yield make
    for service in made:
        await service.close()


@pytest.fixture()
def service(make_service: MakeReplica) -> GatewayReplica:
    return make_service()
